package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputIsOneReadableError runs the binary with command lines and
// kubeconfigs that cannot work: each must end it at once with one error line
// that names the problem, and never a panic.
func TestBadInputIsOneReadableError(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown flag", []string{"--bogus"}, 2, "crddemo: flag provided but not defined: -bogus"},
		{"bad worker count", []string{"--workers=-3"}, 2, "crddemo: --workers must be at least 1, got -3"},
		{"missing kubeconfig", []string{"--kubeconfig=/no/such/kubeconfig"}, 1,
			"crddemo: loading kubeconfig: stat /no/such/kubeconfig: no such file or directory"},
		{"unparsable kubeconfig", []string{"--kubeconfig=" + garbage}, 1,
			`crddemo: loading kubeconfig: error loading config file "` + garbage + `"`},
		{"no configuration anywhere", nil, 1, "crddemo: no Kubernetes configuration found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(crddemoBinary, tt.args...)
			cmd.Env = isolatedEnv(t)
			var stderr strings.Builder
			cmd.Stderr = &stderr

			err := cmd.Run()

			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Errorf("exit code = %d (%v), want %d", code, err, tt.wantCode)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tt.wantErr) {
				t.Errorf("stderr = %q, want one line starting %q", stderr.String(), tt.wantErr)
			}
		})
	}
}

// TestUnreachableAPIServerIsRetried points crddemo at a port where nothing
// listens: it must say so, keep retrying, and still stop cleanly.
func TestUnreachableAPIServerIsRetried(t *testing.T) {
	crddemo := startCrddemo(t, isolatedEnv(t), "--master=https://127.0.0.1:1")

	// A second report, after a backoff, shows that crddemo keeps retrying.
	first, _ := crddemo.waitForLogFrom(t, 0, "Cannot reach the Kubernetes API server; will keep retrying", "connection refused")
	crddemo.waitForLogFrom(t, first+1, "Cannot reach the Kubernetes API server; will keep retrying", "connection refused")

	if code := crddemo.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

// isolatedEnv is the test's environment without any kubeconfig or
// in-cluster configuration that the machine may have.
func isolatedEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") &&
			!strings.HasPrefix(kv, "KUBERNETES_SERVICE_") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+t.TempDir())
}
