package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testKubeconfig is a valid kubeconfig with a token, for the server
// https://kubeconfig.example:6443.
var testKubeconfig = string(fuzzKubeconfig("https://kubeconfig.example:6443", "      token: secret\n"))

func TestLoadRESTConfig(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	if err := os.WriteFile(kubeconfig, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("not a kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		opts      options
		envConfig string // $KUBECONFIG
		wantHost  string
		wantErr   string
	}{
		{name: "--kubeconfig", opts: options{kubeconfig: kubeconfig}, wantHost: "https://kubeconfig.example:6443"},
		{name: "$KUBECONFIG", envConfig: kubeconfig, wantHost: "https://kubeconfig.example:6443"},
		{
			name:     "--master overrides the kubeconfig's server",
			opts:     options{kubeconfig: kubeconfig, master: "https://10.0.0.1:6443"},
			wantHost: "https://10.0.0.1:6443",
		},
		{name: "--master alone", opts: options{master: "https://10.0.0.1:6443"}, wantHost: "https://10.0.0.1:6443"},
		{name: "missing file", opts: options{kubeconfig: filepath.Join(dir, "nope")}, wantErr: "loading kubeconfig: stat " + filepath.Join(dir, "nope")},
		{name: "unparsable file", opts: options{kubeconfig: garbage}, wantErr: "loading kubeconfig: error loading config file \"" + garbage + "\""},
		{name: "nothing at all", wantErr: "no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateKubeconfig(t)
			if tt.envConfig != "" {
				t.Setenv("KUBECONFIG", tt.envConfig)
			}
			tt.opts.kubeAPIQPS, tt.opts.kubeAPIBurst = 7, 9

			config, err := loadRESTConfig(&tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if !strings.HasPrefix(config.UserAgent, "crddemo/") {
				t.Errorf("user agent = %q, want crddemo/VERSION", config.UserAgent)
			}
			if config.RateLimiter == nil || config.RateLimiter.QPS() != 7 {
				t.Errorf("rate limiter = %v, want one shared bucket of 7 qps for all of crddemo's clients", config.RateLimiter)
			}
			if config.Host != tt.wantHost || config.QPS != 7 || config.Burst != 9 {
				t.Errorf("host, qps, burst = %s, %v, %d; want %s, 7, 9", config.Host, config.QPS, config.Burst, tt.wantHost)
			}
		})
	}
}

func TestLeaseNamespace(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	if got := leaseNamespace("from-flag"); got != "from-flag" {
		t.Errorf("with the flag set: %q, want from-flag", got)
	}
	if _, err := os.Stat(inClusterNamespaceFile); err == nil {
		t.Skipf("%s exists: this test runs in a pod, where the fallback is not default", inClusterNamespaceFile)
	}
	if got := leaseNamespace(""); got != "default" {
		t.Errorf("outside a cluster: %q, want default", got)
	}
	t.Setenv("POD_NAMESPACE", "crddemo-system")
	if got := leaseNamespace(""); got != "crddemo-system" {
		t.Errorf("with POD_NAMESPACE set: %q, want crddemo-system", got)
	}
}

// isolateKubeconfig keeps loadRESTConfig away from the machine's own
// kubeconfig and cluster for the rest of tb: $KUBECONFIG names a file that
// does not exist, which clientcmd skips, and there is no in-cluster config.
// $KUBECONFIG is what counts: clientcmd reads $HOME once, when it starts.
func isolateKubeconfig(tb testing.TB) {
	tb.Helper()
	home := tb.TempDir()
	tb.Setenv("HOME", home)
	tb.Setenv("KUBECONFIG", filepath.Join(home, "absent"))
	tb.Setenv("KUBERNETES_SERVICE_HOST", "")
}
