// Package sharding shares crddemo's work out among its replicas: the space
// of Mydemo UID hashes is split into shards, each owned by whoever holds its
// Lease, and every replica takes its fair share of them.
//
// The protocol, on nothing but Leases:
//
//   - Each replica keeps a membership Lease of its own, renewed every retry
//     period and deleted when it shuts down; counting the live ones tells
//     every replica how many share the work.
//   - Shard i of n is owned by the holder of the Lease <name>-shard-<i>-of-<n>,
//     taken, renewed and released with internal/leaderelection, so that a
//     shard's writes stop the renew deadline after its last renewal began,
//     before the Lease can pass to another replica.
//   - A replica holds at most its fair share, ceil(n / live replicas). It
//     watches every shard's Lease all the time, as a standby watches a
//     leader's, but takes one only while below its share; above it (a
//     replica joined), it gives one shard up per retry period, once the
//     shard's in-flight syncs have finished, and the newcomer takes it.
//     Watching all the time is what lets a replica take a dead one's shards
//     as soon as their Leases expire: a watcher started later would first
//     wait a whole lease duration from the moment it looked.
//
// Losing a shard's Lease ends that shard's work only; the replica goes on
// with its other shards and contends again when below its share.
package sharding

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/internal/shard"
)

// Config says how many shards there are and how the replicas share them.
type Config struct {
	// Election names the group of replicas (its Name prefixes every Lease),
	// this replica's identity, the Leases' namespace and their timings.
	Election leaderelection.Config
	// Shards is how many shards the hash space is split into.
	Shards int
}

// Validate refuses a config that Run cannot run, as errors on its fields:
// the election's under "election", the count of shards as "shards".
func (c Config) Validate() field.ErrorList {
	errs := c.Election.Validate(field.NewPath("election"))
	if c.Shards < 1 || c.Shards > shard.MaxShards {
		errs = append(errs, field.Invalid(field.NewPath("shards"), c.Shards, fmt.Sprintf("must be from 1 to %d", shard.MaxShards)))
	}
	return errs
}

// Work runs the work of one owned shard until ctx is done, sending its
// writes under writeCtx: leaderelection.Run's lead.
type Work func(ctx, writeCtx context.Context, shard int)

// ShardLeaseName is the Lease that decides who owns shard of shards. The
// count is part of the name, so that replicas split differently never
// share a Lease for different ranges. hack/bench holds these Leases itself
// until every replica it starts has counted the others.
func ShardLeaseName(group string, shard, shards int) string {
	return fmt.Sprintf("%s-shard-%d-of-%d", group, shard, shards)
}

// Run takes part in sharing cfg.Shards shards among the replicas until ctx is
// done, running work for each shard this replica owns; cfg is validated. It returns once every
// shard's work has returned and its Lease has been released.
func Run(ctx context.Context, leases coordinationv1client.LeasesGetter, cfg Config, work Work) error {
	logger := klog.FromContext(ctx).WithValues("shards", cfg.Shards)
	ctx = klog.NewContext(ctx, logger)
	election := cfg.Election
	m := newMembers(leases.Leases(election.Namespace), election.Name, election.Identity, election.LeaseDuration)
	s := &sharer{cfg: cfg, leases: leases, members: m, work: work, shards: make([]*shardState, cfg.Shards)}
	s.workEnded = sync.NewCond(&s.mu)
	for i := range s.shards {
		s.shards[i] = &shardState{}
	}
	defer s.stopAll(ctx)

	ticker := time.NewTicker(election.RetryPeriod)
	defer ticker.Stop()
	for {
		s.rebalance(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// sharer is one replica's part in sharing the shards.
type sharer struct {
	cfg     Config
	leases  coordinationv1client.LeasesGetter
	members *members
	work    Work
	// live is the last count of live replicas, 0 until one succeeds.
	live int

	mu sync.Mutex
	// share is the fair share, 0 until the first count of live replicas.
	share int
	// workEnded is signalled, with mu, whenever a shard's work returns.
	workEnded *sync.Cond
	shards    []*shardState
	// running counts the contenders that have not returned yet.
	running sync.WaitGroup
}

// shardState is what this replica does about one shard.
type shardState struct {
	// running is set from the start of a contention for the shard until it
	// has returned: no second one may start meanwhile, or one process
	// would hold the shard's Lease twice under one identity.
	running bool
	// stop ends the contention for the shard, or gracefully its ownership;
	// nil once called, and while this replica does not contend for it.
	stop context.CancelFunc
	// owned is set while the shard's work runs.
	owned bool
	// stopping is set once stop has been called while owned.
	stopping bool
}

// rebalance renews this replica's membership and moves it towards its fair
// share: it contends for shards while below it, stops contending at it, and
// gives one shard up while above it.
func (s *sharer) rebalance(ctx context.Context) {
	logger := klog.FromContext(ctx)
	if err := s.members.renew(ctx); err != nil {
		logger.Error(err, "Could not renew the membership Lease; the shards held are kept")
	}
	live, err := s.members.count(ctx)
	if err != nil {
		// Without a count, keep the share as it is: taking more could
		// starve a replica that joined, and giving up could leave shards
		// without an owner.
		logger.Error(err, "Could not count the live replicas; the shards held are kept")
		return
	}
	if live != s.live {
		logger.Info("Live replicas", "count", live, "fairShare", fairShare(s.cfg.Shards, live))
		s.live = live
	}
	share := fairShare(s.cfg.Shards, live)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.share = share
	owned := s.ownedLocked()
	if owned > share {
		// Give up the last shard owned, one per retry period, so that a
		// newcomer can take it and no replica drops below its share.
		for i := len(s.shards) - 1; i >= 0; i-- {
			if st := s.shards[i]; st.owned && !st.stopping {
				logger.Info("Giving up a shard over the fair share", "shard", i, "owned", owned, "fairShare", share)
				st.stopping = true
				st.stop()
				st.stop = nil
				break
			}
		}
	}
	for i, st := range s.shards {
		if !st.running {
			s.contend(ctx, i)
		}
	}
}

// ownedLocked counts the shards owned and not being given up. Called with
// s.mu held.
func (s *sharer) ownedLocked() int {
	owned := 0
	for _, st := range s.shards {
		if st.owned && !st.stopping {
			owned++
		}
	}
	return owned
}

// mayAcquire reports whether this replica is below its fair share, so that
// it may take one more shard.
func (s *sharer) mayAcquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ownedLocked() < s.share
}

// contend starts contending for shard i in the background. Called with s.mu
// held.
func (s *sharer) contend(ctx context.Context, i int) {
	st := s.shards[i]
	contendCtx, stop := context.WithCancel(ctx)
	st.running, st.stop = true, stop
	election := s.cfg.Election
	election.Name = ShardLeaseName(s.cfg.Election.Name, i, s.cfg.Shards)
	election.AcquireIf = s.mayAcquire
	logger := klog.FromContext(ctx).WithValues("shard", i)
	s.running.Go(func() {
		defer stop()
		err := leaderelection.Run(klog.NewContext(contendCtx, logger), s.leases, election, nil,
			func(ctx, writeCtx context.Context) {
				s.setOwned(i, true)
				defer s.setOwned(i, false)
				s.work(ctx, writeCtx, i)
			})
		if err != nil {
			logger.Error(err, "Shard lost; its writes had stopped already")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		// A lost Lease ends Run before the shard's work has returned; its
		// writes have stopped, but its cache and queue must be gone too
		// before the shard can be taken again.
		for st.owned {
			s.workEnded.Wait()
		}
		*st = shardState{}
	})
}

// setOwned records whether shard i's work runs.
func (s *sharer) setOwned(i int, owned bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shards[i].owned = owned
	if !owned {
		s.shards[i].stopping = false
		s.workEnded.Broadcast()
	}
}

// stopAll ends every contention and, gracefully, every ownership, waits
// for them, and leaves the group.
func (s *sharer) stopAll(ctx context.Context) {
	s.mu.Lock()
	for _, st := range s.shards {
		if st.stop != nil {
			st.stop()
		}
	}
	s.mu.Unlock()
	s.running.Wait()
	leaveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Election.RenewDeadline)
	defer cancel()
	if err := s.members.leave(leaveCtx); err != nil {
		klog.FromContext(ctx).Error(err, "Could not leave the group; the others count this replica until its Lease expires")
	}
}

// fairShare is how many of shards one of live replicas may own.
func fairShare(shards, live int) int {
	return (shards + live - 1) / live
}
