package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// fencedLock is the Lease lock that client-go's elector acquires, renews
// and releases the lease through. It moves the fence forward after each
// acquisition or renewal that succeeded, and holds a release back until
// nothing that the lease guards is running: client-go releases the lease
// before it cancels the leader's context, when a renewal fails as well as on
// shutdown, and a standby must not start while the old leader still works.
type fencedLock struct {
	resourcelock.Interface
	fence *fence
	term  *leaderTerm
	// acquireIf and acquireFailed are Config.AcquireIf and
	// Config.AcquireFailed.
	acquireIf     func() bool
	acquireFailed func()
}

func (l *fencedLock) Create(ctx context.Context, record resourcelock.LeaderElectionRecord) error {
	return l.write(ctx, record, l.Interface.Create)
}

func (l *fencedLock) Update(ctx context.Context, record resourcelock.LeaderElectionRecord) error {
	return l.write(ctx, record, l.Interface.Update)
}

// errNotAcquiring fails an attempt to acquire the lease that
// Config.AcquireIf turned down.
var errNotAcquiring = errors.New("not taking the lease now: AcquireIf declined (a cache not synced yet, or a sharded replica at its fair share)")

// write makes one write of the Lease. A record held by this candidate is an
// acquisition or a renewal; any other is client-go's release.
func (l *fencedLock) write(ctx context.Context, record resourcelock.LeaderElectionRecord,
	write func(context.Context, resourcelock.LeaderElectionRecord) error) error {
	// A late renewal cannot give back the time in which another candidate
	// may have taken the lease, and a release is pointless then.
	if l.fence.overdue() {
		return errRenewalOverdue
	}
	if record.HolderIdentity != l.Identity() {
		l.fence.end()
		if err := l.term.closeAndWait(ctx); err != nil {
			return fmt.Errorf("waiting for the leader's work to stop before releasing the lease: %w", err)
		}
		return write(ctx, record)
	}
	acquiring := !l.fence.armed()
	if acquiring && l.acquireIf != nil && !l.acquireIf() {
		return errNotAcquiring
	}
	start := time.Now()
	if err := write(ctx, record); err != nil {
		if acquiring && l.acquireFailed != nil {
			l.acquireFailed()
		}
		return err
	}
	l.fence.renewed(start)
	return nil
}
