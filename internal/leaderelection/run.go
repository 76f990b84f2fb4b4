// Package leaderelection runs crddemo with a warm standby: every replica
// campaigns for one Lease, the holder runs the controller, and the others
// wait to take over, built on client-go's tools/leaderelection.
package leaderelection

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	// Makes client-go's elector report to component-base's legacy registry,
	// so that /metrics shows leader_election_master_status{name=<lease>},
	// 1 on the leader and 0 on standbys.
	_ "k8s.io/component-base/metrics/prometheus/clientgo/leaderelection"
)

// ErrLeaseLost is Run's error when the lease goes while the caller still
// wants to lead: a renewal failed for longer than the renew deadline, or
// another candidate took the lease. The caller should exit at once, since
// another replica may already be leading.
var ErrLeaseLost = errors.New("lost the leader lease")

// errElectionStopped is the cause with which Run cancels client-go's
// election, telling that apart from client-go giving up the lease itself.
var errElectionStopped = errors.New("leader election stopped")

// Run campaigns for the Lease that cfg, as validated, names until it acquires it or ctx is
// done, then runs lead. A standby returns nil as soon as ctx is done.
//
// lead gets two contexts. It should stop starting work when ctx is done:
// when Run's ctx is done, the lease is lost, or writes must stop. writeCtx
// bounds the writes themselves: it stays live through a graceful shutdown, so
// that work in flight can finish, but is cancelled the moment the lease may
// no longer be this candidate's, which is the renew deadline after the start
// of the last successful renewal (see fence). Work that sends every request
// under writeCtx therefore sends none once another candidate may lead.
//
// When ctx is done while leading, or lead returns on its own, Run waits for
// lead to return, then releases the lease so that a standby takes over at
// once, and returns nil. When the lease is lost first, Run returns
// ErrLeaseLost at once, without waiting for lead; writeCtx is cancelled by
// then.
//
// leases should come from a client made with ClientConfig, so that no lease
// request hangs. watchdog, if not nil, is told about the election, so that
// a health check fails when the leader has not renewed for too long.
//
// Every goroutine that Run starts has ended when it returns, except lead
// after a lost lease and the short-lived ones that client-go starts to
// report a new leader.
func Run(ctx context.Context, leases coordinationv1client.LeasesGetter, cfg Config,
	watchdog *leaderelection.HealthzAdaptor, lead func(ctx, writeCtx context.Context)) error {
	lease := cfg.Namespace + "/" + cfg.Name
	logger := klog.FromContext(ctx).WithValues("lease", lease)

	// The election gets its own context, detached from ctx, so that the
	// lease is released only after lead has returned: client-go releases it
	// as soon as the context it runs under is done.
	electionCtx, stopElection := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopElection(errElectionStopped)
	term := newLeaderTerm()
	writes := newFence(ctx, cfg.RenewDeadline)
	defer writes.end()
	elector, err := newElector(ctx, logger, leases, cfg, term, writes, lead)
	if err != nil {
		return fmt.Errorf("starting leader election for lease %s: %w", lease, err)
	}
	if watchdog != nil {
		watchdog.SetLeaderElection(elector)
	}

	logger.Info("Attempting to acquire leader lease", "identity", cfg.Identity)
	electionEnded := make(chan struct{})
	go func() {
		defer close(electionEnded)
		elector.Run(electionCtx)
	}()

	// The term ends when the caller shuts down, when lead is done, when
	// client-go gives the lease up, or when a renewal is overdue.
	select {
	case <-ctx.Done():
	case <-term.leadReturned():
	case <-electionEnded:
	case <-writes.context().Done():
	}
	// From now on lead no longer starts. One that has started must return
	// before the lease is released, unless the lease is gone already.
	if term.close() {
		select {
		case <-term.leadReturned():
		case <-electionEnded:
		}
	}
	// A lease that may have passed to another candidate while lead still
	// ran is lost, even on a graceful shutdown; once lead has returned,
	// renewals no longer matter.
	lost := writes.overdue()
	select {
	case <-electionEnded:
		// Only client-go giving the lease up ends the election before it
		// is stopped.
		lost = true
	default:
		stopElection(errElectionStopped)
		<-electionEnded
		lost = lost || term.lostLease(errElectionStopped)
	}

	switch {
	case lost:
		logger.Error(nil, "Leader lease lost", "identity", cfg.Identity)
		return ErrLeaseLost
	case !term.acquired():
		// A standby has no lease to release.
	case elector.IsLeader():
		// client-go has logged why; standbys take over once the lease
		// expires.
		logger.Info("Could not release the leader lease", "identity", cfg.Identity)
	default:
		logger.Info("Released the leader lease", "identity", cfg.Identity)
	}
	return nil
}

// newElector sets up client-go's elector for the Lease that cfg names, to
// run lead under term once the lease is acquired, with writes as its write
// context and a context that is also cancelled when ctx is done or writes
// must stop.
func newElector(ctx context.Context, logger klog.Logger, leases coordinationv1client.LeasesGetter, cfg Config,
	term *leaderTerm, writes *fence, lead func(ctx, writeCtx context.Context)) (*leaderelection.LeaderElector, error) {
	return leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &fencedLock{
			Interface: &resourcelock.LeaseLock{
				LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
				Client:     leases,
				LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.Identity},
			},
			fence:         writes,
			term:          term,
			acquireIf:     cfg.AcquireIf,
			acquireFailed: cfg.AcquireFailed,
		},
		LeaseDuration: cfg.LeaseDuration,
		RenewDeadline: cfg.RenewDeadline,
		RetryPeriod:   cfg.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaseCtx context.Context) {
				if !term.begin(leaseCtx) {
					return
				}
				defer term.end()
				leadCtx, cancel := context.WithCancel(leaseCtx)
				defer cancel()
				stopOnDone := context.AfterFunc(ctx, cancel)
				defer stopOnDone()
				stopOnFence := context.AfterFunc(writes.context(), cancel)
				defer stopOnFence()
				logger.Info("Became leader", "identity", cfg.Identity)
				lead(leadCtx, writes.context())
			},
			// Run learns that the election stopped when elector.Run
			// returns, which is after the release.
			OnStoppedLeading: func() {},
			OnNewLeader: func(identity string) {
				if identity != "" && identity != cfg.Identity {
					logger.Info("New leader elected", "leader", identity)
				}
			},
		},
		ReleaseOnCancel: true,
		// Labels the leader_election_master_status gauge.
		Name: cfg.Name,
	})
}
