package leaderelection

import (
	"context"
	"errors"
	"sync"
)

// leaderTerm is one candidate's time as leader, shared between Run and the
// callback that client-go calls once the lease is acquired. It lets Run
// close the term before it lets go of the lease: after close, lead no longer
// starts, so once a lead that had started has returned, nothing that the
// lease guards is running.
type leaderTerm struct {
	mu     sync.Mutex
	closed bool
	// leaseCtx is the context client-go gave the callback; client-go
	// cancels it when it stops holding the lease. Nil until the lease is
	// acquired.
	leaseCtx context.Context
	leading  bool
	// returned is closed once lead has returned.
	returned chan struct{}
}

func newLeaderTerm() *leaderTerm {
	return &leaderTerm{returned: make(chan struct{})}
}

// begin records that the lease was acquired, under leaseCtx, and reports
// whether lead may start, which it may not once the term is closed. If it
// returns true, the caller must call end when lead returns.
func (t *leaderTerm) begin(leaseCtx context.Context) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.leaseCtx = leaseCtx
	t.leading = !t.closed
	return t.leading
}

// end records that lead has returned.
func (t *leaderTerm) end() {
	close(t.returned)
}

// leadReturned is closed once lead has returned; it never is if lead did not
// start.
func (t *leaderTerm) leadReturned() <-chan struct{} {
	return t.returned
}

// close keeps lead from starting from now on and reports whether it had
// started, in which case the lease must be kept until leadReturned is closed.
func (t *leaderTerm) close() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	return t.leading
}

// closeAndWait closes the term and waits until a lead that had started has
// returned, or ctx is done.
func (t *leaderTerm) closeAndWait(ctx context.Context) error {
	if !t.close() {
		return nil
	}
	select {
	case <-t.returned:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acquired reports whether the lease was acquired during the term.
func (t *leaderTerm) acquired() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leaseCtx != nil
}

// lostLease reports whether client-go stopped holding the lease of its own
// accord, after a failed renewal, rather than because the election was
// stopped with stopCause: client-go cancels the lease context itself in the
// first case, so that its cause is not stopCause.
func (t *leaderTerm) lostLease(stopCause error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leaseCtx != nil && t.leaseCtx.Err() != nil && !errors.Is(context.Cause(t.leaseCtx), stopCause)
}
