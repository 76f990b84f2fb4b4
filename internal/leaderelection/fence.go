package leaderelection

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errRenewalOverdue is the cause with which a fence cancels its context when
// the leader has not renewed the lease within the renew deadline.
var errRenewalOverdue = errors.New("the leader lease was not renewed within the renew deadline, so it may have passed to another candidate")

// errTermEnded is the cause with which a fence cancels its context when the
// leader lets go of the lease.
var errTermEnded = errors.New("the leader let go of the lease")

// fence says how long the leader may go on writing: until the renew deadline
// has passed since the start of its last successful renewal (or of the
// acquisition). Another candidate takes the lease over only a lease
// duration after it saw that renewal, which it cannot have seen before the
// renewal started; so up to then the lease is certainly the leader's, and the
// rest of the lease duration is the margin for a request already on its way
// and for clocks that do not run at quite the same rate.
//
// Its context is cancelled the moment that time passes without another
// renewal, which aborts every request made under it and keeps any new one
// from being sent; once cancelled, it stays so.
type fence struct {
	window time.Duration
	ctx    context.Context
	cancel context.CancelCauseFunc

	// now is the clock of the send-time check; tests move it forward to
	// stand for a process that was frozen.
	now func() time.Time

	mu    sync.Mutex
	until time.Time
	timer *time.Timer
}

// fenceKey is the context key under which a fence's context carries the
// fence, for the send-time check of FenceTransport.
type fenceKey struct{}

// newFence returns a fence whose writes may go on for window after each
// renewal. Its context carries parent's values but not its cancellation.
func newFence(parent context.Context, window time.Duration) *fence {
	f := &fence{window: window, now: time.Now}
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(parent))
	f.ctx, f.cancel = context.WithValue(ctx, fenceKey{}, f), cancel
	return f
}

// fenceOf returns the fence whose context ctx is, or derives from.
func fenceOf(ctx context.Context) (*fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(*fence)
	return f, ok
}

// context is live while writes are allowed: it is cancelled when a renewal is
// overdue or the term ends.
func (f *fence) context() context.Context {
	return f.ctx
}

// renewed moves the fence forward after a renewal or acquisition that started
// at start and succeeded. A fence that has already fallen stays down: a
// renewal that succeeds after its deadline does not make up for the time in
// which another candidate may have led.
func (f *fence) renewed(start time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx.Err() != nil {
		return
	}
	if until := start.Add(f.window); until.After(f.until) {
		f.until = until
	}
	wait := time.Until(f.until)
	if f.timer == nil {
		f.timer = time.AfterFunc(wait, f.check)
		return
	}
	f.timer.Reset(wait)
}

// check cancels the context if the deadline has passed, and otherwise waits
// for it again.
func (f *fence) check() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx.Err() != nil {
		return
	}
	if wait := time.Until(f.until); wait > 0 {
		f.timer.Reset(wait)
		return
	}
	f.cancel(errRenewalOverdue)
}

// allowsSend is the check at the moment a write is sent: nil while the
// fence stands, else why not. Its timer alone leaves a gap: a process frozen
// (SIGSTOP, a paused VM) after a write passed its context check sends that
// write on resume, before the timer's goroutine runs. A deadline found past
// here brings the fence down as the timer would have. A fence not yet armed
// has no deadline to check; no write is made under it before its term.
func (f *fence) allowsSend() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ctx.Err() != nil {
		return context.Cause(f.ctx)
	}
	if !f.until.IsZero() && !f.now().Before(f.until) {
		f.cancel(errRenewalOverdue)
		return errRenewalOverdue
	}
	return nil
}

// end cancels the context because the leader lets go of the lease.
func (f *fence) end() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.timer != nil {
		f.timer.Stop()
	}
	f.cancel(errTermEnded)
}

// armed reports whether a renewal or acquisition has moved the fence yet.
func (f *fence) armed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.until.IsZero()
}

// overdue reports whether the fence fell because a renewal was overdue.
func (f *fence) overdue() bool {
	return errors.Is(context.Cause(f.ctx), errRenewalOverdue)
}
