package main

import (
	"context"
	"net/http"

	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/serving"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions"
)

// runner is one way of running the control loop: alone (runalone.go), as
// the elected leader (runleader.go) or once per owned shard
// (runsharded.go). Adding a way to run is one more runner and one more case
// in newRunner.
type runner interface {
	// checks are the /healthz and /readyz checks of this way of running,
	// beside the ones that every way has.
	checks() (healthz, readyz []serving.Checker)
	// run runs the loops that build makes, each over the informer factory
	// of the Mydemos it syncs, until ctx is done.
	run(ctx context.Context, build buildLoop) error
}

// buildLoop builds the control loop over factory's Mydemo informer, before
// the factory is started, so that no event is missed. The loop it returns
// syncs until ctx is done, sending its writes under writeCtx. Mydemos
// changed after the resourceVersion liveAfter count as live changes even in
// the initial list ("": none do).
type buildLoop func(ctx context.Context, factory informers.SharedInformerFactory, liveAfter string) (loop func(ctx, writeCtx context.Context), err error)

// newRunner is the runner that cfg asks for.
func newRunner(cfg *config) runner {
	switch {
	case cfg.sharding != nil:
		return newShardedRunner(cfg)
	case cfg.leaderElection != nil:
		return newLeaderRunner(cfg)
	default:
		return newAloneRunner(cfg)
	}
}

// runController serves the HTTP endpoints and runs the control loop the
// way cfg asks, until ctx is done or, with --leader-elect, the lease is
// lost.
func runController(ctx context.Context, cfg *config) error {
	klog.FromContext(ctx).Info("Using Kubernetes API server", "host", cfg.host)
	r := newRunner(cfg)
	healthz, readyz := r.checks()
	healthz = append([]serving.Checker{serving.NamedCheck("ping", func(*http.Request) error { return nil })}, healthz...)
	readyz = append([]serving.Checker{cfg.health}, readyz...)
	if err := serving.Start(ctx, cfg.servers, healthz, readyz); err != nil {
		return err
	}
	return r.run(ctx, cfg.buildLoop)
}

// buildLoop is the one place where the controller is built: over the
// Mydemos of factory, with cfg's clients and settings.
func (c *config) buildLoop(ctx context.Context, factory informers.SharedInformerFactory, liveAfter string) (func(ctx, writeCtx context.Context), error) {
	controller, err := NewController(ctx, c.mydemoClient, factory.Crddemo().V1().Mydemos(), c.recorder,
		NewRetryRateLimiter(c.maxRetryDelay), liveAfter)
	if err != nil {
		return nil, err
	}
	return func(ctx, writeCtx context.Context) { controller.Run(ctx, writeCtx, c.workers) }, nil
}
