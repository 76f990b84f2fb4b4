// Package controlplane gives tests a real etcd and kube-apiserver: it starts
// one per test through internal/controlplane, and skips or fails the test
// when bin/ lacks the binaries.
package controlplane

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"testing"

	"github.com/domac/crddemo/internal/controlplane"
)

// RequireEnv names the environment variable that, set to 1, turns a test's
// skip for missing control-plane binaries into a failure. CI sets it so that
// a broken bin/ cannot pass as a green run with every integration test
// skipped.
const RequireEnv = "CRDDEMO_REQUIRE_CONTROL_PLANE"

// RequireOrSkip returns if bin/ holds every control-plane binary. Otherwise it
// skips the test, naming make test as the way to build them, or fails it if
// RequireEnv is set to 1.
func RequireOrSkip(t testing.TB) {
	t.Helper()
	missing := controlplane.Missing()
	if len(missing) == 0 {
		return
	}
	where := "bin/"
	if dir, err := controlplane.BinDir(); err == nil {
		where = dir
	}
	msg := strings.Join(missing, ", ") + " missing from " + where +
		"; make test builds them (hack/testbin.sh, several minutes the first time)"
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s (failing rather than skipping because %s=1)", msg, RequireEnv)
	}
	t.Skipf("%s; set %s=1 to fail instead of skipping", msg, RequireEnv)
}

// StartForTest calls RequireOrSkip, starts a control plane with opts and
// stops it when the test and its subtests end.
//
// Until then, it also stops the control plane on ShutdownSignals: the test
// binary would otherwise die at once of a Ctrl-C without running any cleanup,
// while etcd and kube-apiserver, outside the terminal's process group, would
// never see it. Once the control plane is stopped, the signal is raised again
// so that the test binary still dies of it.
func StartForTest(t testing.TB, opts ...controlplane.Option) *controlplane.ControlPlane {
	t.Helper()
	RequireOrSkip(t)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, controlplane.ShutdownSignals()...)
	cp, err := controlplane.Start(context.Background(), opts...)
	if err != nil {
		// A signal during Start may be what failed it; now that Start has
		// cleaned up, the test binary dies of it as it would have.
		signal.Stop(signals)
		select {
		case sig := <-signals:
			raise(sig)
		default:
		}
		t.Fatalf("starting the control plane: %v", err)
	}
	done, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case sig := <-signals:
			signal.Stop(signals)
			_ = cp.Stop()
			raise(sig)
		case <-done:
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-watched
		signal.Stop(signals)
		if err := cp.Stop(); err != nil {
			t.Errorf("stopping the control plane: %v", err)
		}
		// A signal that came as the test ended has waited for the stop.
		select {
		case sig := <-signals:
			raise(sig)
		default:
		}
	})
	return cp
}

// raise sends sig to this process. Called once sig is no longer caught, it
// kills the process as sig would have in the first place.
func raise(sig os.Signal) {
	if self, err := os.FindProcess(os.Getpid()); err == nil {
		_ = self.Signal(sig)
	}
}
