// Command crddemo is a Kubernetes controller for Mydemo objects, written in
// the classic client-go style: a shared informer feeds a rate-limited
// workqueue, and workers sync each queued object.
//
// It runs the way kube-controller-manager does: options (options.go) are
// parsed and validated, turned into a config of clients and settings
// (config.go), and then run (runner.go) alone, as the elected leader or
// once per owned shard.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/klog/v2"

	// Makes --logging-format=json available.
	_ "k8s.io/component-base/logs/json/register"

	"github.com/domac/crddemo/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run turns the command line into an exit code: 0 after --help, --version or
// a graceful shutdown, 2 for a bad command line (or one that the loaded
// configuration shows to be unsafe), 1 for any other failure.
func run(args []string) int {
	opts, err := parseOptions(args, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil && !opts.showVersion {
		err = applyLogging(opts.logging)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crddemo: %v (see crddemo --help)\n", err)
		return 2
	}
	if opts.showVersion {
		fmt.Println(version.Get())
		return 0
	}
	defer klog.Flush()

	ctx := signalContext(context.Background())
	cfg, err := newConfig(opts)
	if err == nil {
		err = runController(ctx, cfg)
	}
	if errors.As(err, new(usageError)) {
		fmt.Fprintf(os.Stderr, "crddemo: %v (see crddemo --help)\n", err)
		return 2
	}
	if err != nil {
		klog.Flush()
		fmt.Fprintf(os.Stderr, "crddemo: %v\n", err)
		return 1
	}
	klog.FromContext(ctx).Info("Shut down cleanly")
	return 0
}

// applyLogging switches to the logs API's JSON format if asked. The default
// text format is klog's own, which honours every klog flag (-v,
// -alsologtostderr, -log_file, ...), as the walkthrough uses them.
func applyLogging(logging *logsapi.LoggingConfiguration) error {
	if logging.Format == "text" {
		return nil
	}
	if err := logsapi.ValidateAndApply(logging, nil); err != nil {
		return fmt.Errorf("--logging-format=%s: %w", logging.Format, err)
	}
	return nil
}
