package serving

import "net/http"

// ProbesHandler serves the liveness and readiness probes: /healthz runs the
// healthz checks and /readyz the readyz checks, each with a sub-path per
// check, such as /healthz/leaderElection. It panics if a list has two checks
// of one name, or a name that is empty or has a slash.
func ProbesHandler(healthz, readyz []Checker) http.Handler {
	mux := http.NewServeMux()
	newHealthEndpoint("healthz", healthz).register(mux)
	newHealthEndpoint("readyz", readyz).register(mux)
	return mux
}
