package serving

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"k8s.io/klog/v2"
)

// guard lets a request through to its handler only if the API server says
// that its bearer token is valid (401 otherwise) and that the token's user
// may use the request's verb on its path (403 otherwise), as
// kube-controller-manager guards its /metrics.
type guard struct {
	handler       http.Handler
	authenticator TokenAuthenticator
	authorizer    PathAuthorizer
	refusals      *refusalLog
}

// WithAuthenticationAndAuthorization guards handler with authenticator and
// authorizer. A refused caller is logged once, then once every few minutes
// while it keeps being refused; so is a review that fails, which answers
// 503, and one that its budget does not admit, which answers 429.
func WithAuthenticationAndAuthorization(handler http.Handler, authenticator TokenAuthenticator, authorizer PathAuthorizer) http.Handler {
	return &guard{handler: handler, authenticator: authenticator, authorizer: authorizer, refusals: newRefusalLog(time.Now)}
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token, found := bearerToken(r)
	if !found {
		g.refuse(w, r, http.StatusUnauthorized, "unauthenticated "+remoteHost(r),
			"Unauthorized: send a ServiceAccount token as Authorization: Bearer TOKEN", "reason", "no bearer token")
		return
	}
	user, ok, reason, err := g.authenticator.AuthenticateToken(ctx, token)
	if errors.Is(err, ErrTooManyReviews) {
		g.tooManyReviews(w, r, "TokenReviews", err)
		return
	}
	if err != nil {
		g.refuse(w, r, http.StatusServiceUnavailable, "authentication error",
			"Service Unavailable: cannot review the token with the API server", "err", err)
		return
	}
	if !ok {
		g.refuse(w, r, http.StatusUnauthorized, "unauthenticated "+remoteHost(r),
			"Unauthorized: the API server does not accept the token", "reason", reason)
		return
	}
	// The verb is the request's method in lower case, as the API server
	// names it for paths that are not resources: get for GET.
	verb := strings.ToLower(r.Method)
	allowed, reason, err := g.authorizer.AuthorizePath(ctx, user, verb, r.URL.Path)
	if errors.Is(err, ErrTooManyReviews) {
		g.tooManyReviews(w, r, "SubjectAccessReviews", err)
		return
	}
	if err != nil {
		g.refuse(w, r, http.StatusServiceUnavailable, "authorization error",
			"Service Unavailable: cannot review the request with the API server", "user", user.Username, "err", err)
		return
	}
	if !allowed {
		g.refuse(w, r, http.StatusForbidden, "forbidden "+user.Username,
			fmt.Sprintf("Forbidden: user %q may not %s path %q", user.Username, verb, r.URL.Path),
			"user", user.Username, "groups", user.Groups, "reason", reason)
		return
	}
	g.handler.ServeHTTP(w, r)
}

// tooManyReviews answers 429 to a caller whose review the budget for new
// questions does not admit now, with a Retry-After that Prometheus and
// client-go honour. The refusals of every caller share one log line, since
// a flood of strangers is what spends the budget.
func (g *guard) tooManyReviews(w http.ResponseWriter, r *http.Request, reviews string, err error) {
	w.Header().Set("Retry-After", "1")
	g.refuse(w, r, http.StatusTooManyRequests, "too many "+reviews,
		"Too Many Requests: too many new callers to review with the API server; try again in a second",
		"reviews", reviews, "err", err)
}

// refuse answers code with message and logs why, unless the caller, named
// by logKey, was logged recently.
func (g *guard) refuse(w http.ResponseWriter, r *http.Request, code int, logKey, message string, keysAndValues ...any) {
	if log, unlogged := g.refusals.record(logKey); log {
		keysAndValues = append([]any{"status", code, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr}, keysAndValues...)
		if unlogged > 0 {
			keysAndValues = append(keysAndValues, "refusedSinceLastLog", unlogged)
		}
		klog.FromContext(r.Context()).Info("Refused a request to the metrics server", keysAndValues...)
	}
	http.Error(w, message, code)
}

// bearerToken returns the token of an Authorization: Bearer header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	return token, found && strings.EqualFold(scheme, "Bearer") && token != ""
}

// remoteHost is the caller's address without its port.
func remoteHost(r *http.Request) string {
	return addressHost(r.RemoteAddr)
}
