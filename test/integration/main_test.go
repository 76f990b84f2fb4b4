// Package integration runs crddemo against a real kube-apiserver and etcd,
// built into bin/ by make testbin. `make test` runs it; plain `go test ./...`
// skips the tests that need the control plane when bin/ is empty.
package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/domac/crddemo/test/controlplane"
)

// binaryEnv names the crddemo binary under test; make test sets it to
// releases/crddemo. Without it, the tests build their own copy.
const binaryEnv = "CRDDEMO_BINARY"

// waitTimeout bounds every wait for the controller or the API server. The
// reflector backs off up to 30 s between list attempts while the CRD is
// missing, so anything shorter would make the walkthrough flaky.
const waitTimeout = 90 * time.Second

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

// syncBuffer collects a process's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// crddemoProcess is the crddemo binary running as a child of the test.
type crddemoProcess struct {
	cmd    *exec.Cmd
	output *syncBuffer
	exited chan struct{}
}

// startCrddemo runs the crddemo binary with args, and env as its environment
// unless env is nil, and kills it, if it is still running, when the test ends. Its output is logged if the test fails, or with go test -v.
func startCrddemo(t *testing.T, env []string, args ...string) *crddemoProcess {
	t.Helper()
	p := &crddemoProcess{cmd: exec.Command(crddemoBinary, args...), output: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", crddemoBinary, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() || testing.Verbose() {
			t.Logf("crddemo output:\n%s", p.output.String())
		}
	})
	return p
}

// waitForLog waits until the process has written a line containing every
// one of parts, and returns that line.
func (p *crddemoProcess) waitForLog(t *testing.T, parts ...string) string {
	t.Helper()
	return p.waitForLogs(t, 1, parts...)
}

// waitForLogs waits until the process has written n lines containing every
// one of parts, and returns the last of them.
func (p *crddemoProcess) waitForLogs(t *testing.T, n int, parts ...string) string {
	t.Helper()
	var found []string
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, waitTimeout, true,
		func(context.Context) (bool, error) {
			found = matchingLines(p.output.String(), parts...)
			return len(found) >= n, nil
		})
	if err != nil {
		t.Fatalf("crddemo logged %d lines containing %q, want %d", len(found), parts, n)
	}
	return found[n-1]
}

// matchingLines returns the lines of text that contain every one of parts.
func matchingLines(text string, parts ...string) []string {
	var found []string
	for line := range strings.Lines(text) {
		matches := true
		for _, part := range parts {
			matches = matches && strings.Contains(line, part)
		}
		if matches {
			found = append(found, line)
		}
	}
	return found
}

// stop sends SIGTERM and returns the exit code.
func (p *crddemoProcess) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("sending SIGTERM to crddemo: %v", err)
	}
	select {
	case <-p.exited:
	case <-time.After(waitTimeout):
		t.Fatalf("crddemo did not exit within %v of SIGTERM", waitTimeout)
	}
	return p.cmd.ProcessState.ExitCode()
}
