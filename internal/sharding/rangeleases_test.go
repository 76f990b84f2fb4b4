package sharding

import (
	"slices"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/klog/v2/ktesting"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/fakeleases"
	"github.com/domac/crddemo/internal/shard"
)

func TestRangeLeasesHeldJudgesByRenewalsSeen(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	leases := client.CoordinationV1().Leases("crddemo-system")
	now := metav1.NowMicro()
	lease := func(name, holder string) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To[int32](1),
				RenewTime: &now},
		}
	}
	four, six := shard.Split(4), shard.Split(6)
	for _, l := range []*coordinationv1.Lease{
		lease(ShardLeaseName("crddemo", four[0]), "a"),
		lease(ShardLeaseName("crddemo", six[5]), ""), // released
		lease(ShardLeaseName("other", six[0]), "c"),  // another group's
		lease("crddemo", "d"),                        // the leader's
	} {
		if _, err := leases.Create(t.Context(), l, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	r := newRangeLeases(leases, "crddemo", "me", nil, time.Second)
	clock := testingclock.NewFakePassiveClock(time.Now())
	r.clock = clock
	held, _, err := r.read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || held[0].holder != "a" || held[0].hashes != four[0] {
		t.Fatalf("held = %+v, want only a's Lease of %v", held, four[0])
	}
	if got := overlapping(held, six[1], ""); len(got) != 1 {
		t.Errorf("overlapping(%v) = %+v, want a's Lease of %v", six[1], got, four[0])
	}
	if got := overlapping(held, six[2], ""); len(got) != 0 {
		t.Errorf("overlapping(%v) = %+v, want none", six[2], got)
	}
	if got := overlapping(held, four[0], ShardLeaseName("crddemo", four[0])); len(got) != 0 {
		t.Errorf("overlapping(own Lease) = %+v, want none", got)
	}

	// Unrenewed for its lease duration since this replica first read it,
	// a's Lease is no longer held, whatever its renewTime says.
	clock.SetTime(clock.Now().Add(time.Second))
	if held, _, err := r.read(t.Context()); err != nil || len(held) != 0 {
		t.Fatalf("held after a lease duration without a renewal = %+v, %v; want none", held, err)
	}
}

// oldSplit is a namespace of Leases in the middle of a rolling update from 6
// shards to 4, read by a replica of the 4 split through a fake clock.
type oldSplit struct {
	t      *testing.T
	leases coordinationv1client.LeaseInterface
	clock  *testingclock.FakePassiveClock
	r      *rangeLeases
}

func newOldSplit(t *testing.T) *oldSplit {
	leases := fakeleases.NewClientset(nil).CoordinationV1().Leases("crddemo-system")
	own := map[string]bool{}
	for _, r := range shard.Split(4) {
		own[ShardLeaseName("crddemo", r)] = true
	}
	o := &oldSplit{t: t, leases: leases, clock: testingclock.NewFakePassiveClock(time.Now()),
		r: newRangeLeases(leases, "crddemo", "me", own, time.Second)}
	o.r.clock = o.clock
	return o
}

// put creates or overwrites the Lease name, held by holder ("": released, as
// client-go releases a Lease) and renewed now by the fake clock.
func (o *oldSplit) put(name, holder string, labels map[string]string) {
	o.t.Helper()
	now := metav1.NewMicroTime(o.clock.Now())
	lease, err := o.leases.Get(o.t.Context(), name, metav1.GetOptions{})
	if err != nil {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	}
	lease.Spec = coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To[int32](1),
		AcquireTime: &now, RenewTime: &now}
	if lease.ResourceVersion == "" {
		_, err = o.leases.Create(o.t.Context(), lease, metav1.CreateOptions{})
	} else {
		_, err = o.leases.Update(o.t.Context(), lease, metav1.UpdateOptions{})
	}
	if err != nil {
		o.t.Fatal(err)
	}
}

// pass reads the Leases and removes the unused ones, as rebalance does.
func (o *oldSplit) pass() {
	o.t.Helper()
	_, unused, err := o.r.read(o.t.Context())
	if err != nil {
		o.t.Fatal(err)
	}
	_, ctx := ktesting.NewTestContext(o.t)
	o.r.remove(ctx, unused)
}

// names are the names of the Leases there.
func (o *oldSplit) names() []string {
	o.t.Helper()
	list, err := o.leases.List(o.t.Context(), metav1.ListOptions{})
	if err != nil {
		o.t.Fatal(err)
	}
	var names []string
	for _, lease := range list.Items {
		names = append(names, lease.Name)
	}
	return names
}

// TestLeasesOfAnOldSplitAreRemovedOnceUnusedLongEnough: a Lease of another
// split, released or left unrenewed by a killed holder, is removed once it
// has stayed so for unusedLeases lease durations by this replica's clock,
// not before, whatever its renewTime says.
func TestLeasesOfAnOldSplitAreRemovedOnceUnusedLongEnough(t *testing.T) {
	o := newOldSplit(t)
	six := shard.Split(6)
	released, unrenewed := ShardLeaseName("crddemo", six[0]), ShardLeaseName("crddemo", six[1])
	o.put(released, "", nil)
	o.put(unrenewed, "killed", nil)
	// Their renewTime is long past; only what this replica has seen counts.
	o.clock.SetTime(o.clock.Now().Add(time.Hour))
	step := 100 * time.Millisecond
	for elapsed := time.Duration(0); elapsed < unusedLeases*time.Second; elapsed += step {
		o.pass()
		if names := o.names(); !slices.Contains(names, released) || !slices.Contains(names, unrenewed) {
			t.Fatalf("Leases after %v unused: %v; want both old ones kept for %d lease durations", elapsed, names, unusedLeases)
		}
		o.clock.SetTime(o.clock.Now().Add(step))
	}
	o.pass()
	if names := o.names(); len(names) != 0 {
		t.Errorf("Leases after %d lease durations unused: %v, want the old split's removed", unusedLeases, names)
	}
}

// TestLeasesInUseOrNotOfAnotherSplitAreKept: a held Lease of another split,
// a Lease of the replica's own split, a membership Lease, another group's
// shard Lease and the leader's Lease are never removed, however long they
// stay released.
func TestLeasesInUseOrNotOfAnotherSplitAreKept(t *testing.T) {
	o := newOldSplit(t)
	six, four := shard.Split(6), shard.Split(4)
	held := ShardLeaseName("crddemo", six[2])
	kept := []string{
		held,
		ShardLeaseName("crddemo", four[0]),
		memberLeaseName("crddemo", "gone"),
		ShardLeaseName("other", six[0]),
		"crddemo",
	}
	o.put(held, "old", nil)
	o.put(kept[1], "", nil)
	o.put(kept[2], "", map[string]string{MemberOfLabel: "crddemo"})
	o.put(kept[3], "", nil)
	o.put(kept[4], "", nil)
	for range 10 * unusedLeases {
		o.pass()
		o.clock.SetTime(o.clock.Now().Add(500 * time.Millisecond))
		o.put(held, "old", nil) // renewed twice per lease duration
	}
	o.pass()
	if names := o.names(); len(names) != len(kept) {
		t.Errorf("Leases after %d lease durations: %v, want all of %v", 5*unusedLeases, names, kept)
	}
}

// TestALeaseTakenAfterItWasJudgedUnusedIsKept: a replica of the old split
// takes the Lease between the read that judged it unused and the delete;
// the delete, on condition of the version read, fails, and the Lease stays
// with its new holder.
func TestALeaseTakenAfterItWasJudgedUnusedIsKept(t *testing.T) {
	o := newOldSplit(t)
	name := ShardLeaseName("crddemo", shard.Split(6)[0])
	o.put(name, "", nil)
	o.pass()
	o.clock.SetTime(o.clock.Now().Add(unusedLeases * time.Second))
	_, unused, err := o.r.read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(unused) != 1 || unused[0].name != name {
		t.Fatalf("unused = %+v, want %s", unused, name)
	}
	o.put(name, "old", nil)
	_, ctx := ktesting.NewTestContext(t)
	o.r.remove(ctx, unused)
	lease, err := o.leases.Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Lease taken after it was judged unused was removed: %v", err)
	}
	if holder := *lease.Spec.HolderIdentity; holder != "old" {
		t.Errorf("the Lease's holder = %q, want old, which took it", holder)
	}
}

// TestHeldSinceIsBeforeTheLastOtherHolder: the version heldSince gives for a
// range is the Lease's before the last holder other than this replica took
// it, whether or not this replica has read its own take since.
func TestHeldSinceIsBeforeTheLastOtherHolder(t *testing.T) {
	o := newOldSplit(t)
	name := ShardLeaseName("crddemo", shard.Split(1)[0])
	read := func() string {
		t.Helper()
		if _, _, err := o.r.read(t.Context()); err != nil {
			t.Fatal(err)
		}
		lease, err := o.leases.Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return lease.ResourceVersion
	}
	o.put(name, "old", nil)
	beforeNew := read()
	o.put(name, "new", nil)
	read()
	o.put(name, "new", nil)
	read()
	want := beforeNew
	if got := o.r.heldSince(shard.Split(1)[0]); got != want {
		t.Fatalf("heldSince while new holds = %q, want %q, the version before new took it", got, want)
	}
	o.put(name, "me", nil)
	read()
	if got := o.r.heldSince(shard.Split(1)[0]); got != want {
		t.Errorf("heldSince after this replica's own take = %q, want %q, the version before new took it", got, want)
	}
	// Once another replica takes it from this one, it is that one's.
	o.put(name, "", nil)
	released := read()
	o.put(name, "next", nil)
	read()
	if got := o.r.heldSince(shard.Split(1)[0]); got != released {
		t.Errorf("heldSince after next took it = %q, want %q, the version before next took it", got, released)
	}
}
