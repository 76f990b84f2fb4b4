// Package sharding shares crddemo's work out among its replicas: the space
// of Mydemo UID hashes is split into shards, each owned by whoever holds its
// Lease, and every replica takes its fair share of them.
//
// The protocol, on nothing but Leases:
//
//   - Each replica keeps a membership Lease of its own, renewed every retry
//     period and deleted when it shuts down; counting the live ones tells
//     every replica how many share the work.
//   - A shard, a range of hashes, is owned by the holder of the Lease named
//     after its range (ShardLeaseName), taken, renewed and released with
//     internal/leaderelection, so that a shard's writes stop the renew
//     deadline after its last renewal began, before the Lease can pass to
//     another replica.
//   - Replicas that split the space differently (a rolling update changing
//     --shards) never own one hash at once: a replica takes a range only
//     while no held Lease of another split overlaps it, and having taken
//     it, reads every shard Lease again from the API server and hands the
//     range straight back, before any work, if one overlaps it (see
//     confirm).
//   - A Lease of a split that no one has held for unusedLeases lease
//     durations, as a rolling update leaves them behind, is removed by the
//     replicas of other splits, on condition that it is still the version
//     judged unused (see rangeLeases.remove).
//   - A replica that has just started takes nothing until its count of the
//     live replicas has settled (see settle), so that a fleet started at
//     once does not begin with one replica taking every shard.
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
	"math/rand/v2"
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
// writes under writeCtx: leaderelection.Run's lead. Changes to the shard's
// objects after the resourceVersion liveAfter are live changes, though they
// come in the shard's initial list (see sharer.liveAfter).
type Work func(ctx, writeCtx context.Context, shard int, liveAfter string)

// Run takes part in sharing cfg.Shards shards among the replicas until ctx is
// done, running work for each shard this replica owns; cfg is validated. It returns once every
// shard's work has returned and its Lease has been released.
func Run(ctx context.Context, leases coordinationv1client.LeasesGetter, cfg Config, work Work) error {
	logger := klog.FromContext(ctx).WithValues("shards", cfg.Shards)
	ctx = klog.NewContext(ctx, logger)
	election := cfg.Election
	m := newMembers(leases.Leases(election.Namespace), election.Name, election.Identity, election.LeaseDuration)
	ranges := shard.Split(cfg.Shards)
	names := map[string]bool{}
	for _, r := range ranges {
		names[ShardLeaseName(election.Name, r)] = true
	}
	s := &sharer{
		cfg: cfg, leases: leases, members: m, work: work, started: time.Now(),
		rangeLeases: newRangeLeases(leases.Leases(election.Namespace), election.Name, election.Identity, names, election.LeaseDuration),
		ranges:      ranges,
		names:       names,
		shards:      make([]*shardState, cfg.Shards),
		retryAt:     make([]time.Time, cfg.Shards),
	}
	s.changed = sync.NewCond(&s.mu)
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
	// rangeLeases reads the shard Leases of every split.
	rangeLeases *rangeLeases
	// ranges are this replica's split of the hashes, one per shard, and
	// names their Leases.
	ranges []shard.Range
	names  map[string]bool
	// live is the last count of live replicas, 0 until one succeeds.
	live int
	// started, steadyCounts and settled are for settle.
	started      time.Time
	steadyCounts int
	settled      bool
	// splitsSeen is set once this replica has logged that another split
	// runs.
	splitsSeen bool

	mu sync.Mutex
	// share is the fair share, 0 until the count of live replicas has
	// settled.
	share int
	// others are the held Leases of other splits, as last read.
	others []heldRange
	// retryAt is, per shard, when this replica may take it again after
	// handing it straight back (see confirm).
	retryAt []time.Time
	// changed is broadcast whenever a shard's work starts or returns, an
	// attempt to take one is lost, or mayAcquire's wait times out.
	changed *sync.Cond
	shards  []*shardState
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
	// taking is when this replica last set out to take the shard's Lease;
	// the attempt counts towards the share until the shard is owned, the
	// attempt has failed (lostTake), or a renew deadline has passed, so that
	// the shards' contenders, which all try at once, do not take more than
	// the share between them.
	taking time.Time
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
	}
	if !s.settle(ctx, live) {
		return
	}
	share := fairShare(s.cfg.Shards, live)
	held, unused, err := s.rangeLeases.read(ctx)
	if err != nil {
		// The check after each take still keeps splits apart.
		logger.Error(err, "Could not read the shard Leases; going by the last reading")
	}
	s.rangeLeases.remove(ctx, unused)

	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.noteOthersLocked(ctx, held)
	}
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

// settle reports whether this replica's count of live replicas, live, has
// settled, so that it may take shards. Replicas started together create
// their membership Leases a little apart, and one that took its share by its
// first count would take every shard, list every Mydemo and hand most of them
// back. So a replica takes nothing until three counts in a row, two retry
// periods, agree; replicas starting later than that join as any newcomer
// does. A count that keeps changing (a replica crash-looping) is trusted
// once a lease duration has passed since the start: no longer than a standby
// waits for a dead leader.
func (s *sharer) settle(ctx context.Context, live int) bool {
	if live == s.live {
		s.steadyCounts++
	} else {
		s.steadyCounts = 0
	}
	s.live = live
	if !s.settled && (s.steadyCounts >= 2 || time.Since(s.started) >= s.cfg.Election.LeaseDuration) {
		s.settled = true
		klog.FromContext(ctx).Info("Count of live replicas settled; taking the fair share", "count", live,
			"fairShare", fairShare(s.cfg.Shards, live), "after", time.Since(s.started).Round(time.Millisecond))
	}
	return s.settled
}

// noteOthersLocked keeps the held Leases of other splits, and logs once
// that another split runs. Called with s.mu held.
func (s *sharer) noteOthersLocked(ctx context.Context, held []heldRange) {
	s.others = s.others[:0]
	for _, h := range held {
		if !s.names[h.name] {
			s.others = append(s.others, h)
		}
	}
	if len(s.others) > 0 && !s.splitsSeen {
		s.splitsSeen = true
		klog.FromContext(ctx).Info("Replicas with another --shards are running, as during a rolling update that changes it: "+
			"this replica takes no range that overlaps one of their Leases until that Lease is released or expires",
			"lease", s.others[0].name, "holder", s.others[0].holder)
	}
}

// mayAcquire reports whether this replica may take shard i now: it is below
// its fair share, counting the shards it is taking, no held Lease of
// another split overlaps the shard, and it has not just handed the shard
// back. If so, the attempt counts towards the share from now on.
//
// While the share is full only because of attempts still under way, it
// waits for them, up to a renew deadline. When a fleet starts, all but one
// of the replicas that try a shard at once lose it, which frees their share
// (lostTake): declined at once, shard i would be tried again only on its
// next attempt, up to 2.2 retry periods later, and stay unowned meanwhile.
func (s *sharer) mayAcquire(i int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	deadline := time.Now().Add(s.cfg.Election.RenewDeadline)
	var timer *time.Timer
	for {
		now := time.Now()
		if now.Before(s.retryAt[i]) || len(overlapping(s.others, s.ranges[i], "")) > 0 {
			return false
		}
		taking := s.takingLocked(now)
		if s.ownedLocked()+taking < s.share {
			s.shards[i].taking = now
			return true
		}
		if taking == 0 || !now.Before(deadline) {
			return false
		}
		if timer == nil {
			// Wakes the wait below at the deadline if nothing else does.
			timer = time.AfterFunc(deadline.Sub(now), s.changed.Broadcast)
			defer timer.Stop()
		}
		s.changed.Wait()
	}
}

// takingLocked counts the attempts to take a shard that are under way: set
// out on within a renew deadline, and neither owned nor lost yet. Called
// with s.mu held.
func (s *sharer) takingLocked(now time.Time) int {
	taking := 0
	for _, st := range s.shards {
		if !st.owned && now.Sub(st.taking) < s.cfg.Election.RenewDeadline {
			taking++
		}
	}
	return taking
}

// lostTake frees the share that an attempt to take shard i held: another
// replica took the shard first, as happens to all but one when a fleet
// starts together. Held on for a renew deadline, the lost attempt would keep
// this replica from trying a free shard meanwhile, and leave it unowned.
func (s *sharer) lostTake(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shards[i].taking = time.Time{}
	s.changed.Broadcast()
}

// confirm reports whether shard i, whose Lease this replica has just taken,
// may be worked on: whether a fresh read of every shard Lease from the API
// server shows none of another split that overlaps it.
//
// Checking before the take is not enough: two replicas of different splits
// can both check, find nothing, and both take. Reading after the take
// closes that gap, because the API server orders the two takes: the later
// taker's read sees the earlier Lease, and it hands its own back; the
// earlier one sees the later Lease only if both took at nearly the same
// moment, and then both hand theirs back. Neither can tell who came first by
// the Leases' times, which come from two clocks, so neither wins such a tie:
// each waits a random part of two retry periods before it tries again, and
// one of them soon takes the range alone.
func (s *sharer) confirm(ctx context.Context, i int) bool {
	logger := klog.FromContext(ctx)
	held, _, err := s.rangeLeases.read(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.noteOthersLocked(ctx, held)
		found := overlapping(held, s.ranges[i], ShardLeaseName(s.cfg.Election.Name, s.ranges[i]))
		if len(found) == 0 {
			return true
		}
		logger.Info("Handing the shard straight back: a Lease of another split overlaps it",
			"range", s.ranges[i].String(), "lease", found[0].name, "holder", found[0].holder)
	} else {
		logger.Error(err, "Could not check the shard Leases of other splits; handing the shard back")
	}
	s.retryAt[i] = time.Now().Add(rand.N(2 * s.cfg.Election.RetryPeriod))
	return false
}

// contend starts contending for shard i in the background. Called with s.mu
// held.
func (s *sharer) contend(ctx context.Context, i int) {
	st := s.shards[i]
	contendCtx, stop := context.WithCancel(ctx)
	st.running, st.stop = true, stop
	election := s.cfg.Election
	election.Name = ShardLeaseName(s.cfg.Election.Name, s.ranges[i])
	election.AcquireIf = func() bool { return s.mayAcquire(i) }
	election.AcquireFailed = func() { s.lostTake(i) }
	logger := klog.FromContext(ctx).WithValues("shard", i)
	s.running.Go(func() {
		defer stop()
		err := leaderelection.Run(klog.NewContext(contendCtx, logger), s.leases, election, nil,
			func(ctx, writeCtx context.Context) {
				liveAfter := s.liveAfter(i)
				s.setOwned(i, true)
				defer s.setOwned(i, false)
				if s.confirm(ctx, i) {
					s.work(ctx, writeCtx, i, liveAfter)
				}
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
			s.changed.Wait()
		}
		*st = shardState{}
	})
}

// liveAfter is the resourceVersion after which a change to shard i's
// objects counts as live though it comes in the shard's initial list: the
// later of this replica's joining and the version of the shard's Lease
// before its last holder other than this replica took it. A change made since then fell to that
// holder as a live change, or to no owner at all, and someone waits for it;
// what it left unsynced of older changes, and what was there when this
// replica joined, is a backlog.
//
// It compares a Lease's resourceVersion with a Mydemo's, which the API
// promises only within one resource but one etcd gives for all; where
// Leases live in an etcd of their own, only the order of the queue is off.
func (s *sharer) liveAfter(i int) string {
	return laterVersion(s.members.joinedAt(), s.rangeLeases.heldSince(s.ranges[i]))
}

// setOwned records whether shard i's work runs.
func (s *sharer) setOwned(i int, owned bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shards[i].owned = owned
	if !owned {
		s.shards[i].stopping = false
	}
	s.changed.Broadcast()
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
