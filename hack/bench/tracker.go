package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"

	"github.com/domac/crddemo/internal/synced"
)

// tracker knows, from what its watches deliver (watch.go), which Mydemos of
// the bench's namespace crddemo has synced, and tells a phase the moment the
// last object it waits for is synced.
//
// Watching rather than polling lists is what makes it both exact and cheap:
// each write crddemo makes reaches the tracker within milliseconds, and costs
// the API server one more watch event, which it has already serialized for
// crddemo's own watch; a poll would list every object and event again, tens
// of megabytes at N=10,000 (the audit times one such list, audit.go).
type tracker struct {
	mu      sync.Mutex
	objects map[types.UID]objectState
	// events is the number of Synced events recorded for each object: the
	// sum of their counts, whether crddemo creates an event per sync or
	// raises the count of one.
	events map[types.UID]int64
	goal   *goal
}

// objectState is as much of a Mydemo as the tracker needs.
type objectState struct {
	generation int64
	synced     bool // synced.IsCurrent: its status reports this generation synced
}

// target is what a phase waits for an object to reach: its status synced at
// generation (or later), and at least events Synced events.
type target struct {
	generation, events int64
}

// goal is what one phase waits for: want objects reaching their targets.
type goal struct {
	want, met int
	pending   map[types.UID]target
	done      chan struct{} // closed when met reaches want
	doneAt    time.Time     // when it did
}

func newTracker() *tracker {
	return &tracker{objects: map[types.UID]objectState{}, events: map[types.UID]int64{}}
}

// observeMydemo records a Mydemo as a watch delivered it.
func (t *tracker) observeMydemo(demo *crddemov1.Mydemo) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.objects[demo.UID] = objectState{generation: demo.Generation, synced: synced.IsCurrent(demo)}
	t.check(demo.UID)
}

// observeEvents adds delta Synced events to the object uid.
func (t *tracker) observeEvents(uid types.UID, delta int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events[uid] += delta
	t.check(uid)
}

// eventCount is the number of Synced events of uid so far.
func (t *tracker) eventCount(uid types.UID) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.events[uid]
}

// begin starts a phase that waits for want objects, each named by expect.
// The goal of the phase before it, if any, is dropped.
func (t *tracker) begin(want int) *goal {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.goal = &goal{want: want, pending: map[types.UID]target{}, done: make(chan struct{})}
	return t.goal
}

// expect adds the object uid to the current goal. It may have reached its
// target already: the watch can deliver crddemo's writes before the write
// that made the object returns to the bench.
func (t *tracker) expect(uid types.UID, want target) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hasReached(uid, want) {
		t.goal.met++
		if t.goal.met == t.goal.want {
			t.reached()
		}
		return
	}
	t.goal.pending[uid] = want
}

// remaining is how many objects of g are not there yet.
func (t *tracker) remaining(g *goal) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return g.want - g.met
}

// wait returns when the goal was met, or an error once ctx is done first.
func (t *tracker) wait(ctx context.Context, g *goal) (time.Time, error) {
	select {
	case <-g.done:
		return g.doneAt, nil
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("%d of %d objects not synced: %w", t.remaining(g), g.want, context.Cause(ctx))
	}
}

// check moves uid off the current goal's pending list if it has reached its
// target. The caller holds t.mu.
func (t *tracker) check(uid types.UID) {
	if t.goal == nil {
		return
	}
	want, ok := t.goal.pending[uid]
	if !ok || !t.hasReached(uid, want) {
		return
	}
	delete(t.goal.pending, uid)
	t.goal.met++
	if t.goal.met == t.goal.want {
		t.reached()
	}
}

// pending returns up to n of g's objects not there yet, picked at random.
func (t *tracker) pending(g *goal, n int) []types.UID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var uids []types.UID
	for uid := range g.pending { // a map's order is random
		if len(uids) == n {
			break
		}
		uids = append(uids, uid)
	}
	return uids
}

// isSynced reports whether the Mydemo uid is synced at generation or later.
func (t *tracker) isSynced(uid types.UID, generation int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	state := t.objects[uid]
	return state.synced && state.generation >= generation
}

func (t *tracker) hasReached(uid types.UID, want target) bool {
	state := t.objects[uid]
	return state.synced && state.generation >= want.generation && t.events[uid] >= want.events
}

// reached marks the current goal met, now. The caller holds t.mu.
func (t *tracker) reached() {
	t.goal.doneAt = time.Now()
	close(t.goal.done)
}
