package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/domac/crddemo/internal/synced/syncedtest"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// demoAt is the Mydemo uid at generation, its status as crddemo writes it
// when it syncs generation syncedAt (0: never).
func demoAt(uid types.UID, generation, syncedAt int64) *crddemov1.Mydemo {
	demo := &crddemov1.Mydemo{ObjectMeta: metav1.ObjectMeta{UID: uid, Generation: generation}}
	if syncedAt > 0 {
		demo.Status = syncedtest.Status(&crddemov1.Mydemo{ObjectMeta: metav1.ObjectMeta{Generation: syncedAt}})
	}
	return demo
}

func isDone(g *goal) bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

func TestTrackerWaitsForStatusAndEvent(t *testing.T) {
	tr := newTracker()
	tr.observeMydemo(demoAt("a", 1, 0))
	tr.observeMydemo(demoAt("b", 1, 0))
	g := tr.begin(2)
	tr.expect("a", target{generation: 1, events: 1})
	tr.expect("b", target{generation: 1, events: 1})

	tr.observeEvents("a", 1) // the event comes first, as crddemo writes it
	tr.observeMydemo(demoAt("a", 1, 1))
	tr.observeMydemo(demoAt("b", 1, 1)) // a status without its event is not synced
	if isDone(g) || tr.remaining(g) != 1 {
		t.Fatalf("done %v with %d remaining, want b still waiting for its event", isDone(g), tr.remaining(g))
	}
	tr.observeEvents("b", 1)
	doneAt, err := tr.wait(t.Context(), g)
	if err != nil || doneAt.IsZero() {
		t.Fatalf("wait = %v, %v; want the time the last object was synced", doneAt, err)
	}
}

func TestTrackerUpdateNeedsTheNewGenerationAndAnotherEvent(t *testing.T) {
	tr := newTracker()
	tr.observeEvents("a", 1)
	tr.observeMydemo(demoAt("a", 1, 1))

	g := tr.begin(1)
	events := tr.eventCount("a")
	tr.observeMydemo(demoAt("a", 2, 1)) // the change, as the watch shows it
	tr.expect("a", target{generation: 2, events: events + 1})
	tr.observeEvents("a", 1)
	if isDone(g) {
		t.Fatal("done with the status still at generation 1")
	}
	tr.observeMydemo(demoAt("a", 2, 2))
	if !isDone(g) {
		t.Fatal("not done with generation 2 synced and a second event")
	}

	// An event whose count is raised counts as another event.
	g = tr.begin(1)
	tr.observeMydemo(demoAt("a", 3, 3))
	tr.expect("a", target{generation: 3, events: 3})
	if isDone(g) {
		t.Fatal("done with 2 events, want 3")
	}
	tr.observeEvents("a", 1)
	if !isDone(g) {
		t.Fatal("not done after the event's count went up")
	}
}

func TestTrackerCountsObjectsSyncedBeforeTheyAreExpected(t *testing.T) {
	// The watch can deliver crddemo's writes before the bench's create of
	// the object has returned to it.
	tr := newTracker()
	g := tr.begin(1)
	tr.observeEvents("a", 1)
	tr.observeMydemo(demoAt("a", 1, 1))
	tr.expect("a", target{generation: 1, events: 1})
	if !isDone(g) {
		t.Fatal("an object synced before it was expected is not counted")
	}
}

func TestTrackerWaitTimesOut(t *testing.T) {
	tr := newTracker()
	g := tr.begin(3)
	tr.expect("a", target{generation: 1, events: 1})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := tr.wait(ctx, g); err == nil || !strings.Contains(err.Error(), "3 of 3 objects not synced") {
		t.Errorf("wait = %v, want an error that says how many are not synced", err)
	}
}

func TestTrackerPending(t *testing.T) {
	tr := newTracker()
	g := tr.begin(3)
	tr.expect("a", target{generation: 1, events: 1})
	tr.expect("b", target{generation: 1, events: 1})
	tr.expect("c", target{generation: 1, events: 1})
	tr.observeEvents("a", 1)
	tr.observeMydemo(demoAt("a", 1, 1))
	got := tr.pending(g, 5)
	slices.Sort(got)
	if !slices.Equal(got, []types.UID{"b", "c"}) {
		t.Errorf("pending(g, 5) = %v, want b and c", got)
	}
	if got := tr.pending(g, 1); len(got) != 1 || got[0] == "a" {
		t.Errorf("pending(g, 1) = %v, want one of b and c", got)
	}
}

func TestTrackerIsSynced(t *testing.T) {
	tr := newTracker()
	if tr.isSynced("a", 1) {
		t.Error("an object the watch never delivered is synced")
	}
	tr.observeMydemo(demoAt("a", 2, 1))
	if tr.isSynced("a", 2) {
		t.Error("an object synced at generation 1 is synced at 2")
	}
	tr.observeMydemo(demoAt("a", 2, 2))
	if !tr.isSynced("a", 2) || !tr.isSynced("a", 1) {
		t.Error("an object synced at generation 2 is not synced at 2, or at 1")
	}
}
