package leaderelection

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// recordingLock is a resourcelock.Interface that records the writes made
// through it and can be told to fail them.
type recordingLock struct {
	resourcelock.Interface
	fail   error
	writes []resourcelock.LeaderElectionRecord
}

func (l *recordingLock) Identity() string { return "alpha" }

func (l *recordingLock) Create(_ context.Context, record resourcelock.LeaderElectionRecord) error {
	l.writes = append(l.writes, record)
	return l.fail
}

func (l *recordingLock) Update(_ context.Context, record resourcelock.LeaderElectionRecord) error {
	l.writes = append(l.writes, record)
	return l.fail
}

func newTestLock(window time.Duration) (*fencedLock, *recordingLock) {
	inner := &recordingLock{}
	return &fencedLock{Interface: inner, fence: newFence(context.Background(), window), term: newLeaderTerm()}, inner
}

func TestFencedLockRaisesTheFenceOnlyOnASuccessfulRenewal(t *testing.T) {
	lock, inner := newTestLock(time.Hour)
	inner.fail = errors.New("etcd is slow")
	if err := lock.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err == nil {
		t.Fatal("a failed renewal reported success")
	}
	if !lock.fence.until.IsZero() {
		t.Error("a failed renewal moved the fence")
	}
	inner.fail = nil
	before := time.Now()
	if err := lock.Create(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err != nil {
		t.Fatal(err)
	}
	if lock.fence.until.Before(before.Add(time.Hour)) {
		t.Errorf("the fence stands until %v after an acquisition that began at %v, want a window of an hour", lock.fence.until, before)
	}
	lock.fence.end()
}

func TestFencedLockReleasesOnlyOnceLeadHasReturned(t *testing.T) {
	lock, inner := newTestLock(time.Hour)
	if err := lock.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err != nil {
		t.Fatal(err)
	}
	lock.term.begin(t.Context())

	released := make(chan error, 1)
	go func() { released <- lock.Update(t.Context(), resourcelock.LeaderElectionRecord{}) }()
	<-lock.fence.context().Done() // the release cuts the writes off first
	select {
	case err := <-released:
		t.Fatalf("the lease was released (%v) while lead was still running", err)
	case <-time.After(50 * time.Millisecond):
	}
	lock.term.end()
	if err := receive(t, released, "the release did not go ahead once lead had returned"); err != nil {
		t.Fatal(err)
	}
	if n := len(inner.writes); n != 2 || inner.writes[1].HolderIdentity != "" {
		t.Errorf("writes %+v, want the renewal and then the release", inner.writes)
	}
}

func TestFencedLockWritesNothingOnceARenewalWasOverdue(t *testing.T) {
	lock, inner := newTestLock(time.Millisecond)
	if err := lock.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err != nil {
		t.Fatal(err)
	}
	<-lock.fence.context().Done()
	for _, record := range []resourcelock.LeaderElectionRecord{{HolderIdentity: "alpha"}, {}} {
		if err := lock.Update(t.Context(), record); !errors.Is(err, errRenewalOverdue) {
			t.Errorf("a write of %+v after the fence fell = %v, want errRenewalOverdue", record, err)
		}
	}
	if len(inner.writes) != 1 {
		t.Errorf("writes %+v, want only the renewal before the fence fell", inner.writes)
	}
}

func TestFencedLockAcquiresOnlyIfAcquireIfSaysSo(t *testing.T) {
	lock, inner := newTestLock(time.Hour)
	admit := false
	lock.acquireIf = func() bool { return admit }
	if err := lock.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); !errors.Is(err, errNotAcquiring) {
		t.Fatalf("an acquisition AcquireIf declined = %v, want errNotAcquiring", err)
	}
	if len(inner.writes) != 0 {
		t.Fatalf("a declined acquisition wrote %+v", inner.writes)
	}
	admit = true
	if err := lock.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err != nil {
		t.Fatal(err)
	}
	// Renewals go ahead whatever AcquireIf says.
	admit = false
	if err := lock.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err != nil {
		t.Errorf("a renewal with AcquireIf saying no = %v, want it made", err)
	}
	if len(inner.writes) != 2 {
		t.Errorf("writes %+v, want the acquisition and the renewal", inner.writes)
	}
	lock.fence.end()
}

func TestFencedLockTellsOfAFailedAcquisitionOnly(t *testing.T) {
	lock, inner := newTestLock(time.Hour)
	admit, failed := false, 0
	lock.acquireIf = func() bool { return admit }
	lock.acquireFailed = func() { failed++ }
	if err := lock.Create(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); !errors.Is(err, errNotAcquiring) {
		t.Fatalf("an acquisition AcquireIf declined = %v, want errNotAcquiring", err)
	}
	if failed != 0 {
		t.Errorf("a declined acquisition was reported failed %d times, want none: it never tried", failed)
	}
	admit = true
	inner.fail = errors.New(`leases.coordination.k8s.io "shard" already exists`)
	if err := lock.Create(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err == nil {
		t.Fatal("an acquisition whose write failed reported success")
	}
	if failed != 1 {
		t.Errorf("an acquisition another candidate won was reported failed %d times, want once", failed)
	}
	inner.fail = nil
	if err := lock.Create(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err != nil {
		t.Fatal(err)
	}
	inner.fail = errors.New("etcd is slow")
	if err := lock.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "alpha"}); err == nil {
		t.Fatal("a renewal whose write failed reported success")
	}
	if failed != 1 {
		t.Errorf("after a successful acquisition and a failed renewal, failures reported %d, want still 1: a renewal is no acquisition", failed)
	}
	lock.fence.end()
}
