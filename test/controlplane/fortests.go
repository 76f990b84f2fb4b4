package controlplane

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// RequireEnv names the environment variable that, set to 1, turns a test's
// skip for missing control-plane binaries into a failure. CI sets it so that
// a broken bin/ cannot pass as a green run with every integration test
// skipped.
const RequireEnv = "CRDDEMO_REQUIRE_CONTROL_PLANE"

// TB is the part of testing.TB that this package uses. Taking it instead of
// testing.TB keeps the testing package out of hack/demo and
// hack/local-cluster, which import this package too; *testing.T and
// *testing.B satisfy it.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// RequireOrSkip returns if bin/ holds every control-plane binary. Otherwise it
// skips the test, naming make test as the way to build them, or fails it if
// RequireEnv is set to 1.
func RequireOrSkip(t TB) {
	t.Helper()
	missing := Missing()
	if len(missing) == 0 {
		return
	}
	where := "bin/"
	if dir, err := BinDir(); err == nil {
		where = dir
	}
	msg := strings.Join(missing, ", ") + " missing from " + where +
		"; make test builds them (hack/testbin.sh, several minutes the first time)"
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (failing rather than skipping because %s=1)", msg, RequireEnv)
	}
	t.Skipf("%s; set %s=1 to fail instead of skipping", msg, RequireEnv)
}

// StartForTest calls RequireOrSkip, starts a control plane and stops it when
// the test and its subtests end.
//
// Until then, it also stops the control plane on SIGINT, SIGTERM or SIGHUP
// (the terminal closing): the test binary would otherwise die at once of a
// Ctrl-C without running any cleanup, while etcd and kube-apiserver, outside
// the terminal's process group, would never see it. Once the control plane is
// stopped, the signal is raised again so that the test binary still dies of
// it.
func StartForTest(t TB) *ControlPlane {
	t.Helper()
	RequireOrSkip(t)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	cp, err := Start(context.Background())
	if err != nil {
		signal.Stop(signals)
		t.Fatalf("starting the control plane: %v", err)
	}
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-signals:
			signal.Stop(signals)
			_ = cp.Stop()
			if self, err := os.FindProcess(os.Getpid()); err == nil {
				_ = self.Signal(sig)
			}
		case <-done:
		}
	}()
	t.Cleanup(func() {
		signal.Stop(signals)
		close(done)
		if err := cp.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
	})
	return cp
}
