// Command crddemo is a Kubernetes controller for Mydemo objects, written in
// the classic client-go style: a shared informer feeds a rate-limited
// workqueue, and workers sync each queued object.
//
// It runs the way kube-controller-manager does: options (options.go) are
// parsed and validated, turned into a config of clients and settings
// (config.go), and then run here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	clientgoleaderelection "k8s.io/client-go/tools/leaderelection"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"

	// Makes --logging-format=json available.
	_ "k8s.io/component-base/logs/json/register"

	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/internal/serving"
	"github.com/domac/crddemo/internal/version"
)

// leaderWatchdogTimeout is how long past the lease duration since its last
// renewal a leader may go before /healthz fails and the kubelet restarts it
// (client-go's watchdog counts from the renewal it last saw).
const leaderWatchdogTimeout = 20 * time.Second

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

// serveMetrics serves /metrics, and the profiles with --profiling: over
// HTTPS to the callers the API server authenticates and authorizes, or with
// --metrics-secure=false over plain HTTP to anyone.
func serveMetrics(ctx context.Context, cfg *config) error {
	handler := serving.MetricsHandler(cfg.profiling)
	security := cfg.metricsSecurity
	if security == nil {
		_, err := serving.Serve(ctx, "metrics", cfg.metricsAddress, handler)
		return err
	}
	handler = serving.WithAuthenticationAndAuthorization(handler, security.authenticator, security.authorizer)
	_, err := serving.ServeTLS(ctx, "metrics", cfg.metricsAddress, handler, security.certificates)
	return err
}

// runController starts the informer, the HTTP endpoints and the controller,
// and blocks until ctx is cancelled or, with --leader-elect, the lease is
// lost. The informer runs whether or not this replica leads, so that a
// standby's cache is warm when it takes over. With --shards, it runs
// runShards instead.
func runController(ctx context.Context, cfg *config) error {
	logger := klog.FromContext(ctx)
	logger.Info("Using Kubernetes API server", "host", cfg.host)
	if cfg.shards > 1 {
		return runSharded(ctx, cfg)
	}

	mydemos := cfg.informers.Crddemo().V1().Mydemos()
	controller, err := NewController(ctx, cfg.mydemoClient, mydemos, cfg.recorder, NewRetryRateLimiter(cfg.retryDelay))
	if err != nil {
		return err
	}

	var watchdog *clientgoleaderelection.HealthzAdaptor
	healthz := []serving.Checker{serving.NamedCheck("ping", func(*http.Request) error { return nil })}
	if cfg.leaderElection != nil {
		watchdog = clientgoleaderelection.NewLeaderHealthzAdaptor(leaderWatchdogTimeout)
		healthz = append(healthz, watchdog)
	}
	readyz := []serving.Checker{cfg.health, serving.NamedCheck("informer-sync", func(*http.Request) error {
		if !mydemos.Informer().HasSynced() {
			return errors.New("the Mydemo cache has not synced yet")
		}
		return nil
	})}
	if err := serveEndpoints(ctx, cfg, healthz, readyz); err != nil {
		return err
	}

	// The informer stops when ctx is cancelled. Run does not wait for it
	// (factory.Shutdown would): while the API server is unreachable,
	// client-go's reflector can sit out a backoff of many seconds before it
	// notices, and shutting down must not take that long.
	cfg.informers.Start(ctx.Done())

	if cfg.leaderElection == nil {
		// A lone replica may write for as long as it runs.
		controller.Run(ctx, context.WithoutCancel(ctx), cfg.workers)
		return nil
	}
	return leaderelection.Run(ctx, cfg.leaseClient.CoordinationV1(), *cfg.leaderElection, watchdog, func(ctx, writeCtx context.Context) {
		controller.Run(ctx, writeCtx, cfg.workers)
	})
}

// runSharded serves the HTTP endpoints and runs runShards. A replica is
// ready once the caches of the shards it owns have synced; it has no leader
// watchdog, since losing a shard's Lease ends that shard's work at once.
func runSharded(ctx context.Context, cfg *config) error {
	owned := newOwnedShards()
	legacyregistry.CustomMustRegister(owned)
	healthz := []serving.Checker{serving.NamedCheck("ping", func(*http.Request) error { return nil })}
	if err := serveEndpoints(ctx, cfg, healthz, []serving.Checker{cfg.health, owned}); err != nil {
		return err
	}
	return runShards(ctx, cfg, owned)
}

// serveEndpoints serves the health probes and the metrics, where their
// flags ask for them.
func serveEndpoints(ctx context.Context, cfg *config, healthz, readyz []serving.Checker) error {
	if cfg.healthProbeAddr != "0" {
		if _, err := serving.Serve(ctx, "health probes", cfg.healthProbeAddr, serving.ProbesHandler(healthz, readyz)); err != nil {
			return err
		}
	}
	if cfg.metricsAddress != "0" {
		return serveMetrics(ctx, cfg)
	}
	return nil
}
