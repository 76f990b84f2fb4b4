package serving

import (
	"fmt"
	"net/http"
	"strings"

	"k8s.io/klog/v2"
)

// healthEndpoint answers one kind of probe, such as /healthz, by running its
// checks in order, the way kube-apiserver answers its own probes.
type healthEndpoint struct {
	// kind is both the path and the word in the last line of a report:
	// "healthz" or "readyz".
	kind   string
	checks []Checker
}

// newHealthEndpoint panics if two checks share a name or a name is empty or
// has a slash, since such a check could not have a sub-path of its own; that
// is a programming error, like registering one pattern twice on a ServeMux.
func newHealthEndpoint(kind string, checks []Checker) healthEndpoint {
	seen := make(map[string]bool, len(checks))
	for _, check := range checks {
		name := check.Name()
		if name == "" || strings.Contains(name, "/") || seen[name] {
			panic(fmt.Sprintf("serving: /%s check name %q is empty, has a slash or is used twice", kind, name))
		}
		seen[name] = true
	}
	return healthEndpoint{kind: kind, checks: checks}
}

// register serves the endpoint on mux at /kind, which runs every check, and
// at /kind/NAME, which runs only the check of that name.
func (e healthEndpoint) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /"+e.kind, func(w http.ResponseWriter, r *http.Request) {
		e.report(w, r, e.checks)
	})
	mux.HandleFunc("GET /"+e.kind+"/{check}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("check")
		for _, check := range e.checks {
			if check.Name() == name {
				e.report(w, r, []Checker{check})
				return
			}
		}
		http.NotFound(w, r)
	})
}

// report runs checks and answers 200 "ok" if they all pass, or 500 with a
// line per check that names the ones that failed. With ?verbose it lists
// every check on success too, for a person looking at a healthy component.
//
// The reasons are logged, never answered, as kube-apiserver withholds them:
// the probe port is open to every caller in the cluster, without a token,
// and a reason such as the API server's URL or the ServiceAccount crddemo
// runs as tells an attacker what to try next. The kubelet needs only the
// status code; a person reads the reason in the log (the mydemo-api check's
// problem at the default level, see apihealth.go).
func (e healthEndpoint) report(w http.ResponseWriter, r *http.Request, checks []Checker) {
	var lines strings.Builder
	failed := false
	for _, check := range checks {
		err := check.Check(r)
		if err == nil {
			fmt.Fprintf(&lines, "[+]%s ok\n", check.Name())
			continue
		}
		failed = true
		fmt.Fprintf(&lines, "[-]%s failed: reason withheld\n", check.Name())
		// Probes come every few seconds, so a lasting failure would flood
		// the default log level; the 500 already tells the prober.
		klog.FromContext(r.Context()).V(2).Info("Health check failed", "endpoint", e.kind, "check", check.Name(), "err", err)
	}

	header := w.Header()
	header.Set("Content-Type", "text/plain; charset=utf-8")
	header.Set("X-Content-Type-Options", "nosniff")
	// A cached answer would hide a change of health from the prober.
	header.Set("Cache-Control", "no-cache, private")
	switch {
	case failed:
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s%s check failed\n", lines.String(), e.kind)
	case r.URL.Query().Has("verbose"):
		fmt.Fprintf(w, "%s%s check passed\n", lines.String(), e.kind)
	default:
		fmt.Fprint(w, "ok")
	}
}
