package leaderelection

import (
	"context"
	"errors"
	"testing"
)

func TestTermLeadStartsOnlyBeforeClose(t *testing.T) {
	open := newLeaderTerm()
	if !open.begin(t.Context()) {
		t.Error("begin on an open term refused to start lead")
	}
	if !open.close() {
		t.Error("close after lead started reported that it had not")
	}

	closed := newLeaderTerm()
	if closed.close() {
		t.Error("close before the lease was acquired reported that lead had started")
	}
	if closed.begin(t.Context()) {
		t.Error("begin on a closed term let lead start")
	}
	if !closed.acquired() {
		t.Error("a term whose lease was acquired after close does not report it acquired")
	}
}

func TestTermLeadReturned(t *testing.T) {
	term := newLeaderTerm()
	term.begin(t.Context())
	select {
	case <-term.leadReturned():
		t.Fatal("leadReturned is closed before end")
	default:
	}
	term.end()
	select {
	case <-term.leadReturned():
	default:
		t.Fatal("leadReturned is still open after end")
	}
}

func TestTermLostLease(t *testing.T) {
	stopped := errors.New("stopped")
	election, stopElection := context.WithCancelCause(t.Context())
	defer stopElection(stopped)

	never := newLeaderTerm()
	if never.acquired() || never.lostLease(stopped) {
		t.Error("a term that never acquired the lease reports it acquired or lost")
	}

	givenUp := newLeaderTerm()
	leaseCtx, giveUp := context.WithCancel(election)
	givenUp.begin(leaseCtx)
	if givenUp.lostLease(stopped) {
		t.Error("a lease still held is reported lost")
	}
	giveUp()
	if !givenUp.lostLease(stopped) {
		t.Error("a lease whose context client-go cancelled itself is not reported lost")
	}

	// client-go's lease context is a child of the election's, which is
	// cancelled with the cause that Run stops the election with.
	released := newLeaderTerm()
	heldCtx, cancelHeld := context.WithCancel(election)
	defer cancelHeld()
	released.begin(heldCtx)
	stopElection(stopped)
	if released.lostLease(stopped) {
		t.Error("a lease whose election was stopped is reported lost")
	}
}
