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
// standby's cache is warm when it takes over, and it campaigns for the Lease
// only once that cache has synced.
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
	election := r.election
	// A replica whose cache has not synced, such as the one a Deployment
	// starts in place of a deleted leader, must not take a released Lease
	// ahead of a warm standby: it could not sync anything until its list
	// had come in.
	election.AcquireIf = r.alone.factory.Crddemo().V1().Mydemos().Informer().HasSynced
	return leaderelection.Run(ctx, r.leases.CoordinationV1(), election, r.watchdog, loop)
}
