package main

import (
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
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
	httpKubeconfig := filepath.Join(dir, "http")
	if err := os.WriteFile(httpKubeconfig, fuzzKubeconfig("http://kubeconfig.example:8080", "      token: secret\n"), 0o600); err != nil {
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
		{name: "plain-HTTP --master alone, with no credentials", opts: options{master: "http://127.0.0.1:8001"}, wantHost: "http://127.0.0.1:8001"},
		{
			name: "plain-HTTP --master for a kubeconfig's token",
			opts: options{kubeconfig: kubeconfig, master: "http://10.0.0.1:8080"},
			wantErr: `--master="http://10.0.0.1:8080" is plain HTTP, over which client-go leaves out the credentials ` +
				`of the kubeconfig's user "test", so every request would be anonymous: use https`,
		},
		{
			name:    "a plain-HTTP kubeconfig server with a token",
			opts:    options{kubeconfig: httpKubeconfig},
			wantErr: `the kubeconfig's server "http://kubeconfig.example:8080" is plain HTTP, over which client-go leaves out`,
		},
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
				// main exits 2 for a usage error, as for a bad flag.
				if isUsage, wantUsage := errors.As(err, new(usageError)), strings.Contains(tt.wantErr, "plain HTTP"); isUsage != wantUsage {
					t.Errorf("error %q is a usage error: %v, want %v", err, isUsage, wantUsage)
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

// TestLoadRESTConfigInCluster runs loadRESTConfig as in a pod, with
// client-go's in-cluster loading pointed at a token and CA that the test
// writes: --master must change the API server's address, not drop the
// ServiceAccount's credentials.
func TestLoadRESTConfigInCluster(t *testing.T) {
	const token = "service-account-token"
	authorization := make(chan string, 1)
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorization <- r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"major":"1","minor":"37","gitVersion":"v1.37.0"}`)
	}))
	t.Cleanup(server.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificate().Raw})

	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	if err := os.WriteFile(kubeconfig, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	noContext := filepath.Join(dir, "no-context")
	if err := os.WriteFile(noContext, []byte(strings.Replace(testKubeconfig, "current-context: test\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("--master keeps the ServiceAccount's token and CA", func(t *testing.T) {
		tokenFile, caFile := inClusterFiles(t, token, ca)
		config, err := loadRESTConfig(&options{master: server.URL, kubeAPIQPS: 7, kubeAPIBurst: 9})
		if err != nil {
			t.Fatal(err)
		}
		if config.Host != server.URL || config.BearerTokenFile != tokenFile || config.CAFile != caFile {
			t.Errorf("host, token file, CA file = %q, %q, %q; want %q, %q, %q",
				config.Host, config.BearerTokenFile, config.CAFile, server.URL, tokenFile, caFile)
		}
		// The request must trust the server by the CA alone and carry the token.
		client, err := rest.HTTPClientFor(config)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Get(server.URL + "/version")
		if err != nil {
			t.Fatalf("a request with the config: %v", err)
		}
		resp.Body.Close()
		if got := <-authorization; got != "Bearer "+token {
			t.Errorf("the request's Authorization header = %q, want the ServiceAccount's bearer token", got)
		}
	})

	t.Run("a plain-HTTP --master would send the ServiceAccount's token in clear text", func(t *testing.T) {
		tokenFile, _ := inClusterFiles(t, token, ca)
		_, err := loadRESTConfig(&options{master: "http://10.0.0.1:8080"})
		want := `--master="http://10.0.0.1:8080" is plain HTTP, which would send a bearer token from ` + tokenFile + ` in clear text: use https`
		if err == nil || err.Error() != want || !errors.As(err, new(usageError)) {
			t.Errorf("error = %v, want the usage error %q", err, want)
		}
	})

	t.Run("without --master, the in-cluster address", func(t *testing.T) {
		tokenFile, _ := inClusterFiles(t, token, ca)
		config, err := loadRESTConfig(&options{})
		if err != nil {
			t.Fatal(err)
		}
		if config.Host != "https://10.96.0.1:443" || config.BearerTokenFile != tokenFile {
			t.Errorf("host, token file = %q, %q; want https://10.96.0.1:443, %q", config.Host, config.BearerTokenFile, tokenFile)
		}
	})

	t.Run("a kubeconfig comes first, with --master for its server", func(t *testing.T) {
		inClusterFiles(t, token, ca)
		config, err := loadRESTConfig(&options{kubeconfig: kubeconfig, master: "https://10.0.0.1:6443"})
		if err != nil {
			t.Fatal(err)
		}
		if config.Host != "https://10.0.0.1:6443" || config.BearerToken != "secret" || config.BearerTokenFile != "" {
			t.Errorf("host, token, token file = %q, %q, %q; want the kubeconfig's token for https://10.0.0.1:6443",
				config.Host, config.BearerToken, config.BearerTokenFile)
		}
	})

	t.Run("a kubeconfig with no current context counts as none", func(t *testing.T) {
		tokenFile, _ := inClusterFiles(t, token, ca)
		config, err := loadRESTConfig(&options{kubeconfig: noContext})
		if err != nil {
			t.Fatal(err)
		}
		if config.Host != "https://10.96.0.1:443" || config.BearerTokenFile != tokenFile {
			t.Errorf("host, token file = %q, %q; want the in-cluster config", config.Host, config.BearerTokenFile)
		}
	})

	t.Run("a pod without a token is outside a cluster", func(t *testing.T) {
		tokenFile, _ := inClusterFiles(t, token, ca)
		if err := os.Remove(tokenFile); err != nil {
			t.Fatal(err)
		}
		_, err := loadRESTConfig(&options{})
		if err == nil || !strings.HasPrefix(err.Error(), "no Kubernetes configuration found: ") {
			t.Errorf("error = %v, want that no configuration was found", err)
		}
	})
}

// inClusterFiles makes the rest of t run as in a pod whose API server's
// Service is at 10.96.0.1:443 and whose ServiceAccount token and CA are
// files that it writes. inClusterConfig then reads them as
// rest.InClusterConfig reads the pod's.
func inClusterFiles(t *testing.T, token string, ca []byte) (tokenFile, caFile string) {
	t.Helper()
	isolateKubeconfig(t)
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "443")
	dir := t.TempDir()
	tokenFile, caFile = filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	previous := inClusterConfig
	t.Cleanup(func() { inClusterConfig = previous })
	inClusterConfig = func() (*rest.Config, error) {
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, rest.ErrNotInCluster
		}
		token, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, err
		}
		return &rest.Config{
			Host:            "https://" + net.JoinHostPort(host, port),
			TLSClientConfig: rest.TLSClientConfig{CAFile: caFile},
			BearerToken:     string(token),
			BearerTokenFile: tokenFile,
		}, nil
	}
	return tokenFile, caFile
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
