package serving

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/klog/v2"
)

// stubAuthenticator knows the tokens in users; it fails while err is set.
type stubAuthenticator struct {
	users map[string]string
	err   error
}

func (a *stubAuthenticator) AuthenticateToken(_ context.Context, token string) (authenticationv1.UserInfo, bool, string, error) {
	if a.err != nil {
		return authenticationv1.UserInfo{}, false, "", a.err
	}
	name, ok := a.users[token]
	if !ok {
		return authenticationv1.UserInfo{}, false, "invalid bearer token", nil
	}
	return authenticationv1.UserInfo{Username: name}, true, "", nil
}

// stubAuthorizer allows the requests in allowed, as "user verb path"; it
// fails while err is set.
type stubAuthorizer struct {
	allowed map[string]bool
	err     error
}

func (a *stubAuthorizer) AuthorizePath(_ context.Context, user authenticationv1.UserInfo, verb, path string) (bool, string, error) {
	if a.err != nil {
		return false, "", a.err
	}
	return a.allowed[user.Username+" "+verb+" "+path], "no RBAC policy matched", nil
}

func TestGuard(t *testing.T) {
	authn := &stubAuthenticator{users: map[string]string{"reader-token": "reader", "other-token": "other"}}
	authz := &stubAuthorizer{allowed: map[string]bool{"reader get /metrics": true}}
	handler := WithAuthenticationAndAuthorization(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "the metrics")
	}), authn, authz)

	tests := []struct {
		name          string
		authorization string
		path          string
		authnErr      error
		authzErr      error
		wantCode      int
		wantBody      string
	}{
		{name: "no token", path: "/metrics", wantCode: http.StatusUnauthorized, wantBody: "Unauthorized: send a ServiceAccount token"},
		{name: "another scheme", authorization: "Basic cmVhZGVyOnB3", path: "/metrics", wantCode: http.StatusUnauthorized},
		{name: "empty bearer token", authorization: "Bearer ", path: "/metrics", wantCode: http.StatusUnauthorized},
		{name: "invalid token", authorization: "Bearer forged", path: "/metrics", wantCode: http.StatusUnauthorized,
			wantBody: "Unauthorized: the API server does not accept the token"},
		{name: "a user without the right", authorization: "Bearer other-token", path: "/metrics", wantCode: http.StatusForbidden,
			wantBody: `Forbidden: user "other" may not get path "/metrics"`},
		{name: "the reader on another path", authorization: "Bearer reader-token", path: "/debug/pprof/", wantCode: http.StatusForbidden},
		{name: "the reader", authorization: "Bearer reader-token", path: "/metrics", wantCode: http.StatusOK, wantBody: "the metrics"},
		{name: "the scheme in any case", authorization: "bearer reader-token", path: "/metrics", wantCode: http.StatusOK},
		{name: "TokenReview failing", authorization: "Bearer reader-token", path: "/metrics", authnErr: errors.New("connection refused"),
			wantCode: http.StatusServiceUnavailable, wantBody: "cannot review the token"},
		{name: "SubjectAccessReview failing", authorization: "Bearer reader-token", path: "/metrics", authzErr: errors.New("timeout"),
			wantCode: http.StatusServiceUnavailable, wantBody: "cannot review the request"},
		{name: "no budget for a TokenReview", authorization: "Bearer reader-token", path: "/metrics", authnErr: ErrTooManyReviews,
			wantCode: http.StatusTooManyRequests, wantBody: "Too Many Requests: too many new callers"},
		{name: "no budget for a SubjectAccessReview", authorization: "Bearer reader-token", path: "/metrics",
			authzErr: fmt.Errorf("authorizing: %w", ErrTooManyReviews),
			wantCode: http.StatusTooManyRequests, wantBody: "Too Many Requests: too many new callers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			authn.err, authz.err = tt.authnErr, tt.authzErr
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.authorization != "" {
				req.Header.Set("Authorization", tt.authorization)
			}
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, req)
			if recorder.Code != tt.wantCode || !strings.Contains(recorder.Body.String(), tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d with %q", tt.path, recorder.Code, recorder.Body.String(), tt.wantCode, tt.wantBody)
			}
			if retry := recorder.Header().Get("Retry-After"); (tt.wantCode == http.StatusTooManyRequests) != (retry == "1") {
				t.Errorf("GET %s = %d with Retry-After %q, want Retry-After: 1 with every 429 and only then", tt.path, recorder.Code, retry)
			}
		})
	}
}

// TestGuardLogsARefusedCallerOnce refuses callers over and over: each is
// logged once, and the API server's failures likewise, never the token.
func TestGuardLogsARefusedCallerOnce(t *testing.T) {
	logger, logs := newBufferedLogger(t, 0)
	ctx := klog.NewContext(t.Context(), logger)
	authn := &stubAuthenticator{users: map[string]string{"other-token": "other"}}
	handler := WithAuthenticationAndAuthorization(http.NotFoundHandler(), authn, &stubAuthorizer{})
	get := func(token string) {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		handler.ServeHTTP(httptest.NewRecorder(), req)
	}
	for range 10 {
		get("")
		get("forged-secret")
		get("other-token")
	}
	authn.err = errors.New("connection refused")
	for range 10 {
		get("other-token")
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	want := []string{
		`INFO Refused a request to the metrics server status=401 method="GET" path="/metrics" remote="192.0.2.1:1234" reason="no bearer token"`,
		`INFO Refused a request to the metrics server status=403 method="GET" path="/metrics" remote="192.0.2.1:1234" user="other" groups=null reason="no RBAC policy matched"`,
		`INFO Refused a request to the metrics server status=503 method="GET" path="/metrics" remote="192.0.2.1:1234" err="connection refused"`,
	}
	if len(lines) != len(want) {
		t.Fatalf("the guard logged %d lines, want %d:\n%s", len(lines), len(want), logs.String())
	}
	for i := range want {
		if !strings.HasSuffix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want it to end with %q", i, lines[i], want[i])
		}
	}
	if strings.Contains(logs.String(), "forged-secret") {
		t.Errorf("the log shows a token:\n%s", logs.String())
	}
}
