package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    options
		wantErr string
	}{
		{name: "defaults", args: nil, want: options{workers: 2, kubeAPIQPS: 20, kubeAPIBurst: 30}},
		{
			name: "the walkthrough's command line",
			args: []string{"--kubeconfig=/etc/kube.conf", "--master=https://10.0.0.1:6443", "-alsologtostderr=true", "--workers=4"},
			want: options{kubeconfig: "/etc/kube.conf", master: "https://10.0.0.1:6443", workers: 4, kubeAPIQPS: 20, kubeAPIBurst: 30},
		},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: "flag provided but not defined: -bogus"},
		{name: "bad number", args: []string{"--workers=two"}, wantErr: `invalid value "two" for flag -workers`},
		{name: "no workers", args: []string{"--workers=0"}, wantErr: "--workers must be at least 1, got 0"},
		{name: "zero qps", args: []string{"--kube-api-qps=0"}, wantErr: "--kube-api-qps must be positive, got 0"},
		{name: "stray argument", args: []string{"run"}, wantErr: `unexpected argument "run": crddemo takes only flags`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout bytes.Buffer
			got, err := parseOptions(tt.args, &stdout)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				if stdout.Len() != 0 {
					t.Errorf("a bad command line printed %q; main prints the one error line", stdout.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if *got != tt.want {
				t.Errorf("options = %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var stdout bytes.Buffer
	_, err := parseOptions([]string{"--help"}, &stdout)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("error = %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"kubeconfig", "master", "workers", "kube-api-qps", "kube-api-burst", "v", "alsologtostderr", "logtostderr"} {
		if !strings.Contains(stdout.String(), "-"+name+" ") && !strings.Contains(stdout.String(), "-"+name+"\n") {
			t.Errorf("--help does not list -%s:\n%s", name, stdout.String())
		}
	}
}

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://kubeconfig.example:6443
contexts:
- name: test
  context:
    cluster: test
    user: test
current-context: test
users:
- name: test
  user:
    token: secret
`

func TestRESTConfig(t *testing.T) {
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
			// Isolate from the machine's own kubeconfig and cluster.
			t.Setenv("HOME", t.TempDir())
			t.Setenv("KUBECONFIG", tt.envConfig)
			t.Setenv("KUBERNETES_SERVICE_HOST", "")
			tt.opts.kubeAPIQPS, tt.opts.kubeAPIBurst = 7, 9

			config, err := tt.opts.restConfig()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if config.Host != tt.wantHost || config.QPS != 7 || config.Burst != 9 {
				t.Errorf("host, qps, burst = %s, %v, %d; want %s, 7, 9", config.Host, config.QPS, config.Burst, tt.wantHost)
			}
		})
	}
}
