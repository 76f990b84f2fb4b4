package serving

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"k8s.io/client-go/tools/leaderelection"
)

// The leader election watchdog must plug into the probes as it is.
var _ Checker = (*leaderelection.HealthzAdaptor)(nil)

func TestNamedCheck(t *testing.T) {
	notSynced := errors.New("informers not synced")
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	var checked *http.Request
	check := NamedCheck("informers", func(r *http.Request) error {
		checked = r
		return notSynced
	})

	if got := check.Name(); got != "informers" {
		t.Errorf("Name() = %q, want %q", got, "informers")
	}
	if err := check.Check(req); err != notSynced {
		t.Errorf("Check() = %v, want the function's error %v", err, notSynced)
	}
	if checked != req {
		t.Error("the function was not given the probe's request")
	}
}
