// Command crddemo is a Kubernetes controller for Mydemo objects, written in
// the classic client-go style: a shared informer feeds a rate-limited
// workqueue, and workers sync each queued object.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run turns the command line into an exit code: 0 after --help or a
// graceful shutdown, 2 for a bad command line, 1 for any other failure.
func run(args []string) int {
	opts, err := parseOptions(args, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crddemo: %v (see crddemo --help)\n", err)
		return 2
	}
	defer klog.Flush()

	ctx := signalContext(context.Background())
	if err := runController(ctx, opts); err != nil {
		fmt.Fprintf(os.Stderr, "crddemo: %v\n", err)
		return 1
	}
	klog.FromContext(ctx).Info("Shut down cleanly")
	return 0
}

// runController connects to the API server, starts the informer and runs the
// controller until ctx is cancelled.
func runController(ctx context.Context, opts *options) error {
	logger := klog.FromContext(ctx)
	config, err := opts.restConfig()
	if err != nil {
		return err
	}
	client, err := clientset.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("creating the Mydemo client for %s: %w", config.Host, err)
	}
	coreClient, err := typedcorev1.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("creating the events client for %s: %w", config.Host, err)
	}
	logger.Info("Using Kubernetes API server", "host", config.Host)
	go reportUntilAPIAvailable(ctx, client, config.Host)

	hostname, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("reading the host name for event sources: %w", err)
	}
	// No resync period: the update handler would skip every resync anyway,
	// since a resync redelivers objects whose resourceVersion is unchanged.
	factory := informers.NewSharedInformerFactory(client, 0)
	controller, err := NewController(ctx, client, factory.Crddemo().V1().Mydemos(),
		&apiEventRecorder{events: coreClient, host: hostname},
		workqueue.DefaultTypedControllerRateLimiter[cache.ObjectName]())
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	controller.Run(ctx, opts.workers)
	return nil
}
