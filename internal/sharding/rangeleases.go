package sharding

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/domac/crddemo/internal/shard"
)

// rangeLeases reads the shard Leases of a group, of every split, and judges
// which are held: a replica takes a range only while no held Lease of
// another split overlaps it. It also removes the Leases of other splits that
// no one has held for long, which a rolling update that changes --shards
// leaves behind.
//
// A Lease is held while it names a holder that has renewed it within its
// lease duration, by this replica's own clock since it first read that
// renewal, as client-go's elector judges a leader: the clocks of two
// replicas never meet. A holder whose Lease has gone unrenewed that long has
// stopped writing already, since its fence falls the renew deadline after
// its last renewal began (internal/leaderelection).
type rangeLeases struct {
	leases coordinationv1client.LeaseInterface
	group  string
	// identity is this replica's: its own takes are not a last holder's.
	identity string
	// own names the Leases of this replica's split, which it never removes.
	own map[string]bool
	// duration is the lease duration of a Lease that states none.
	duration time.Duration
	clock    clock.PassiveClock

	mu sync.Mutex
	// seen is, for each shard Lease, its holder and renewal as last read and
	// when this replica first read them.
	seen map[string]observation
	// owners is, for each shard Lease, who took it last, as last read.
	owners map[string]ownership
}

// ownership is the last holder of a shard Lease that this replica read, the
// Lease's resourceVersion as last read, and since, its resourceVersion before
// that holder took it: "" if this replica read none before.
type ownership struct {
	holder, version, since string
}

// unusedLeases is how many lease durations a shard Lease of another split
// must have stayed as read, released or unrenewed, before it is removed:
// far longer than a replica of that split still running takes to take a
// released Lease back (its next attempt, within 2.2 retry periods), so that
// the hand-overs of a rolling update do not churn through deletes and
// re-creates, and short enough that the old split's Leases are gone within a
// minute of the roll (45 s with the default lease of 15 s).
const unusedLeases = 3

// heldRange is a shard Lease that some replica holds.
type heldRange struct {
	name, holder string
	hashes       shard.Range
}

// unusedLease is a shard Lease of another split that no one has held for
// unusedLeases lease durations, as read: it is removed only if it is still
// that version.
type unusedLease struct {
	name, resourceVersion string
	uid                   types.UID
	// unchangedFor is how long this replica has seen it as it was read.
	unchangedFor time.Duration
}

// newRangeLeases reads the shard Leases of group for the replica identity;
// own names the Leases of its split.
func newRangeLeases(leases coordinationv1client.LeaseInterface, group, identity string, own map[string]bool, duration time.Duration) *rangeLeases {
	return &rangeLeases{leases: leases, group: group, identity: identity, own: own, duration: duration, clock: clock.RealClock{},
		seen: map[string]observation{}, owners: map[string]ownership{}}
}

// read lists the group's shard Leases from the API server, not from a cache,
// and returns the held ones, and the unused ones of other splits: a list
// made after a write of this replica's sees that write and every one before
// it.
func (l *rangeLeases) read(ctx context.Context) (held []heldRange, unused []unusedLease, err error) {
	// Every Lease of the namespace, not those with a label, which would miss
	// a Lease written without it: that is cheap, since the namespace holds
	// crddemo's Leases, and each replica lists them once per retry period
	// (and once after each take).
	list, err := l.leases.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the shard Leases of %s: %w", l.group, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	listed := map[string]bool{}
	for _, lease := range list.Items {
		hashes, ok := parseShardLeaseName(l.group, lease.Name)
		if !ok {
			continue
		}
		listed[lease.Name] = true
		holder := ""
		if lease.Spec.HolderIdentity != nil {
			holder = *lease.Spec.HolderIdentity
		}
		l.noteOwnerLocked(lease.Name, holder, lease.ResourceVersion)
		record := holder
		if lease.Spec.RenewTime != nil {
			record += " " + lease.Spec.RenewTime.UTC().Format(time.RFC3339Nano)
		}
		last, ok := l.seen[lease.Name]
		if !ok || last.renewTime != record {
			last = observation{renewTime: record, at: now}
			l.seen[lease.Name] = last
		}
		duration := l.duration
		if lease.Spec.LeaseDurationSeconds != nil {
			duration = time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second
		}
		unchanged := now.Sub(last.at)
		if holder != "" && unchanged < duration {
			held = append(held, heldRange{name: lease.Name, holder: holder, hashes: hashes})
		} else if !l.own[lease.Name] && unchanged >= unusedLeases*max(duration, l.duration) {
			unused = append(unused, unusedLease{name: lease.Name, resourceVersion: lease.ResourceVersion, uid: lease.UID,
				unchangedFor: unchanged})
		}
	}
	for name := range l.seen {
		if !listed[name] {
			delete(l.seen, name)
			delete(l.owners, name)
		}
	}
	return held, unused, nil
}

// remove deletes the Leases of unused, each on condition that it is still
// the version read, its resourceVersion and UID: a replica of the other
// split that takes the Lease after it was read makes the delete fail with a
// Conflict, and keeps it. Otherwise a replica of this split could judge the
// range free while the other one works on it.
func (l *rangeLeases) remove(ctx context.Context, unused []unusedLease) {
	logger := klog.FromContext(ctx)
	for _, u := range unused {
		err := l.leases.Delete(ctx, u.name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &u.uid, ResourceVersion: &u.resourceVersion}})
		switch {
		case err == nil:
			logger.Info("Removed the Lease of a shard no split uses", "lease", u.name,
				"unchangedFor", u.unchangedFor.Round(time.Millisecond))
		case apierrors.IsConflict(err):
			logger.V(2).Info("Kept the Lease of another split: it changed after it was judged unused", "lease", u.name)
		case apierrors.IsNotFound(err):
			logger.V(2).Info("The Lease of a shard no split uses was removed by another replica", "lease", u.name)
		default:
			logger.Error(err, "Could not remove the Lease of a shard no split uses", "lease", u.name)
		}
	}
}

// noteOwnerLocked records a shard Lease as read: a release keeps the
// holder who released it, and this replica's own take keeps the version
// before the holder it took over from, which heldSince is asked about
// once the take is done and may have been read. Called with l.mu held.
func (l *rangeLeases) noteOwnerLocked(name, holder, version string) {
	own := l.owners[name]
	if holder != "" && holder != own.holder {
		own.holder = holder
		if holder != l.identity {
			own.since = own.version
		}
	}
	own.version = version
	l.owners[name] = own
}

// heldSince returns the latest resourceVersion that the shard Leases of any
// split overlapping r had, as this replica read them, before their last
// holders other than this replica took them: what changed after it was theirs to sync, and what they
// left unsynced was waited for as a live change. It is "" when this replica
// read no such version.
func (l *rangeLeases) heldSince(r shard.Range) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	latest := ""
	for name, own := range l.owners {
		if hashes, ok := parseShardLeaseName(l.group, name); ok && hashes.Overlaps(r) {
			latest = laterVersion(latest, own.since)
		}
	}
	return latest
}

// overlapping returns those of held that overlap r, except the Lease named
// own.
func overlapping(held []heldRange, r shard.Range, own string) []heldRange {
	var found []heldRange
	for _, h := range held {
		if h.name != own && h.hashes.Overlaps(r) {
			found = append(found, h)
		}
	}
	return found
}
