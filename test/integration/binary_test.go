package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/wait"
	certutil "k8s.io/client-go/util/cert"

	"github.com/domac/crddemo/internal/harness"
)

// TestBadInputIsOneReadableError runs the binary with command lines and
// kubeconfigs that cannot work: each must end it at once with one error line
// that names the problem, and never a panic.
func TestBadInputIsOneReadableError(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("not: [a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile, otherKeyFile := writeMismatchedKeyPair(t)
	withToken := filepath.Join(t.TempDir(), "with-token")
	if err := os.WriteFile(withToken, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: a-secret}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	// Enough to start with: an API server address, to which nothing
	// connects before the failure, and no probes, whose default port may be
	// taken on a shared machine.
	serve := []string{"--master=https://127.0.0.1:1", "--health-probe-bind-address=0"}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown flag", []string{"--bogus"}, 2, "crddemo: flag provided but not defined: -bogus"},
		{"bad worker count", []string{"--workers=-3"}, 2, "crddemo: --workers must be at least 1, got -3"},
		{"NaN qps", []string{"--kube-api-qps=NaN"}, 2, "crddemo: --kube-api-qps must be a positive number, got NaN"},
		{"bad duration", []string{"--resync-period=soon"}, 2, `crddemo: invalid value "soon" for flag -resync-period`},
		{"unparsable master", []string{"--master=::::"}, 2, `crddemo: --master="::::" is not an API server address`},
		{"bad bind address", []string{"--metrics-bind-address=8080"}, 2, "crddemo: --metrics-bind-address: "},
		{"unknown logging format", []string{"--logging-format=xml"}, 2, `crddemo: --logging-format must be text or json, got "xml"`},
		{"renew deadline not shorter than the lease", []string{"--leader-elect", "--leader-elect-renew-deadline=20s"}, 2,
			"crddemo: --leader-elect-renew-deadline=20s: must be shorter than --leader-elect-lease-duration (15s)"},
		{"JSON logs with a klog-only flag", []string{"--logging-format=json", "--log_file=/tmp/x"}, 2,
			"crddemo: --logging-format=json ignores -log_file, which only the text format honours"},
		{"profiles over plain HTTP on every address", []string{"--metrics-bind-address=:0", "--metrics-secure=false", "--profiling"}, 2,
			"crddemo: --profiling with --metrics-secure=false serves Go's profiles over plain HTTP to anyone: " +
				"bind --metrics-bind-address to loopback (127.0.0.1:8080, not :0) or keep --metrics-secure (see crddemo --help)"},
		{"a lease duration that is not whole seconds", []string{"--leader-elect", "--leader-elect-lease-duration=1500ms",
			"--leader-elect-renew-deadline=1s", "--leader-elect-retry-period=200ms"}, 2,
			"crddemo: --leader-elect-lease-duration=1.5s: must be whole seconds, as a Lease counts them (use 1s or 2s)"},
		{"a plain-HTTP --master for a kubeconfig's token", []string{"--kubeconfig=" + withToken, "--master=http://127.0.0.1:1", "--health-probe-bind-address=0"}, 2,
			`crddemo: --master="http://127.0.0.1:1" is plain HTTP, over which client-go leaves out the credentials of ` +
				`the kubeconfig's user "u", so every request would be anonymous: use https (see crddemo --help)`},
		{"missing kubeconfig", []string{"--kubeconfig=/no/such/kubeconfig"}, 1,
			"crddemo: loading kubeconfig: stat /no/such/kubeconfig: no such file or directory"},
		{"unparsable kubeconfig", []string{"--kubeconfig=" + garbage}, 1,
			`crddemo: loading kubeconfig: error loading config file "` + garbage + `"`},
		{"no configuration anywhere", nil, 1, "crddemo: no Kubernetes configuration found"},
		{"a certificate without its key", []string{"--metrics-bind-address=:8443", "--tls-cert-file=" + certFile}, 2,
			"crddemo: --tls-cert-file needs --tls-private-key-file, its key"},
		{"an unreadable certificate", append([]string{"--metrics-bind-address=127.0.0.1:0",
			"--tls-cert-file=/no/such/tls.crt", "--tls-private-key-file=/no/such/tls.key"}, serve...), 1,
			"crddemo: loading the metrics server's certificate: reading the serving certificate: open /no/such/tls.crt: no such file or directory"},
		{"a key that does not match the certificate", append([]string{"--metrics-bind-address=127.0.0.1:0",
			"--tls-cert-file=" + certFile, "--tls-private-key-file=" + otherKeyFile}, serve...), 1,
			fmt.Sprintf("crddemo: loading the metrics server's certificate: using the certificate %s with the key %s: "+
				"tls: private key does not match public key", certFile, otherKeyFile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Bounded, so that a command line accepted by mistake, which
			// would run until stopped, fails the test rather than hangs it.
			ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, crddemoBinary, tt.args...)
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

// writeMismatchedKeyPair writes a certificate, and the key of another one.
func writeMismatchedKeyPair(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "other.key")
	cert, _, err := certutil.GenerateSelfSignedCertKey("crddemo.example", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := certutil.GenerateSelfSignedCertKey("other.example", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, otherKey, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestVersion prints the version stamped at build time and the client-go
// release, and exits 0 without looking for a cluster.
func TestVersion(t *testing.T) {
	cmd := exec.Command(crddemoBinary, "--version")
	cmd.Env = isolatedEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("crddemo --version: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`^crddemo \S+ \(client-go v0\.\d+\.\d+, go1\.\S+, \w+/\w+\)\n$`).Match(out) {
		t.Errorf("crddemo --version printed %q, want crddemo VERSION (client-go vX.Y.Z, goX.Y, os/arch)", out)
	}
}

// TestJSONLogging asks for the logs API's JSON format: every line crddemo
// logs is then one JSON object.
func TestJSONLogging(t *testing.T) {
	crddemo := startCrddemo(t, isolatedEnv(t), "--master=https://127.0.0.1:1", "--logging-format=json")
	line := crddemo.waitForLog(t, `"msg":"Cannot reach the Kubernetes API server; will keep retrying"`)
	var entry map[string]any
	if err := json.Unmarshal([]byte(line), &entry); err != nil || entry["host"] != "https://127.0.0.1:1" {
		t.Errorf("log line %q is not a JSON object with the host: %v", line, err)
	}
	if code := crddemo.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	for _, line := range strings.Split(strings.TrimSpace(crddemo.Output()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not a JSON line: %q", line)
		}
	}
}

// TestUnreachableAPIServerIsRetried points crddemo at a port where nothing
// listens: it must say so, stay unready and keep retrying, and still stop
// cleanly.
func TestUnreachableAPIServerIsRetried(t *testing.T) {
	crddemo := startCrddemo(t, isolatedEnv(t), "--master=https://127.0.0.1:1")
	crddemo.waitForLog(t, "Cannot reach the Kubernetes API server; will keep retrying", "connection refused")

	// The open probe port names the failed check, not the API server's URL.
	for _, path := range []string{"/readyz", "/readyz?verbose", "/readyz/mydemo-api?verbose"} {
		if code, body := getWhenServing(t, crddemo.Probes, path); code != http.StatusInternalServerError ||
			!strings.Contains(body, "[-]mydemo-api failed: reason withheld") || strings.Contains(body, "127.0.0.1:1") {
			t.Errorf("%s = %d %q, want 500 naming the mydemo-api check without its reason", path, code, body)
		}
	}
	// Failed requests are counted with code "<error>": their number grows
	// while crddemo keeps trying.
	failed := func() float64 {
		m, err := harness.Scrape(t.Context(), crddemo.Metrics)
		if err != nil {
			t.Fatal(err)
		}
		return m.Sum("rest_client_requests_total", map[string]string{"code": "<error>"})
	}
	before := failed()
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(context.Context) (bool, error) {
		return failed() > before, nil
	})
	if err != nil {
		t.Errorf("crddemo stopped retrying: %v failed requests, and no more", before)
	}

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
