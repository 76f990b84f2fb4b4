package serving

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
)

// newBufferedLogger returns a logger at the given verbosity whose entries
// the test can read back.
func newBufferedLogger(t *testing.T, verbosity int) (klog.Logger, ktesting.Buffer) {
	t.Helper()
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.Verbosity(verbosity), ktesting.BufferLogs(true)))
	return logger, logger.GetSink().(ktesting.Underlier).GetBuffer()
}

// serveHealth runs one request against a /healthz endpoint whose "informers"
// check passes and whose "apiserver" check fails with "connection refused".
func serveHealth(t *testing.T, ctx context.Context, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	newHealthEndpoint("healthz", []Checker{
		NamedCheck("informers", func(*http.Request) error { return nil }),
		NamedCheck("apiserver", func(*http.Request) error { return errors.New("connection refused") }),
	}).register(mux)
	recorder := httptest.NewRecorder()
	mux.ServeHTTP(recorder, httptest.NewRequestWithContext(ctx, method, target, nil))
	return recorder
}

func TestHealthEndpointResponses(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		target   string
		wantCode int
		wantBody string
	}{
		{
			name: "all checks, one failing", method: http.MethodGet, target: "/healthz",
			wantCode: http.StatusInternalServerError,
			wantBody: "[+]informers ok\n[-]apiserver failed: reason withheld\nhealthz check failed\n",
		},
		{
			name: "verbose makes no difference to a failure", method: http.MethodGet, target: "/healthz?verbose",
			wantCode: http.StatusInternalServerError,
			wantBody: "[+]informers ok\n[-]apiserver failed: reason withheld\nhealthz check failed\n",
		},
		{
			name: "the passing check alone", method: http.MethodGet, target: "/healthz/informers",
			wantCode: http.StatusOK, wantBody: "ok",
		},
		{
			name: "the passing check alone, verbose", method: http.MethodGet, target: "/healthz/informers?verbose=1",
			wantCode: http.StatusOK, wantBody: "[+]informers ok\nhealthz check passed\n",
		},
		{
			name: "the failing check alone", method: http.MethodGet, target: "/healthz/apiserver",
			wantCode: http.StatusInternalServerError,
			wantBody: "[-]apiserver failed: reason withheld\nhealthz check failed\n",
		},
		{
			name: "HEAD is served like GET", method: http.MethodHead, target: "/healthz/informers",
			wantCode: http.StatusOK, wantBody: "ok",
		},
		{
			name: "an unknown check", method: http.MethodGet, target: "/healthz/etcd",
			wantCode: http.StatusNotFound, wantBody: "404 page not found\n",
		},
		{
			name: "no check name after the slash", method: http.MethodGet, target: "/healthz/",
			wantCode: http.StatusNotFound, wantBody: "404 page not found\n",
		},
		{
			name: "a check name with more path", method: http.MethodGet, target: "/healthz/informers/more",
			wantCode: http.StatusNotFound, wantBody: "404 page not found\n",
		},
		{
			name: "not a probe's method", method: http.MethodPost, target: "/healthz",
			wantCode: http.StatusMethodNotAllowed, wantBody: "Method Not Allowed\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recorder := serveHealth(t, t.Context(), tt.method, tt.target)
			if recorder.Code != tt.wantCode || recorder.Body.String() != tt.wantBody {
				t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.target,
					recorder.Code, recorder.Body.String(), tt.wantCode, tt.wantBody)
			}
		})
	}
}

func TestHealthEndpointPassing(t *testing.T) {
	mux := http.NewServeMux()
	newHealthEndpoint("readyz", []Checker{
		NamedCheck("informers", func(*http.Request) error { return nil }),
		NamedCheck("leaderElection", func(*http.Request) error { return nil }),
	}).register(mux)

	for target, want := range map[string]string{
		"/readyz":         "ok",
		"/readyz?verbose": "[+]informers ok\n[+]leaderElection ok\nreadyz check passed\n",
	} {
		recorder := httptest.NewRecorder()
		mux.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, target, nil))
		if recorder.Code != http.StatusOK || recorder.Body.String() != want {
			t.Errorf("GET %s = %d %q, want 200 %q", target, recorder.Code, recorder.Body.String(), want)
		}
	}
}

func TestHealthEndpointHeaders(t *testing.T) {
	for _, target := range []string{"/healthz", "/healthz/informers"} {
		header := serveHealth(t, t.Context(), http.MethodGet, target).Header()
		for key, want := range map[string]string{
			"Content-Type":           "text/plain; charset=utf-8",
			"Cache-Control":          "no-cache, private",
			"X-Content-Type-Options": "nosniff",
		} {
			if got := header.Get(key); got != want {
				t.Errorf("GET %s: %s = %q, want %q", target, key, got, want)
			}
		}
	}
}

func TestHealthEndpointLogsFailuresAtV2(t *testing.T) {
	quiet, quietLog := newBufferedLogger(t, 1)
	serveHealth(t, klog.NewContext(t.Context(), quiet), http.MethodGet, "/healthz")
	if entries := quietLog.Data(); len(entries) != 0 {
		t.Errorf("at verbosity 1 a failing probe logged %d entries, want none: %s", len(entries), quietLog.String())
	}

	verbose, verboseLog := newBufferedLogger(t, 2)
	serveHealth(t, klog.NewContext(t.Context(), verbose), http.MethodGet, "/healthz")
	entries := verboseLog.Data()
	if len(entries) != 1 {
		t.Fatalf("at verbosity 2 a probe with one failing check logged %d entries, want 1: %s", len(entries), verboseLog.String())
	}
	want := []any{"endpoint", "healthz", "check", "apiserver", "err", "connection refused"}
	entry := entries[0]
	if entry.Message != "Health check failed" || entry.Verbosity != 2 || len(entry.ParameterKVList) != len(want) {
		t.Fatalf("logged %s, want a V(2) %q entry with %v", verboseLog.String(), "Health check failed", want)
	}
	for i, value := range entry.ParameterKVList {
		if err, ok := value.(error); ok {
			value = err.Error()
		}
		if value != want[i] {
			t.Errorf("logged key/values %v, want %v", entry.ParameterKVList, want)
			break
		}
	}
}

func TestNewHealthEndpointRefusesUnreachableNames(t *testing.T) {
	pass := func(*http.Request) error { return nil }
	tests := map[string][]Checker{
		"a name used twice": {NamedCheck("informers", pass), NamedCheck("informers", pass)},
		"an empty name":     {NamedCheck("", pass)},
		"a name with slash": {NamedCheck("api/server", pass)},
	}
	for name, checks := range tests {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("newHealthEndpoint accepted the checks, want a panic")
				}
			}()
			newHealthEndpoint("healthz", checks)
		})
	}
}
