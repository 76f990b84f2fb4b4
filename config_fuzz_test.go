package main

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/domac/crddemo/internal/version"
)

// fuzzKubeconfig is a kubeconfig for user, whose credentials follow
// "user:" with six spaces of indentation, for the server named.
func fuzzKubeconfig(server, user string) []byte {
	return []byte(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ` + server + `
contexts:
- name: test
  context:
    cluster: test
    user: test
current-context: test
users:
- name: test
  user:
` + user)
}

// FuzzLoadRESTConfig writes arbitrary bytes as the --kubeconfig file.
// loadRESTConfig must fail with one of its errors, or return a config
// with the QPS, burst and user agent that crddemo asks for, whose
// description for the logs says nothing about its secrets.
func FuzzLoadRESTConfig(f *testing.F) {
	isolateKubeconfig(f)
	dir := f.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	// For tokenFile seeds: clientcmd reads a relative path from the
	// kubeconfig's directory.
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("token-from-a-file"), 0o600); err != nil {
		f.Fatal(err)
	}
	const https = "https://kubeconfig.example:6443"
	huge := strings.Repeat("x", 64<<10)

	for _, seed := range [][]byte{
		[]byte(testKubeconfig),
		nil,
		[]byte("not a kubeconfig"),
		[]byte("{{{"),
		[]byte("apiVersion: v1\nkind: Config\nclusters: 7\n"),
		[]byte(`{"apiVersion":"v1","kind":"Config","clusters":[{"name":"c","cluster":{"server":"https://10.0.0.1"}}],` +
			`"contexts":[{"name":"c","context":{"cluster":"c","user":"u"}}],"current-context":"c",` +
			`"users":[{"name":"u","user":{"token":"json-token-value"}}]}`),
		fuzzKubeconfig(https, "      exec:\n        apiVersion: client.authentication.k8s.io/v1\n"+
			"        command: kubelogin\n        args: [get-token, --secret=exec-arg-secret]\n"+
			"        env: [{name: TOKEN, value: exec-env-secret}]\n        interactiveMode: Never\n"),
		fuzzKubeconfig(https, "      auth-provider:\n        name: oidc\n        config:\n"+
			"          id-token: oidc-id-token-secret\n          refresh-token: oidc-refresh-secret\n"),
		fuzzKubeconfig(https, "      username: admin\n      password: basic-auth-password\n"),
		fuzzKubeconfig(https, "      client-certificate-data: Y2VydGlmaWNhdGU=\n      client-key-data: a2V5LXNlY3JldA==\n"),
		fuzzKubeconfig(https, "      tokenFile: token\n"),
		fuzzKubeconfig(https, "      tokenFile: absent\n"),
		// Over plain http, clientcmd leaves the credentials out, which
		// crddemo refuses.
		fuzzKubeconfig("http://kubeconfig.example:8080", "      token: plain-http-token\n"),
		fuzzKubeconfig("https://"+huge+".example", "      token: "+huge+"\n"),
		[]byte(strings.Replace(testKubeconfig, "current-context: test", "current-context: elsewhere", 1)),
	} {
		f.Add(seed, 7.0, 9, false)
	}
	f.Add([]byte(testKubeconfig), math.NaN(), -1, true)
	f.Add([]byte(testKubeconfig), 1e39, math.MaxInt, true)

	f.Fuzz(func(t *testing.T, content []byte, qps float64, burst int, withMaster bool) {
		if err := os.WriteFile(kubeconfig, content, 0o600); err != nil {
			t.Fatal(err)
		}
		o := &options{kubeconfig: kubeconfig, kubeAPIQPS: qps, kubeAPIBurst: burst}
		const master = "https://10.0.0.1:6443"
		if withMaster {
			o.master = master
		}

		config, err := loadRESTConfig(o)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "loading kubeconfig: ") &&
				!strings.HasPrefix(msg, "no Kubernetes configuration found: ") &&
				!(errors.As(err, new(usageError)) && strings.HasPrefix(msg, "the kubeconfig's server ")) {
				t.Fatalf("loadRESTConfig error = %q, want it to start with \"loading kubeconfig: \", say that none was found "+
					"or refuse a plain-HTTP server", msg)
			}
			return
		}
		// Bits, so that a NaN QPS compares equal to itself.
		if math.Float32bits(config.QPS) != math.Float32bits(float32(qps)) || config.Burst != burst {
			t.Errorf("QPS, burst = %v, %d; want %v, %d", config.QPS, config.Burst, float32(qps), burst)
		}
		if want := "crddemo/" + version.Get().Version; config.UserAgent != want {
			t.Errorf("user agent = %q, want %q", config.UserAgent, want)
		}
		if config.Host == "" || (withMaster && config.Host != master) {
			t.Errorf("host = %q, want the kubeconfig's server, or %s from --master", config.Host, master)
		}
		checkCredentialsUndisclosed(t, config)
	})
}

// checkCredentialsUndisclosed asserts that describeCredentials(config)
// depends on no secret in config: with every secret replaced, it says the
// same. That is stronger than looking for the token in it: it leaks no part
// of any secret either, however short.
func checkCredentialsUndisclosed(t *testing.T, config *rest.Config) {
	t.Helper()
	described := describeCredentials(config)

	masked := rest.CopyConfig(config)
	replace := func(secret string) string {
		if secret == "" {
			return ""
		}
		// Differs from secret, whatever it is.
		return "masked-" + secret + "-masked"
	}
	masked.BearerToken = replace(masked.BearerToken)
	masked.Password = replace(masked.Password)
	if len(masked.CertData) > 0 {
		masked.CertData = []byte(replace(string(masked.CertData)))
	}
	if len(masked.KeyData) > 0 {
		masked.KeyData = []byte(replace(string(masked.KeyData)))
	}
	if config.AuthProvider != nil {
		provider := *config.AuthProvider
		provider.Config = map[string]string{}
		for key, value := range config.AuthProvider.Config {
			provider.Config[key] = replace(value)
		}
		masked.AuthProvider = &provider
	}
	if config.ExecProvider != nil {
		exec := *config.ExecProvider
		exec.Args = nil
		for _, arg := range config.ExecProvider.Args {
			exec.Args = append(exec.Args, replace(arg))
		}
		exec.Env = nil
		for _, env := range config.ExecProvider.Env {
			exec.Env = append(exec.Env, clientcmdapi.ExecEnvVar{Name: env.Name, Value: replace(env.Value)})
		}
		masked.ExecProvider = &exec
	}

	if got := describeCredentials(masked); got != described {
		t.Fatalf("describeCredentials changes with the secrets in the config: %q, then %q", described, got)
	}
}
