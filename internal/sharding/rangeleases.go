package sharding

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/domac/crddemo/internal/shard"
)

// rangeLeases reads the shard Leases of a group, of every split, and judges
// which are held: a replica takes a range only while no held Lease of
// another split overlaps it.
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
	// duration is the lease duration of a Lease that states none.
	duration time.Duration

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

// heldRange is a shard Lease that some replica holds.
type heldRange struct {
	name, holder string
	hashes       shard.Range
}

func newRangeLeases(leases coordinationv1client.LeaseInterface, group string, duration time.Duration) *rangeLeases {
	return &rangeLeases{leases: leases, group: group, duration: duration,
		seen: map[string]observation{}, owners: map[string]ownership{}}
}

// held lists the group's shard Leases from the API server, not from a cache,
// and returns the held ones: a list made after a write of this replica's
// sees that write and every one before it.
func (l *rangeLeases) held(ctx context.Context) ([]heldRange, error) {
	list, err := l.leases.List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing the shard Leases of %s: %w", l.group, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	var held []heldRange
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
		if holder != "" && now.Sub(last.at) < duration {
			held = append(held, heldRange{name: lease.Name, holder: holder, hashes: hashes})
		}
	}
	for name := range l.seen {
		if !listed[name] {
			delete(l.seen, name)
			delete(l.owners, name)
		}
	}
	return held, nil
}

// noteOwnerLocked records a shard Lease as read: a release keeps the
// holder who released it. Called with l.mu held.
func (l *rangeLeases) noteOwnerLocked(name, holder, version string) {
	own := l.owners[name]
	if holder != "" && holder != own.holder {
		own.holder, own.since = holder, own.version
	}
	own.version = version
	l.owners[name] = own
}

// heldSince returns the latest resourceVersion that the shard Leases of any
// split overlapping r had, as this replica read them, before their last
// holders took them: what changed after it was theirs to sync, and what they
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
