package harness

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/domac/crddemo/internal/process"
)

// TestStartCrddemoPutsTheCallersFlagsLast runs echo in crddemo's place, to
// see the command line it gets: the ports' flags first, each on a port of
// its own, then the caller's, which therefore win.
func TestStartCrddemoPutsTheCallersFlagsLast(t *testing.T) {
	echo, err := exec.LookPath("echo")
	if err != nil {
		t.Skip("no echo on this machine")
	}
	c, err := StartCrddemo(echo, []string{"--metrics-secure"}, process.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(5 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, got, err := c.WaitForLine(ctx, 0, "--health-probe-bind-address=")
	if err != nil {
		t.Fatalf("echo printed no command line: %v", err)
	}
	want := "--health-probe-bind-address=" + c.Probes + " --metrics-bind-address=" + c.Metrics +
		" --metrics-secure=false --metrics-secure"
	if got != want {
		t.Errorf("command line = %q, want %q", got, want)
	}
	if c.Probes == c.Metrics || !strings.HasPrefix(c.Probes, "127.0.0.1:") {
		t.Errorf("probes on %s and metrics on %s, want two loopback ports", c.Probes, c.Metrics)
	}
}
