package serving

import "net/http"

// Checker is one named health check behind /healthz or /readyz. It has the
// shape of client-go's leaderelection.HealthzAdaptor, so the leader
// election watchdog is a Checker as it is.
type Checker interface {
	// Name names the check in probe responses and in its own sub-path, such
	// as /healthz/leaderElection; it must not contain a slash.
	Name() string
	// Check returns why the component is unhealthy, or nil if it is not.
	Check(req *http.Request) error
}

// namedCheck is a Checker made of a name and a function.
type namedCheck struct {
	name  string
	check func(*http.Request) error
}

// NamedCheck makes a Checker of a function, for checks that need no type of
// their own.
func NamedCheck(name string, check func(*http.Request) error) Checker {
	return namedCheck{name: name, check: check}
}

func (c namedCheck) Name() string { return c.name }

func (c namedCheck) Check(req *http.Request) error { return c.check(req) }
