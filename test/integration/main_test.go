// Package integration runs crddemo against a real kube-apiserver and etcd,
// built into bin/ by make testbin. `make test` runs it; plain `go test ./...`
// skips the tests that need the control plane when bin/ is empty.
package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/process"
)

// binaryEnv names the crddemo binary under test; make test sets it to
// releases/crddemo. Without it, the tests build their own copy.
const binaryEnv = "CRDDEMO_BINARY"

// waitTimeout bounds every wait for the controller or the API server. The
// reflector backs off up to 30 s between list attempts while the CRD is
// missing, so anything shorter would make the walkthrough flaky.
const waitTimeout = 90 * time.Second

// pollInterval is how often a test looks again at the state it waits for.
const pollInterval = harness.PollInterval

var crddemoBinary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	crddemoBinary = os.Getenv(binaryEnv)
	if crddemoBinary == "" {
		dir, err := os.MkdirTemp("", "crddemo-integration-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		crddemoBinary = filepath.Join(dir, "crddemo")
		build := exec.Command("go", "build", "-o", crddemoBinary, "github.com/domac/crddemo")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building crddemo: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

// repoFile returns the path of a file in the repository, such as
// crd/mydemo.yaml.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	root, err := controlplane.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, name)
}

// crddemoProcess is the crddemo binary running as a child of a test.
type crddemoProcess struct {
	*harness.Crddemo
}

// startCrddemo runs the crddemo binary with args, and env as its environment
// unless env is nil, as harness.StartCrddemo does, and stops it, if it is
// still running, when the test ends. A test of the secure metrics passes
// --metrics-secure, which comes later and so wins. Its output is logged if
// the test fails, or with go test -v.
func startCrddemo(t *testing.T, env []string, args ...string) *crddemoProcess {
	t.Helper()
	c, err := harness.StartCrddemo(crddemoBinary, args, process.Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Stop(waitTimeout)
		if t.Failed() || testing.Verbose() {
			t.Logf("crddemo output:\n%s", c.Output())
		}
	})
	return &crddemoProcess{Crddemo: c}
}

func freeAddress(t *testing.T) string {
	t.Helper()
	addr, err := harness.FreeLocalAddress()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// waitReady waits until crddemo's /readyz passes.
func (p *crddemoProcess) waitReady(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := harness.WaitReady(ctx, p.Probes); err != nil {
		t.Fatal(err)
	}
}

// waitMetrics waits until crddemo's /metrics satisfy cond, which what
// describes for the failure message.
func (p *crddemoProcess) waitMetrics(t *testing.T, what string, cond func(harness.Metrics) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		m, err := harness.Scrape(ctx, p.Metrics)
		return err == nil && cond(m), nil
	})
	if err != nil {
		t.Fatalf("waiting until %s: %v", what, err)
	}
}

// waitForLog waits until crddemo has logged a line containing every one of
// parts, and returns that line.
func (p *crddemoProcess) waitForLog(t *testing.T, parts ...string) string {
	t.Helper()
	_, line := p.waitForLogFrom(t, 0, parts...)
	return line
}

// waitForLogFrom waits for such a line from the from-th line on, and returns
// its index and text.
func (p *crddemoProcess) waitForLogFrom(t *testing.T, from int, parts ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	i, line, err := p.WaitForLine(ctx, from, parts...)
	if err != nil {
		t.Fatalf("waiting for crddemo to log a line containing %q: %v", parts, err)
	}
	return i, line
}

// stop sends SIGTERM and returns the exit code.
func (p *crddemoProcess) stop(t *testing.T) int {
	t.Helper()
	state := p.Stop(waitTimeout)
	if !state.Exited() {
		t.Fatalf("crddemo did not exit by itself within %v of SIGTERM: %v", waitTimeout, state)
	}
	return state.ExitCode()
}
