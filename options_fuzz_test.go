package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientleaderelection "k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/leaderelection"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// argSeparator splits FuzzParseOptions' command line into arguments. An
// argument can hold any byte but NUL, as in /proc/PID/cmdline, so that the
// fuzzer can put newlines and quotes into flag names and values.
const argSeparator = "\x00"

// FuzzParseOptions feeds parseOptions arbitrary command lines, and one
// flag of crddemo's own set with an arbitrary value. Whatever it gets,
// parseOptions must fail with one line that names the flag at fault, or
// return options that crddemo can run with: no invalid value may slip
// through validate.
//
// parseOptions binds klog's flags to klog's global settings, so each input
// restores them afterwards: a fuzzed -log_dir or -v must not leak into the
// next input, or into other tests' logging. The inputs run one at a time, as
// fuzz inputs do; this target must never be made parallel.
func FuzzParseOptions(f *testing.F) {
	isolateKubeconfig(f)
	names, boolFlags := crddemoFlags()

	// The flag index picks names[index%len(names)]; the names are sorted.
	index := func(name string) uint8 { return uint8(slices.Index(names, name)) }
	f.Add("", index("workers"), "3", false)
	f.Add(strings.Join([]string{"--kubeconfig=/etc/kube.conf", "--master=https://10.0.0.1:6443", "-alsologtostderr=true",
		"-v=4", "--workers=4"}, argSeparator), index("kube-api-qps"), "0.5", false)
	f.Add(strings.Join([]string{"--leader-elect", "--leader-elect-lease-duration=30s", "--leader-elect-resource-namespace=crddemo-system",
		"--metrics-bind-address=:8080", "--health-probe-bind-address=127.0.0.1:9000", "--profiling",
		"--namespace=team-a", "--resync-period=10m", "--logging-format=json"}, argSeparator),
		index("leader-elect-lease-duration"), "1s", true)
	f.Add(strings.Join([]string{"--leader-elect-lease-duration=2s", "--leader-elect-renew-deadline=1s",
		"--leader-elect-retry-period=100ms"}, argSeparator), index("master"), "10.0.0.1:6443", true)
	f.Add("--help", index("metrics-bind-address"), "8080", false)
	f.Add("--version"+argSeparator+"--workers=0", index("logging-format"), "json", false)
	f.Add("--logging-format=json"+argSeparator+"-log_dir=/tmp", index("v"), "-1", true)
	f.Add("--bogus"+argSeparator+"run", index("profiling"), "true", false)
	f.Add("--workers", index("health-probe-bind-address"), "[::1]:99999", true)
	f.Add("---workers=2", index("leader-elect-resource-namespace"), "a.b", true)
	f.Add("-kube-api-burst=0x10", index("vmodule"), "controller=4,", true)
	// Found by the fuzzer: the flag package repeated it raw, carriage
	// return and all.
	f.Add("-\r", index("workers"), "0", false)
	// Found by review, not yet by the fuzzer: client-go's float32 QPS
	// would be 0 or +Inf, and the Lease's int32 seconds would wrap.
	f.Add("--kube-api-qps=1e39", index("kube-api-qps"), "1e-50", false)
	f.Add("", index("leader-elect-lease-duration"), "596524h", true)

	f.Fuzz(func(t *testing.T, cmdline string, flagIndex uint8, value string, separate bool) {
		var args []string
		if cmdline != "" {
			args = strings.Split(cmdline, argSeparator)
		}
		checkParseOptions(t, names, args, "")

		name := names[int(flagIndex)%len(names)]
		single := []string{"--" + name + "=" + value}
		// A bool flag takes no separate value: -profiling false would be
		// the flag and a stray argument.
		if separate && !boolFlags[name] {
			single = []string{"-" + name, value}
		}
		checkParseOptions(t, names, single, name)
	})
}

// onePrintableLine reports whether msg has no newline, carriage return or
// other character that a terminal would not print as itself.
func onePrintableLine(msg string) bool {
	return !strings.ContainsFunc(msg, func(r rune) bool { return !strconv.IsPrint(r) })
}

// crddemoFlags returns the names of every flag that parseOptions accepts,
// sorted, and which of them are booleans.
func crddemoFlags() (names []string, boolFlags map[string]bool) {
	defer klog.CaptureState().Restore()
	boolFlags = map[string]bool{}
	o := &options{logging: logsapi.NewLoggingConfiguration()}
	for _, group := range o.flagGroups() {
		group.flags.VisitAll(func(f *flag.Flag) {
			names = append(names, f.Name)
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				boolFlags[f.Name] = true
			}
		})
	}
	slices.Sort(names)
	return names, boolFlags
}

// checkParseOptions parses args and checks the outcome. about, if set, is
// the one flag that args give, which any error must name; else an error
// must name one of the flags, or repeat the argument it could not take.
func checkParseOptions(t *testing.T, names, args []string, about string) {
	t.Helper()
	var stdout bytes.Buffer
	klogState := klog.CaptureState()
	o, err := parseOptions(args, &stdout)
	// Before the checks, which log through client-go.
	klogState.Restore()
	if errors.Is(err, flag.ErrHelp) {
		// Only -help and -h ask for the usage, and they are no flags of
		// crddemo's own.
		if about != "" || stdout.Len() == 0 {
			t.Fatalf("parseOptions(%q) = ErrHelp, printing %d bytes of usage", args, stdout.Len())
		}
		return
	}
	if stdout.Len() != 0 {
		t.Fatalf("parseOptions(%q) printed %q; only --help prints", args, stdout.String())
	}
	if err != nil {
		msg := err.Error()
		// main prints the error as "crddemo: ERROR (see crddemo --help)".
		if !onePrintableLine(msg) {
			t.Fatalf("parseOptions(%q) error is not one printable line: %q", args, msg)
		}
		if about != "" && !strings.Contains(msg, "-"+about) {
			t.Fatalf("parseOptions(%q) error does not name -%s: %q", args, about, msg)
		}
		namesCause := strings.HasPrefix(msg, "flag provided but not defined: -") ||
			strings.HasPrefix(msg, "bad flag syntax: ") || strings.HasPrefix(msg, "unexpected argument ") ||
			slices.ContainsFunc(names, func(name string) bool { return strings.Contains(msg, "-"+name) })
		if !namesCause {
			t.Fatalf("parseOptions(%q) error names no flag: %q", args, msg)
		}
		return
	}
	// --version prints the version and exits without looking at the rest.
	if o.showVersion {
		return
	}
	checkUsableOptions(t, args, o)
}

// checkUsableOptions asserts what validate promises: that crddemo can run
// with o. Where it can, it asks the code that will use a value, not
// validate's own checks.
func checkUsableOptions(t *testing.T, args []string, o *options) {
	t.Helper()
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("parseOptions(%q) accepted %s", args, fmt.Sprintf(format, a...))
	}
	if o.workers < 1 {
		fail("--workers=%d", o.workers)
	}
	// rest.Config holds the QPS as a float32, and client-go takes 0 for
	// its default of 5 and +Inf for no limit at all.
	if qps := float32(o.kubeAPIQPS); !(qps > 0) || math.IsInf(float64(qps), 0) {
		fail("--kube-api-qps=%v, which client-go gets as %v", o.kubeAPIQPS, qps)
	}
	if o.kubeAPIBurst < 1 {
		fail("--kube-api-burst=%d", o.kubeAPIBurst)
	}
	if o.resyncPeriod < 0 {
		fail("--resync-period=%v", o.resyncPeriod)
	}
	if o.maxRetryDelay <= 0 {
		fail("--max-retry-delay=%v", o.maxRetryDelay)
	}
	if o.master != "" {
		if err := masterUsable(o.master); err != nil {
			fail("--master=%q, which client-go cannot use: %v", o.master, err)
		}
	}
	if o.namespace != "" {
		if problems := apivalidation.ValidateNamespaceName(o.namespace, false); len(problems) > 0 {
			fail("--namespace=%q: %v", o.namespace, problems)
		}
	}
	for _, address := range []string{o.metricsAddress, o.healthProbeAddr} {
		if err := listenable(address); err != nil {
			fail("the bind address %q: %v", address, err)
		}
	}
	if o.profiling && o.metricsAddress == "0" {
		fail("--profiling without --metrics-bind-address")
	}
	if (o.tlsCertFile == "") != (o.tlsKeyFile == "") {
		fail("--tls-cert-file=%q with --tls-private-key-file=%q: one without the other", o.tlsCertFile, o.tlsKeyFile)
	}
	if o.tlsCertFile != "" && (o.metricsAddress == "0" || !o.metricsSecure) {
		fail("--tls-cert-file where no HTTPS server would use it")
	}
	switch o.logging.Format {
	case "text":
	case "json":
		if len(o.klogFlagsSet) > 0 {
			fail("--logging-format=json with %v, which it ignores", o.klogFlagsSet)
		}
	default:
		fail("--logging-format=%q", o.logging.Format)
	}
	checkUsableElection(t, args, o.election)
}

// checkUsableElection asserts that client-go's elector takes the leader
// election flags, with a stand-in identity for the one only a running
// crddemo has, and that the Lease it would write is one the API server
// accepts.
func checkUsableElection(t *testing.T, args []string, election leaderelection.Config) {
	t.Helper()
	election.Identity = "fuzz"
	if err := election.Validate(nil).ToAggregate(); err != nil {
		t.Fatalf("parseOptions(%q) accepted a leader election that Validate refuses: %v", args, err)
	}
	_, err := clientleaderelection.NewLeaderElector(clientleaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: election.Namespace, Name: election.Name},
			LockConfig: resourcelock.ResourceLockConfig{Identity: election.Identity},
		},
		LeaseDuration: election.LeaseDuration,
		RenewDeadline: election.RenewDeadline,
		RetryPeriod:   election.RetryPeriod,
		Callbacks: clientleaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {},
			OnStoppedLeading: func() {},
		},
		// Name only labels a metric: a fixed one keeps fuzzed names out of
		// the process's metrics.
		Name: "fuzz",
	})
	if err != nil {
		t.Fatalf("parseOptions(%q) accepted a leader election that client-go refuses: %v", args, err)
	}
	// client-go writes the lease duration into the Lease as whole seconds
	// in an int32, which standbys count from; the API server refuses a Lease
	// whose duration is not positive.
	spec := resourcelock.LeaderElectionRecordToLeaseSpec(&resourcelock.LeaderElectionRecord{
		HolderIdentity:       election.Identity,
		LeaseDurationSeconds: int(election.LeaseDuration / time.Second),
	})
	if seconds := *spec.LeaseDurationSeconds; seconds <= 0 || time.Duration(seconds)*time.Second != election.LeaseDuration {
		t.Fatalf("parseOptions(%q) accepted --leader-elect-lease-duration=%v, which the Lease would store as %d seconds",
			args, election.LeaseDuration, seconds)
	}
}

// listenable returns why net.Listen("tcp", address) would fail on the
// address's syntax, or nil; "0" is crddemo's word for off. The port must be
// a number, as the flags' help promises, not a service name. Only hosts
// that are IP literals are resolved, so that no DNS is asked.
func listenable(address string) error {
	if address == "0" {
		return nil
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if port == "" || strings.Trim(port, "0123456789") != "" {
		return fmt.Errorf("port %q is not a number", port)
	}
	// The net package's own port parser, with no host to look up.
	if _, err := net.ResolveTCPAddr("tcp", net.JoinHostPort("", port)); err != nil {
		return err
	}
	if host == "" || net.ParseIP(host) != nil {
		if _, err := net.ResolveTCPAddr("tcp", address); err != nil {
			return err
		}
	}
	return nil
}

// masterUsable returns why client-go could not send a request to the API
// server at master, with clients built the way newConfig builds them, down
// to the request that net/http would write and the address it would dial.
// It uses no network.
func masterUsable(master string) error {
	restConfig, err := loadRESTConfig(&options{master: master, kubeAPIQPS: 1, kubeAPIBurst: 1})
	if err != nil {
		return err
	}
	client, err := clientset.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	// client-go's Request turns its URL into a string and has net/http
	// parse it again.
	u := client.CrddemoV1().RESTClient().Get().Namespace(metav1.NamespaceDefault).Resource("mydemos").URL()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("net/http does not speak %q", req.URL.Scheme)
	}
	// As net/http's transport refuses it.
	if req.URL.Host == "" {
		return errors.New("no host in the request URL")
	}
	// Writing the request checks its Host header as the transport does.
	if err := req.Write(io.Discard); err != nil {
		return err
	}
	port := req.URL.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[req.URL.Scheme]
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("net/http would dial port %s: %w", port, err)
	}
	return nil
}

// FuzzValidateMaster checks that --master accepts exactly the addresses
// that client-go can send requests to: a typo must fail at start, and a
// working address must not be refused.
func FuzzValidateMaster(f *testing.F) {
	isolateKubeconfig(f)
	for _, master := range []string{
		"https://10.0.0.1:6443", "10.0.0.1:6443", "http://localhost:8080", "localhost", "https://[::1]:6443",
		"https://rancher.example/k8s/clusters/c-12345", "ftp://10.0.0.1", "::::", "https://", "https://:6443",
		"https://user:pass@host?x=1#y", "HTTPS://Host.Example", "https://[fe80::1%25eth0]:6443", "https://host:http",
		// Accepted before the fuzzer and a review caught them, though
		// client-go cannot use them.
		"0/0", "A:/#0", ":", "10.0.0.1:66443",
	} {
		f.Add(master)
	}
	f.Fuzz(func(t *testing.T, master string) {
		err := validateMaster(master)
		if master == "" {
			// No --master: the kubeconfig's server is used.
			if err != nil {
				t.Fatalf("validateMaster(\"\") = %v, want nil", err)
			}
			return
		}
		usable := masterUsable(master)
		switch {
		case err == nil && usable != nil:
			t.Fatalf("validateMaster(%q) accepts what client-go cannot use: %v", master, usable)
		// A query or fragment has no place in an API server address, and
		// clientcmd mangles a fragment: validateMaster may refuse them.
		case err != nil && usable == nil && !strings.ContainsAny(master, "?#"):
			t.Fatalf("validateMaster(%q) refuses an address that client-go can use: %v", master, err)
		case err != nil:
			msg := err.Error()
			if prefix := "--master=" + strconv.Quote(master) + " "; !strings.HasPrefix(msg, prefix) {
				t.Fatalf("validateMaster(%q) = %q, want it to start with %q", master, msg, prefix)
			}
			if !onePrintableLine(msg) {
				t.Fatalf("validateMaster(%q) error is not one printable line: %q", master, msg)
			}
		}
	})
}
