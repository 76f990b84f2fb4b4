package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// parsedFlags is the part of options that a command line sets, to compare
// whole.
type parsedFlags struct {
	kubeconfig, master, namespace string
	workers, kubeAPIBurst         int
	kubeAPIQPS                    float64
	resyncPeriod, retryDelay      time.Duration
	leaderElect                   bool
	leaseDuration                 time.Duration
	leaseName, leaseNamespace     string
	metricsAddress, probeAddress  string
	metricsSecure, profiling      bool
	tlsCertFile, tlsKeyFile       string
	loggingFormat                 string
}

func flagsOf(o *options) parsedFlags {
	return parsedFlags{
		kubeconfig: o.kubeconfig, master: o.master, namespace: o.namespace,
		workers: o.workers, kubeAPIBurst: o.kubeAPIBurst, kubeAPIQPS: o.kubeAPIQPS, resyncPeriod: o.resyncPeriod, retryDelay: o.maxRetryDelay,
		leaderElect: o.leaderElect, leaseDuration: o.leaseDuration, leaseName: o.leaseName, leaseNamespace: o.leaseNamespace,
		metricsAddress: o.metricsAddress, probeAddress: o.healthProbeAddr, profiling: o.profiling,
		metricsSecure: o.metricsSecure, tlsCertFile: o.tlsCertFile, tlsKeyFile: o.tlsKeyFile,
		loggingFormat: o.logging.Format,
	}
}

// defaults are the settings of a command line with no flags.
var defaults = parsedFlags{
	workers: 16, kubeAPIQPS: 500, kubeAPIBurst: 1000, retryDelay: 2 * time.Minute, leaseDuration: 15 * time.Second, leaseName: "crddemo",
	metricsAddress: "0", metricsSecure: true, probeAddress: ":8081", loggingFormat: "text",
}

// with returns the defaults changed by change.
func with(change func(*parsedFlags)) parsedFlags {
	f := defaults
	change(&f)
	return f
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    parsedFlags
		wantErr string
	}{
		{name: "defaults", args: nil, want: defaults},
		{
			name: "the walkthrough's command line",
			args: []string{"--kubeconfig=/etc/kube.conf", "--master=https://10.0.0.1:6443", "-alsologtostderr=true", "-v=4", "--workers=4"},
			want: with(func(f *parsedFlags) {
				f.kubeconfig, f.master, f.workers = "/etc/kube.conf", "https://10.0.0.1:6443", 4
			}),
		},
		{
			name: "in a cluster",
			args: []string{"--leader-elect", "--leader-elect-lease-duration=30s", "--leader-elect-resource-namespace=crddemo-system",
				"--metrics-bind-address=:8080", "--health-probe-bind-address=127.0.0.1:9000", "--profiling",
				"--namespace=team-a", "--resync-period=10m", "--logging-format=json"},
			want: with(func(f *parsedFlags) {
				f.leaderElect, f.leaseDuration, f.leaseNamespace = true, 30*time.Second, "crddemo-system"
				f.metricsAddress, f.probeAddress, f.profiling = ":8080", "127.0.0.1:9000", true
				f.namespace, f.resyncPeriod, f.loggingFormat = "team-a", 10*time.Minute, "json"
			}),
		},
		{
			name: "metrics over HTTPS with a certificate",
			args: []string{"--metrics-bind-address=:8443", "--tls-cert-file=/tls/tls.crt", "--tls-private-key-file=/tls/tls.key"},
			want: with(func(f *parsedFlags) {
				f.metricsAddress, f.tlsCertFile, f.tlsKeyFile = ":8443", "/tls/tls.crt", "/tls/tls.key"
			}),
		},
		{
			name: "metrics over plain HTTP",
			args: []string{"--metrics-bind-address=127.0.0.1:8080", "--metrics-secure=false"},
			want: with(func(f *parsedFlags) { f.metricsAddress, f.metricsSecure = "127.0.0.1:8080", false }),
		},
		{
			name: "profiles over plain HTTP on loopback",
			args: []string{"--metrics-bind-address=[::1]:8080", "--metrics-secure=false", "--profiling"},
			want: with(func(f *parsedFlags) { f.metricsAddress, f.metricsSecure, f.profiling = "[::1]:8080", false, true }),
		},
		{
			name: "profiles over plain HTTP on localhost",
			args: []string{"--metrics-bind-address=localhost:8080", "--metrics-secure=false", "--profiling"},
			want: with(func(f *parsedFlags) { f.metricsAddress, f.metricsSecure, f.profiling = "localhost:8080", false, true }),
		},
		{name: "master without a scheme", args: []string{"--master=10.0.0.1:6443"}, want: with(func(f *parsedFlags) { f.master = "10.0.0.1:6443" })},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: "flag provided but not defined: -bogus"},
		{name: "bad number", args: []string{"--workers=two"}, wantErr: `invalid value "two" for flag -workers`},
		{name: "no workers", args: []string{"--workers=0"}, wantErr: "--workers must be at least 1, got 0"},
		{name: "negative workers", args: []string{"--workers=-3"}, wantErr: "--workers must be at least 1, got -3"},
		{name: "zero qps", args: []string{"--kube-api-qps=0"}, wantErr: "--kube-api-qps must be a positive number, got 0"},
		{name: "NaN qps", args: []string{"--kube-api-qps=NaN"}, wantErr: "--kube-api-qps must be a positive number, got NaN"},
		{name: "infinite qps", args: []string{"--kube-api-qps=+Inf"}, wantErr: "--kube-api-qps must be a positive number, got +Inf"},
		{name: "zero burst", args: []string{"--kube-api-burst=0"}, wantErr: "--kube-api-burst must be at least 1, got 0"},
		{name: "negative resync", args: []string{"--resync-period=-1m"}, wantErr: "--resync-period must not be negative, got -1m0s"},
		{name: "no retry delay", args: []string{"--max-retry-delay=0s"}, wantErr: "--max-retry-delay must be positive, got 0s"},
		{name: "bad duration", args: []string{"--resync-period=often"}, wantErr: `invalid value "often" for flag -resync-period`},
		{name: "bad master", args: []string{"--master=::::"}, wantErr: `--master="::::" is not an API server address`},
		{name: "master with another scheme", args: []string{"--master=ftp://10.0.0.1"}, wantErr: `scheme "ftp" is neither http nor https`},
		{name: "bad namespace", args: []string{"--namespace=Team_A"}, wantErr: `--namespace="Team_A" is not a namespace name`},
		{name: "bad lease namespace", args: []string{"--leader-elect-resource-namespace=a/b"}, wantErr: `--leader-elect-resource-namespace=a/b: not a valid namespace name`},
		{name: "bad lease name", args: []string{"--leader-elect-resource-name="}, wantErr: "--leader-elect-resource-name must not be empty"},
		{name: "renew deadline as long as the lease", args: []string{"--leader-elect-renew-deadline=15s"}, wantErr: "--leader-elect-renew-deadline"},
		{name: "zero lease duration", args: []string{"--leader-elect-lease-duration=0s"}, wantErr: "--leader-elect-lease-duration"},
		{name: "negative retry period", args: []string{"--leader-elect-retry-period=-2s"}, wantErr: "--leader-elect-retry-period"},
		{name: "bad metrics address", args: []string{"--metrics-bind-address=8080"}, wantErr: "--metrics-bind-address: "},
		{name: "bad probe address", args: []string{"--health-probe-bind-address=:99999"}, wantErr: "--health-probe-bind-address: "},
		{name: "profiling without metrics", args: []string{"--profiling"}, wantErr: "--profiling needs --metrics-bind-address"},
		{name: "profiles over plain HTTP on every address", args: []string{"--profiling", "--metrics-secure=false", "--metrics-bind-address=:8080"},
			wantErr: "--profiling with --metrics-secure=false serves Go's profiles over plain HTTP to anyone: " +
				"bind --metrics-bind-address to loopback (127.0.0.1:8080, not :8080) or keep --metrics-secure"},
		{name: "profiles over plain HTTP on a pod's address", args: []string{"--profiling", "--metrics-secure=false", "--metrics-bind-address=10.0.0.7:8080"},
			wantErr: "--profiling with --metrics-secure=false serves Go's profiles over plain HTTP to anyone"},
		{name: "profiles over plain HTTP on 0.0.0.0", args: []string{"--profiling", "--metrics-secure=false", "--metrics-bind-address=0.0.0.0:8080"},
			wantErr: "--profiling with --metrics-secure=false serves Go's profiles over plain HTTP to anyone"},
		{name: "a lease duration that is not whole seconds", args: []string{"--leader-elect-lease-duration=1500ms", "--leader-elect-renew-deadline=1s",
			"--leader-elect-retry-period=200ms"}, wantErr: "--leader-elect-lease-duration=1.5s: must be whole seconds, as a Lease counts them (use 1s or 2s)"},
		{name: "certificate without its key", args: []string{"--metrics-bind-address=:8443", "--tls-cert-file=/tls/tls.crt"},
			wantErr: "--tls-cert-file needs --tls-private-key-file, its key"},
		{name: "key without its certificate", args: []string{"--metrics-bind-address=:8443", "--tls-private-key-file=/tls/tls.key"},
			wantErr: "--tls-private-key-file needs --tls-cert-file, its certificate"},
		{name: "certificate without metrics", args: []string{"--tls-cert-file=/tls/tls.crt", "--tls-private-key-file=/tls/tls.key"},
			wantErr: "--tls-cert-file needs --metrics-bind-address"},
		{name: "certificate for plain HTTP", args: []string{"--metrics-bind-address=:8080", "--metrics-secure=false",
			"--tls-cert-file=/tls/tls.crt", "--tls-private-key-file=/tls/tls.key"},
			wantErr: "--tls-cert-file needs --metrics-secure: --metrics-secure=false serves plain HTTP"},
		{name: "unknown metrics authorization", args: []string{"--metrics-authorization=nonresource"},
			wantErr: `--metrics-authorization must be resource or path, got "nonresource"`},
		{name: "unknown logging format", args: []string{"--logging-format=xml"}, wantErr: `--logging-format must be text or json, got "xml"`},
		{name: "JSON logs with klog's file flags", args: []string{"--logging-format=json", "-log_dir=/tmp", "-alsologtostderr"},
			wantErr: "--logging-format=json ignores -alsologtostderr, -log_dir, which only the text format honours"},
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
			if flagsOf(got) != tt.want {
				t.Errorf("options = %+v, want %+v", flagsOf(got), tt.want)
			}
		})
	}
}

func TestVersionSkipsValidation(t *testing.T) {
	got, err := parseOptions([]string{"--version", "--workers=0"}, &bytes.Buffer{})
	if err != nil || !got.showVersion {
		t.Fatalf("parseOptions(--version) = %+v, %v; want showVersion and no error", got, err)
	}
}

func TestHelpGroupsEveryFlag(t *testing.T) {
	var stdout bytes.Buffer
	_, err := parseOptions([]string{"--help"}, &stdout)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("error = %v, want flag.ErrHelp", err)
	}
	help := stdout.String()
	groups := []struct {
		title string
		flags []string
	}{
		{"crddemo flags:", []string{"kubeconfig", "master", "namespace", "workers", "kube-api-qps", "kube-api-burst", "resync-period", "max-retry-delay", "version"}},
		{"Leader election flags:", []string{"leader-elect", "leader-elect-lease-duration", "leader-elect-renew-deadline",
			"leader-elect-retry-period", "leader-elect-resource-name", "leader-elect-resource-namespace"}},
		{"Serving flags:", []string{"metrics-bind-address", "metrics-secure", "metrics-authorization", "tls-cert-file", "tls-private-key-file",
			"health-probe-bind-address", "profiling"}},
		{"Logging flags:", []string{"v", "vmodule", "alsologtostderr", "logtostderr", "log_file", "logging-format"}},
	}
	for i, group := range groups {
		start := strings.Index(help, "\n"+group.title+"\n")
		if start < 0 {
			t.Fatalf("--help has no %q section:\n%s", group.title, help)
		}
		section := help[start+len(group.title)+2:]
		if i+1 < len(groups) {
			section = section[:strings.Index(section, groups[i+1].title)]
		}
		for _, name := range group.flags {
			if !strings.Contains(section, "  --"+name+" ") && !strings.Contains(section, "  --"+name+"\n") {
				t.Errorf("the %q section of --help does not list -%s:\n%s", group.title, name, section)
			}
		}
	}
}
