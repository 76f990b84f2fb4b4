package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/internal/serving"
	"github.com/domac/crddemo/internal/sharding"
)

// options are crddemo's command-line settings, as parsed and validated;
// config.go turns them into the clients and settings crddemo runs with.
type options struct {
	kubeconfig   string
	master       string
	namespace    string
	workers      int
	kubeAPIQPS   float64
	kubeAPIBurst int
	resyncPeriod time.Duration
	// maxRetryDelay caps the backoff between retries of a failing key.
	maxRetryDelay time.Duration
	showVersion   bool

	leaderElect    bool
	leaseDuration  time.Duration
	renewDeadline  time.Duration
	retryPeriod    time.Duration
	leaseName      string
	leaseNamespace string // empty: the pod's namespace, else "default"
	shards         int
	// election is what the leader election flags ask for, the namespace
	// resolved, as validated; config.go adds the identity.
	election leaderelection.Config

	metricsAddress  string // serving.Off: off
	metricsSecure   bool
	metricsAuthz    string // "resource" or "path"
	tlsCertFile     string // empty, with tlsKeyFile: a self-signed certificate
	tlsKeyFile      string
	healthProbeAddr string // serving.Off: off
	profiling       bool

	logging *logsapi.LoggingConfiguration
	// klogFlagsSet are the klog flags given on the command line that only
	// the text format honours, such as -log_file.
	klogFlagsSet []string
}

// flagGroup is one section of --help, such as "Leader election flags". Its
// flags are registered in a FlagSet of their own, to print them together,
// and shared with the FlagSet that parses the command line.
type flagGroup struct {
	title string
	flags *flag.FlagSet
}

// parseOptions parses the command line. --help prints the usage to stdout and
// returns flag.ErrHelp; any other problem comes back as one error, with
// nothing printed, so that main can report it on one line.
func parseOptions(args []string, stdout io.Writer) (*options, error) {
	o := &options{logging: logsapi.NewLoggingConfiguration()}
	groups := o.flagGroups()

	// Flags take one dash or two, as the standard flag package allows, so
	// that the seed's -alsologtostderr=true and -v=4 keep working.
	fs := flag.NewFlagSet("crddemo", flag.ContinueOnError)
	for _, group := range groups {
		group.flags.VisitAll(func(f *flag.Flag) { fs.Var(f.Value, f.Name, f.Usage) })
	}
	// The flag package would print the whole usage after every mistake;
	// keep it quiet and print the usage only when it is asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(groups, stdout)
		return nil, err
	}
	if err != nil {
		// The flag package repeats a mistyped flag as it was given; escape
		// what would break the one line that main prints, such as a newline.
		return nil, errors.New(escapeUnprintable(err.Error()))
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: crddemo takes only flags", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) {
		if isTextOnlyLoggingFlag(f.Name) {
			o.klogFlagsSet = append(o.klogFlagsSet, "-"+f.Name)
		}
	})
	// -v is klog's flag; the logs API's JSON format takes it from here.
	if v, err := strconv.ParseUint(fs.Lookup("v").Value.String(), 10, 32); err == nil {
		o.logging.Verbosity = logsapi.VerbosityLevel(v)
	}
	if o.showVersion {
		return o, nil
	}
	return o, o.validate()
}

// escapeUnprintable escapes the characters in s that strconv.Quote would,
// such as newlines, as it would, and leaves the rest, quotes included.
func escapeUnprintable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strconv.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		quoted := strconv.QuoteRune(r)
		b.WriteString(quoted[1 : len(quoted)-1])
	}
	return b.String()
}

// flagGroups registers every flag, grouped the way Kubernetes components
// group them in --help.
func (o *options) flagGroups() []flagGroup {
	crddemo := flag.NewFlagSet("crddemo", flag.ContinueOnError)
	crddemo.StringVar(&o.kubeconfig, "kubeconfig", "",
		"Path to a kubeconfig. If empty, $KUBECONFIG or ~/.kube/config is used, then the in-cluster config.")
	crddemo.StringVar(&o.master, "master", "",
		"Address of the Kubernetes API server. Overrides the server in the kubeconfig, or in a pod the in-cluster address.")
	crddemo.StringVar(&o.namespace, "namespace", "", "Watch Mydemos in this namespace only. Empty watches every namespace.")
	crddemo.IntVar(&o.workers, "workers", 16,
		"Number of Mydemo objects synced in parallel, with --shards in each shard owned. Each sync mostly waits on two API round trips; "+
			"docs/performance.md has how the default was chosen.")
	crddemo.Float64Var(&o.kubeAPIQPS, "kube-api-qps", 500,
		"Requests per second allowed to the API server, on average, for all of crddemo's clients together. "+
			"The API server's own priority and fairness protects it beyond that.")
	crddemo.IntVar(&o.kubeAPIBurst, "kube-api-burst", 1000, "Requests allowed to the API server in a burst above --kube-api-qps.")
	crddemo.DurationVar(&o.resyncPeriod, "resync-period", 0,
		"How often every cached Mydemo is looked at again, such as 10m; 0 turns resyncs off. "+
			"A resync syncs only Mydemos whose status is behind their spec.")
	crddemo.DurationVar(&o.maxRetryDelay, "max-retry-delay", 2*time.Minute,
		"Longest wait between retries of a Mydemo whose sync keeps failing. Retries start 5ms apart and double up to this; "+
			"they never stop while the object exists.")
	crddemo.BoolVar(&o.showVersion, "version", false, "Print the version and exit.")

	election := flag.NewFlagSet("leader election", flag.ContinueOnError)
	election.BoolVar(&o.leaderElect, "leader-elect", false,
		"Run several replicas, of which only the holder of a Lease syncs; the others keep their cache warm to take over at once.")
	election.DurationVar(&o.leaseDuration, "leader-elect-lease-duration", 15*time.Second,
		"How long a standby waits after the leader's last renewal before it takes the lease.")
	election.DurationVar(&o.renewDeadline, "leader-elect-renew-deadline", 10*time.Second,
		"How long the leader keeps trying to renew before it gives up the lease and exits; shorter than the lease duration.")
	election.DurationVar(&o.retryPeriod, "leader-elect-retry-period", 2*time.Second,
		"How long candidates wait between attempts to take or renew the lease.")
	election.StringVar(&o.leaseName, "leader-elect-resource-name", "crddemo", "Name of the Lease that replicas elect a leader with.")
	election.IntVar(&o.shards, "shards", 1,
		"Split the Mydemos into this many shards by a hash of their UID, each owned by one replica through a Lease "+
			"of its own; replicas share the shards evenly. 1 is one leader for all. More needs --leader-elect.")
	election.StringVar(&o.leaseNamespace, "leader-elect-resource-namespace", "",
		"Namespace of the Lease. Empty means the pod's own namespace in a cluster, and \"default\" elsewhere.")

	serve := flag.NewFlagSet("serving", flag.ContinueOnError)
	serve.StringVar(&o.metricsAddress, "metrics-bind-address", "0",
		"Address for Prometheus metrics at /metrics, such as :8443; 0 turns it off.")
	serve.BoolVar(&o.metricsSecure, "metrics-secure", true,
		"Serve the metrics over HTTPS, only to callers whose bearer token the API server accepts (TokenReview) "+
			"and who may get the path (SubjectAccessReview). false serves plain HTTP to anyone, for a local run.")
	serve.StringVar(&o.metricsAuthz, "metrics-authorization", "resource",
		"What the SubjectAccessReview of a metrics caller asks about: resource, get on mydemos/metrics (or mydemos/pprof) "+
			"in crddemo.k8s.io in crddemo's namespace, which grants crddemo's alone; or path, get on the path as nonResourceURLs "+
			"grant it, which grants every component's /metrics, kube-apiserver's included.")
	serve.StringVar(&o.tlsCertFile, "tls-cert-file", "",
		"PEM certificate (intermediates after it) for the metrics' HTTPS, read again when it changes. "+
			"Empty: a self-signed one, made at start.")
	serve.StringVar(&o.tlsKeyFile, "tls-private-key-file", "", "PEM private key of --tls-cert-file.")
	serve.StringVar(&o.healthProbeAddr, "health-probe-bind-address", ":8081",
		"Address for the /healthz and /readyz probes; 0 turns it off.")
	serve.BoolVar(&o.profiling, "profiling", false, "Serve Go's profiles at /debug/pprof on --metrics-bind-address.")

	logging := flag.NewFlagSet("logging", flag.ContinueOnError)
	// klog's own flags (-v, -vmodule, -alsologtostderr, -log_file, ...) drive
	// the default text format; the logs API adds --logging-format. Its other
	// flags tune alpha options that need feature gates crddemo does not have.
	klog.InitFlags(logging)
	logsAPIFlags := flag.NewFlagSet("logs API", flag.ContinueOnError)
	logsapi.AddGoFlags(o.logging, logsAPIFlags)
	format := logsAPIFlags.Lookup("logging-format")
	logging.Var(format.Value, format.Name, format.Usage)

	return []flagGroup{
		{title: "crddemo flags", flags: crddemo},
		{title: "Leader election flags", flags: election},
		{title: "Serving flags", flags: serve},
		{title: "Logging flags", flags: logging},
	}
}

func printUsage(groups []flagGroup, out io.Writer) {
	fmt.Fprintf(out, "crddemo watches Mydemo objects (mydemos.crddemo.k8s.io) and syncs them.\n\n"+
		"Usage: crddemo [--kubeconfig=PATH] [--master=URL] [flags]\n\n"+
		"Flags take one dash or two: -v=4 and --v=4 are the same.\n")
	for _, group := range groups {
		fmt.Fprintf(out, "\n%s:\n", group.title)
		group.flags.VisitAll(func(f *flag.Flag) {
			typeName, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(out, "  --%s\n        %s", strings.TrimSpace(f.Name+" "+typeName), usage)
			if def := defaultForUsage(typeName, f.DefValue); def != "" {
				fmt.Fprintf(out, " (default %s)", def)
			}
			fmt.Fprintln(out)
		})
	}
}

// defaultForUsage is how --help shows a flag's default: nothing for the zero
// value of its type, and strings quoted, so that "0" (off) stands out.
func defaultForUsage(typeName, value string) string {
	switch {
	case value == "" || value == "false" || value == "0s" || (value == "0" && typeName != "string"):
		return ""
	case typeName == "string":
		return strconv.Quote(value)
	default:
		return value
	}
}

// validate refuses values that cannot work, each with one line that names
// the flag.
func (o *options) validate() error {
	if o.workers < 1 {
		return fmt.Errorf("--workers must be at least 1, got %d", o.workers)
	}
	if math.IsNaN(o.kubeAPIQPS) || math.IsInf(o.kubeAPIQPS, 0) || o.kubeAPIQPS <= 0 {
		return fmt.Errorf("--kube-api-qps must be a positive number, got %v", o.kubeAPIQPS)
	}
	// rest.Config holds the QPS as a float32, in which a tiny rate is 0,
	// which client-go takes for its default of 5, and a huge one is +Inf,
	// no limit at all.
	if qps := float32(o.kubeAPIQPS); qps == 0 || math.IsInf(float64(qps), 0) {
		return fmt.Errorf("--kube-api-qps=%v is out of range: client-go takes from %.2g to %.2g",
			o.kubeAPIQPS, math.SmallestNonzeroFloat32, math.MaxFloat32)
	}
	if o.kubeAPIBurst < 1 {
		return fmt.Errorf("--kube-api-burst must be at least 1, got %d", o.kubeAPIBurst)
	}
	if o.maxRetryDelay <= 0 {
		return fmt.Errorf("--max-retry-delay must be positive, got %v", o.maxRetryDelay)
	}
	if o.resyncPeriod < 0 {
		return fmt.Errorf("--resync-period must not be negative, got %v", o.resyncPeriod)
	}
	if err := validateMaster(o.master); err != nil {
		return err
	}
	if errs := validation.IsDNS1123Label(o.namespace); o.namespace != "" && len(errs) > 0 {
		return fmt.Errorf("--namespace=%q is not a namespace name: %s", o.namespace, strings.Join(errs, "; "))
	}
	o.election = leaderelection.Config{
		Name:          o.leaseName,
		Namespace:     leaseNamespace(o.leaseNamespace),
		LeaseDuration: o.leaseDuration,
		RenewDeadline: o.renewDeadline,
		RetryPeriod:   o.retryPeriod,
	}
	// Checked with or without --leader-elect, so that a mistake shows
	// before it is turned on.
	if err := flagError(sharding.Config{Election: o.election, Shards: o.shards}.Validate(), shardingFlags); err != nil {
		return err
	}
	if o.shards > 1 && !o.leaderElect {
		return fmt.Errorf("--shards=%d needs --leader-elect: the replicas share the shards through Leases", o.shards)
	}
	for _, address := range []struct{ flag, value string }{
		{"--metrics-bind-address", o.metricsAddress},
		{"--health-probe-bind-address", o.healthProbeAddr},
	} {
		if err := serving.ValidateAddress(address.value); err != nil {
			return fmt.Errorf("%s: %w", address.flag, err)
		}
	}
	if o.profiling && serving.Off(o.metricsAddress) {
		return errors.New("--profiling needs --metrics-bind-address: the profiles are served beside the metrics")
	}
	// A profile shows the process's memory and command line: over plain HTTP
	// only to callers on the same machine.
	if o.profiling && !o.metricsSecure && !isLoopbackAddress(o.metricsAddress) {
		return fmt.Errorf("--profiling with --metrics-secure=false serves Go's profiles over plain HTTP to anyone: "+
			"bind --metrics-bind-address to loopback (127.0.0.1:8080, not %s) or keep --metrics-secure", o.metricsAddress)
	}
	if o.metricsAuthz != "resource" && o.metricsAuthz != "path" {
		return fmt.Errorf("--metrics-authorization must be resource or path, got %q", o.metricsAuthz)
	}
	if err := o.validateTLSFiles(); err != nil {
		return err
	}
	if format := o.logging.Format; format != "text" && format != "json" {
		return fmt.Errorf("--logging-format must be text or json, got %q", format)
	}
	if o.logging.Format == "json" && len(o.klogFlagsSet) > 0 {
		return fmt.Errorf("--logging-format=json ignores %s, which only the text format honours: drop it or log as text",
			strings.Join(o.klogFlagsSet, ", "))
	}
	return nil
}

// validateTLSFiles refuses a certificate without its key, or the other way
// round, and either where nothing would serve it.
func (o *options) validateTLSFiles() error {
	if o.tlsCertFile == "" && o.tlsKeyFile == "" {
		return nil
	}
	switch {
	case o.tlsKeyFile == "":
		return errors.New("--tls-cert-file needs --tls-private-key-file, its key")
	case o.tlsCertFile == "":
		return errors.New("--tls-private-key-file needs --tls-cert-file, its certificate")
	case serving.Off(o.metricsAddress):
		return errors.New("--tls-cert-file needs --metrics-bind-address: the certificate is for the metrics server")
	case !o.metricsSecure:
		return errors.New("--tls-cert-file needs --metrics-secure: --metrics-secure=false serves plain HTTP")
	}
	return nil
}

// isLoopbackAddress reports whether a listen address accepts connections
// from this machine only: a loopback IP or localhost, not an empty host,
// which is every address.
func isLoopbackAddress(address string) bool {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// usageError is a command line that cannot work for a reason that shows only
// once the configuration it applies to is loaded, such as a plain-HTTP
// --master with a kubeconfig's token: run exits 2 for it, as for a bad flag.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// isTextOnlyLoggingFlag reports whether name is one of klog's own flags that
// the logs API's JSON format ignores: all of them but -v.
func isTextOnlyLoggingFlag(name string) bool {
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	return name != "v" && klogFlags.Lookup(name) != nil
}

// validateMaster checks that --master, if set, is a URL or host:port that
// client-go can connect to, so that a typo fails at start with exit code 2.
func validateMaster(master string) error {
	if master == "" {
		return nil
	}
	withScheme := master
	if !strings.Contains(master, "://") {
		withScheme = "https://" + master
	}
	u, err := url.Parse(withScheme)
	// net/http drops an empty port, which leaves "https://:" no host.
	if err == nil && strings.TrimSuffix(u.Host, ":") == "" {
		err = errors.New("it names no host")
	}
	// client-go takes a path after a scheme as the prefix of a proxy in
	// front of the API server, and refuses one after a bare host:port.
	if err == nil && withScheme != master && u.Path != "" && u.Path != "/" {
		err = fmt.Errorf("a path needs a scheme, as in https://%s", master)
	}
	// client-go drops a query, and clientcmd turns a fragment after a path
	// into part of the path: neither would mean what it says.
	if err == nil && strings.ContainsAny(master, "?#") {
		err = errors.New("an API server address has no query (?) or fragment (#)")
	}
	// url.Parse takes any digits for a port; dialling a port past 65535
	// would fail on every request.
	if err == nil && u.Port() != "" {
		if _, rangeErr := strconv.ParseUint(u.Port(), 10, 16); rangeErr != nil {
			err = fmt.Errorf("port %s is out of range: ports go from 0 to 65535", u.Port())
		}
	}
	if err == nil && u.Scheme != "http" && u.Scheme != "https" {
		err = fmt.Errorf("scheme %q is neither http nor https", u.Scheme)
	}
	if err != nil {
		return fmt.Errorf("--master=%q is not an API server address such as https://10.0.0.1:6443: %v", master, err)
	}
	return nil
}

// shardingFlags names the flag of each field that sharding.Config.Validate
// checks, so that its errors name what the user typed.
var shardingFlags = map[string]string{
	"election.name":          "--leader-elect-resource-name",
	"election.namespace":     "--leader-elect-resource-namespace",
	"election.leaseDuration": "--leader-elect-lease-duration",
	"election.renewDeadline": "--leader-elect-renew-deadline",
	"election.retryPeriod":   "--leader-elect-retry-period",
	"shards":                 "--shards",
}

// flagError is the first of errs as one line that names the flag at fault,
// and any other that its detail names, by the flags of their fields; nil
// without errs.
func flagError(errs field.ErrorList, flags map[string]string) error {
	if len(errs) == 0 {
		return nil
	}
	e := errs[0]
	name, ok := flags[e.Field]
	if !ok {
		return errors.New(escapeUnprintable(e.Error()))
	}
	detail := e.Detail
	for path, flagName := range flags {
		detail = strings.ReplaceAll(detail, path, flagName)
	}
	if e.Type == field.ErrorTypeRequired {
		return fmt.Errorf("%s must not be empty: %s", name, detail)
	}
	return fmt.Errorf("%s=%s: %s", name, escapeUnprintable(fmt.Sprint(e.BadValue)), escapeUnprintable(detail))
}
