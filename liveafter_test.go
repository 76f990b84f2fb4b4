package main

import (
	"testing"

	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2/ktesting"
)

// TestPromoteUnseenQueuesChangesNoOwnerSawAsLive: of two Mydemos queued
// from the initial list, the one changed after liveAfter is handed out
// first; without a liveAfter, the list's order stands.
func TestPromoteUnseenQueuesChangesNoOwnerSawAsLive(t *testing.T) {
	before := newMydemo("changed-before", 1)
	before.ResourceVersion = "5"
	after := newMydemo("changed-after", 1)
	after.ResourceVersion = "15"
	for _, tt := range []struct {
		liveAfter string
		first     cache.ObjectName
	}{
		{"10", cache.MetaObjectToName(after)},
		{"", cache.MetaObjectToName(before)},
	} {
		f := newFixture(t, before, after)
		f.fillCache(before, after)
		f.controller.liveAfter = tt.liveAfter
		f.controller.handleAdd(before, true)
		f.controller.handleAdd(after, true)
		_, ctx := ktesting.NewTestContext(t)
		f.controller.promoteUnseen(ctx)
		if first, _ := f.controller.queue.Get(); first != tt.first {
			t.Errorf("with liveAfter %q, %s was handed out first, want %s", tt.liveAfter, first, tt.first)
		}
	}
}
