package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"
)

// options are crddemo's command-line settings.
type options struct {
	kubeconfig   string
	master       string
	workers      int
	kubeAPIQPS   float64
	kubeAPIBurst int
}

// parseOptions parses the command line. --help prints the usage to stdout and
// returns flag.ErrHelp; any other problem comes back as one error, with
// nothing printed, so that main can report it on one line.
func parseOptions(args []string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("crddemo", flag.ContinueOnError)
	fs.StringVar(&o.kubeconfig, "kubeconfig", "",
		"Path to a kubeconfig. If empty, $KUBECONFIG or ~/.kube/config is used, then the in-cluster config.")
	fs.StringVar(&o.master, "master", "",
		"Address of the Kubernetes API server. Overrides the server in the kubeconfig.")
	fs.IntVar(&o.workers, "workers", 2, "Number of Mydemo objects synced in parallel.")
	fs.Float64Var(&o.kubeAPIQPS, "kube-api-qps", 20, "Requests per second allowed to the API server, on average.")
	fs.IntVar(&o.kubeAPIBurst, "kube-api-burst", 30, "Requests allowed to the API server in a burst above --kube-api-qps.")
	klog.InitFlags(fs)

	// The flag package would print the whole usage after every mistake;
	// keep it quiet and print the usage only when it is asked for.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(fs, stdout)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: crddemo takes only flags", fs.Arg(0))
	}
	return o, o.validate()
}

func printUsage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprintf(out, "crddemo watches Mydemo objects (mydemos.crddemo.k8s.io) and syncs them.\n\n"+
		"Usage: crddemo [--kubeconfig=PATH] [--master=URL] [flags]\n\nFlags:\n")
	fs.SetOutput(out)
	fs.PrintDefaults()
}

func (o *options) validate() error {
	if o.workers < 1 {
		return fmt.Errorf("--workers must be at least 1, got %d", o.workers)
	}
	if o.kubeAPIQPS <= 0 {
		return fmt.Errorf("--kube-api-qps must be positive, got %v", o.kubeAPIQPS)
	}
	if o.kubeAPIBurst < 1 {
		return fmt.Errorf("--kube-api-burst must be at least 1, got %d", o.kubeAPIBurst)
	}
	return nil
}

// restConfig finds the API server the way kubectl does: --kubeconfig, else
// $KUBECONFIG, else ~/.kube/config, else the pod's in-cluster config; --master
// replaces the server address of whichever is used.
func (o *options) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	overrides := &clientcmd.ConfigOverrides{ClusterInfo: clientcmdapi.Cluster{Server: o.master}}
	config, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, errors.New("no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, " +
			"create ~/.kube/config or run inside a cluster")
	}
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	config.QPS = float32(o.kubeAPIQPS)
	config.Burst = o.kubeAPIBurst
	return config, nil
}
