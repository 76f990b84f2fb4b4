package leaderelection

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFenceFallsTheWindowAfterTheLastRenewalStarted(t *testing.T) {
	const window = 100 * time.Millisecond
	f := newFence(t.Context(), window)
	start := time.Now()
	f.renewed(start)
	if f.context().Err() != nil {
		t.Fatal("the fence fell at once after a renewal")
	}

	<-f.context().Done()
	if fell := time.Since(start); fell < window {
		t.Errorf("the fence fell %v after the renewal began, before its window of %v", fell, window)
	}
	if !f.overdue() || !errors.Is(context.Cause(f.context()), errRenewalOverdue) {
		t.Errorf("a fence that fell for want of a renewal: overdue %v, cause %v", f.overdue(), context.Cause(f.context()))
	}

	// A renewal that succeeds too late does not raise it again.
	f.renewed(time.Now())
	if f.context().Err() == nil {
		t.Error("a late renewal raised the fence again")
	}
}

func TestFenceMovesForwardWithEachRenewal(t *testing.T) {
	const window = 200 * time.Millisecond
	f := newFence(t.Context(), window)
	f.renewed(time.Now())
	// Renew every quarter window for two windows: the fence stays up.
	until := time.Now().Add(2 * window)
	for time.Now().Before(until) {
		time.Sleep(window / 4)
		f.renewed(time.Now())
		if f.context().Err() != nil {
			t.Fatalf("the fence fell while renewals kept coming: %v", context.Cause(f.context()))
		}
	}
	// An older renewal's start, reported late, does not pull it back.
	f.renewed(time.Now().Add(-time.Hour))
	if f.context().Err() != nil {
		t.Fatal("a renewal that started long ago pulled the fence back")
	}
}

func TestFenceEnd(t *testing.T) {
	f := newFence(t.Context(), time.Hour)
	f.renewed(time.Now())
	f.end()
	if !errors.Is(context.Cause(f.context()), errTermEnded) || f.overdue() {
		t.Errorf("an ended fence: cause %v, overdue %v; want errTermEnded and not overdue", context.Cause(f.context()), f.overdue())
	}
}

func TestFenceKeepsTheParentsValuesButNotItsCancellation(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(t.Context(), key{}, "logger"))
	f := newFence(parent, time.Hour)
	f.renewed(time.Now())
	cancel()
	if f.context().Err() != nil {
		t.Error("cancelling the parent, as a graceful shutdown does, cut the writes off")
	}
	if f.context().Value(key{}) != "logger" {
		t.Error("the fence's context lost its parent's values")
	}
	f.end()
}
