package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestForEachCallsEachIndexOnceInParallel(t *testing.T) {
	const n = 1000
	var mu sync.Mutex
	seen := map[int]int{}
	var running, most atomic.Int64
	err := forEach(t.Context(), n, func(_ context.Context, i int) error {
		now := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
		}
		mu.Lock()
		defer mu.Unlock()
		seen[i]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if seen[i] != 1 {
			t.Fatalf("index %d done %d times, want once", i, seen[i])
		}
	}
	if most.Load() > writers {
		t.Errorf("%d calls at once, want at most %d", most.Load(), writers)
	}
}

func TestForEachStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	err := forEach(t.Context(), 100000, func(ctx context.Context, i int) error {
		calls.Add(1)
		if i == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("forEach = %v, want %v", err, boom)
	}
	if calls.Load() == 100000 {
		t.Error("forEach went on after the error")
	}
}

func TestForEachStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := forEach(ctx, 10, func(context.Context, int) error {
		t.Error("called after the context was cancelled")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("forEach = %v, want context.Canceled", err)
	}
}
