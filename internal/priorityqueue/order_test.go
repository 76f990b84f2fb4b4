package priorityqueue

import (
	"slices"
	"testing"

	"k8s.io/client-go/util/workqueue"
)

// gauge counts Inc and Dec, for the depth each order reports.
type gauge struct{ value int }

func (g *gauge) Inc() { g.value++ }
func (g *gauge) Dec() { g.value-- }

func newTestOrder() (*order[string], *gauge, *gauge) {
	backlog, live := &gauge{}, &gauge{}
	return newOrder[string]([2]workqueue.GaugeMetric{Backlog: backlog, Live: live}), backlog, live
}

func push(o *order[string], p Priority, keys ...string) {
	for _, key := range keys {
		o.ask(key, p)
		o.Push(key)
	}
}

func popAll(o *order[string]) []string {
	var keys []string
	for o.Len() > 0 {
		keys = append(keys, o.Pop())
	}
	return keys
}

func TestOrderServesLiveKeysFirst(t *testing.T) {
	o, _, _ := newTestOrder()
	push(o, Backlog, "b1", "b2", "b3")
	push(o, Live, "l1", "l2")
	got := popAll(o)
	want := []string{"l1", "l2", "b1", "b2", "b3"}
	if !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderGivesTheBacklogOneTurnInFive(t *testing.T) {
	o, _, _ := newTestOrder()
	push(o, Backlog, "b1", "b2", "b3")
	push(o, Live, "l1", "l2", "l3", "l4", "l5", "l6", "l7", "l8", "l9", "l10")
	got := popAll(o)
	want := []string{"l1", "l2", "l3", "l4", "b1", "l5", "l6", "l7", "l8", "b2", "l9", "l10", "b3"}
	if !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderPromotesAWaitingBacklogKeyOnALiveAdd(t *testing.T) {
	o, backlog, live := newTestOrder()
	push(o, Backlog, "b1", "b2", "b3")
	push(o, Live, "l1")
	o.ask("b3", Live)
	o.Touch("b3")
	if backlog.value != 2 || live.value != 2 {
		t.Errorf("depth after the promotion: backlog %d, live %d; want 2 and 2", backlog.value, live.value)
	}
	got := popAll(o)
	want := []string{"l1", "b3", "b1", "b2"}
	if !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderNeverDemotesOnABacklogAdd(t *testing.T) {
	o, _, _ := newTestOrder()
	push(o, Backlog, "b1")
	push(o, Live, "l1", "l2")
	o.ask("l2", Backlog) // a resync of a key that a watch event queued
	o.Touch("l2")
	got := popAll(o)
	want := []string{"l1", "l2", "b1"}
	if !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderTouchWithoutAskLeavesTheKey(t *testing.T) {
	o, _, _ := newTestOrder()
	push(o, Backlog, "b1", "b2")
	o.Touch("b2") // a delayed retry of a key that waits already
	if got, want := popAll(o), []string{"b1", "b2"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderPushWithoutAskIsLive(t *testing.T) {
	o, _, _ := newTestOrder()
	push(o, Backlog, "b1")
	o.Push("retry")
	if got, want := popAll(o), []string{"retry", "b1"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderAskKeepsTheHighestPriority(t *testing.T) {
	o, _, _ := newTestOrder()
	push(o, Backlog, "b1")
	o.ask("k", Live)
	o.ask("k", Backlog)
	o.Push("k")
	if got, want := popAll(o), []string{"k", "b1"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderDemoteMovesLiveKeysBehindTheBacklog(t *testing.T) {
	o, backlog, live := newTestOrder()
	push(o, Live, "l1", "l2")
	push(o, Backlog, "b1")
	o.demote()
	if backlog.value != 3 || live.value != 0 {
		t.Errorf("depth after demote: backlog %d, live %d; want 3 and 0", backlog.value, live.value)
	}
	push(o, Live, "l3")
	if got, want := popAll(o), []string{"l3", "b1", "l1", "l2"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestOrderDepthFollowsTheKeys(t *testing.T) {
	o, backlog, live := newTestOrder()
	push(o, Backlog, "b1", "b2")
	push(o, Live, "l1")
	if backlog.value != 2 || live.value != 1 || o.Len() != 3 {
		t.Errorf("backlog %d, live %d, Len %d; want 2, 1, 3", backlog.value, live.value, o.Len())
	}
	popAll(o)
	if backlog.value != 0 || live.value != 0 {
		t.Errorf("after all were handed out: backlog %d, live %d; want 0 and 0", backlog.value, live.value)
	}
}
