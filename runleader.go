package main

import (
	"context"
	"time"

	"k8s.io/client-go/kubernetes"
	clientgoleaderelection "k8s.io/client-go/tools/leaderelection"

	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/internal/serving"
)

// leaderWatchdogTimeout is how long past the lease duration since its last
// renewal a leader may go before /healthz fails and the kubelet restarts it
// (client-go's watchdog counts from the renewal it last saw).
const leaderWatchdogTimeout = 20 * time.Second

// leaderRunner runs the control loop over every Mydemo while this replica
// holds the leader's Lease. Its informer runs from the start, so that a
// standby's cache is warm when it takes over.
type leaderRunner struct {
	alone    *aloneRunner
	leases   kubernetes.Interface
	election leaderelection.Config
	watchdog *clientgoleaderelection.HealthzAdaptor
}

func newLeaderRunner(cfg *config) *leaderRunner {
	return &leaderRunner{
		alone:    newAloneRunner(cfg),
		leases:   cfg.leaseClient,
		election: *cfg.leaderElection,
		watchdog: clientgoleaderelection.NewLeaderHealthzAdaptor(leaderWatchdogTimeout),
	}
}

// checks: alive while the leader renews its Lease, ready once the cache
// has synced, leading or not.
func (r *leaderRunner) checks() (healthz, readyz []serving.Checker) {
	_, readyz = r.alone.checks()
	return []serving.Checker{r.watchdog}, readyz
}

func (r *leaderRunner) run(ctx context.Context, build buildLoop) error {
	loop, err := r.alone.start(ctx, build)
	if err != nil {
		return err
	}
	return leaderelection.Run(ctx, r.leases.CoordinationV1(), r.election, r.watchdog, loop)
}
