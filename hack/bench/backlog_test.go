package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestTimeSyncCountsTheUnsyncedAtTheSync(t *testing.T) {
	b := &bench{tracker: newTracker()}
	g := b.tracker.begin(3)
	for _, uid := range []string{"a", "b", "c"} {
		b.tracker.expect(types.UID(uid), target{generation: 1, events: 1})
	}
	b.tracker.observeEvents("a", 1)
	b.tracker.observeMydemo(demoAt("a", 1, 1))
	since := time.Now()
	go func() {
		time.Sleep(20 * time.Millisecond)
		b.tracker.observeMydemo(demoAt("live", 1, 1))
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	took, unsynced, err := b.timeSync(ctx, g, "live", 1, since)
	if err != nil {
		t.Fatal(err)
	}
	if unsynced != 2 {
		t.Errorf("%d unsynced when the live object was, want 2 (b and c)", unsynced)
	}
	if took < 0.02 || took > 10 {
		t.Errorf("took %.3f s, want from the 20 ms the sync took to the 10 s deadline", took)
	}
}

func TestTimeSyncEndsWithItsContext(t *testing.T) {
	b := &bench{tracker: newTracker()}
	g := b.tracker.begin(1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := b.timeSync(ctx, g, "never", 1, time.Now()); err == nil {
		t.Error("timeSync returned no error for an object never synced, its context cancelled")
	}
}

func TestDescribeBacklog(t *testing.T) {
	got := describeBacklog(&backlogResult{Changes: 10, ChangeSeconds: 0.31, ChangeUnsynced: 9120, NewSeconds: 0.27,
		NewUnsynced: 9050}, 10000)
	for _, want := range []string{"1s into the cold phase's", "10 changes synced after 0.31 s, with 9120 of 10000 still unsynced",
		"created then, after 0.27 s, with 9050 still unsynced"} {
		if !strings.Contains(got, want) {
			t.Errorf("describeBacklog = %q, want it to contain %q", got, want)
		}
	}
}
