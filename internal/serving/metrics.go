package serving

import (
	"net/http"
	"net/http/pprof"

	"k8s.io/component-base/metrics/legacyregistry"
)

// MetricsHandler serves /metrics from component-base's legacy registry,
// where client-go's and component-base's own metrics are registered. With
// profiling it also serves net/http/pprof under /debug/pprof/.
//
// The pprof handlers are registered on this handler's own mux: importing
// net/http/pprof also puts them on http.DefaultServeMux, which crddemo never
// serves, so they are reachable only when profiling is asked for.
func MetricsHandler(profiling bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", legacyregistry.Handler())
	if profiling {
		// Index also serves the named profiles, such as /debug/pprof/heap.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
