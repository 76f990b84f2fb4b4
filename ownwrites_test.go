package main

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// at returns demo with uid, generation and resourceVersion.
func at(demo *crddemov1.Mydemo, uid types.UID, generation int64, resourceVersion string) *crddemov1.Mydemo {
	demo = demo.DeepCopy()
	demo.UID, demo.Generation, demo.ResourceVersion = uid, generation, resourceVersion
	return demo
}

func TestOwnWrites(t *testing.T) {
	demo := newMydemo("example-mydemo", 1)
	v1 := at(demo, "uid-1", 1, "100")

	w := newOwnWrites()
	if w.hasEvent(v1) || w.cacheIsBehind(v1) {
		t.Fatal("a Mydemo nothing was written for has an event or a cache behind")
	}

	w.eventWritten(v1)
	if !w.hasEvent(v1) {
		t.Error("the event just written is not remembered")
	}
	if w.hasEvent(at(demo, "uid-1", 2, "101")) {
		t.Error("the event of generation 1 counts for generation 2")
	}
	if w.hasEvent(at(demo, "uid-2", 1, "102")) {
		t.Error("the event of one Mydemo counts for a namesake created again")
	}
	if w.cacheIsBehind(v1) {
		t.Error("the cache is behind before any status was written")
	}

	w.statusWritten(v1, "105")
	for _, tt := range []struct {
		name   string
		cached *crddemov1.Mydemo
		behind bool
	}{
		{"the object the sync read", v1, true},
		{"another writer's change made during the sync", at(demo, "uid-1", 1, "103"), true},
		{"crddemo's own status write", at(demo, "uid-1", 1, "105"), false},
		{"a later change", at(demo, "uid-1", 2, "107"), false},
		{"a namesake created again", at(demo, "uid-2", 1, "104"), false},
		{"a resourceVersion that is not a number", at(demo, "uid-1", 1, "x"), false},
	} {
		if got := w.cacheIsBehind(tt.cached); got != tt.behind {
			t.Errorf("%s: cacheIsBehind = %v, want %v", tt.name, got, tt.behind)
		}
	}

	// Until the cache shows the status write, it is remembered.
	w.observe(at(demo, "uid-1", 1, "103"))
	if !w.cacheIsBehind(v1) {
		t.Error("the status write was forgotten when the cache showed an older object")
	}
	w.observe(at(demo, "uid-1", 1, "105"))
	if w.cacheIsBehind(v1) || w.hasEvent(v1) || len(w.byKey) != 0 {
		t.Errorf("the status write is still remembered once the cache shows it: %+v", w.byKey)
	}

	// A namesake created again replaces what was written for the old one.
	w.eventWritten(v1)
	w.observe(at(demo, "uid-2", 1, "110"))
	if len(w.byKey) != 0 {
		t.Errorf("what was written for a deleted Mydemo is still remembered once a namesake is cached: %+v", w.byKey)
	}

	w.eventWritten(v1)
	w.forget(cache.MetaObjectToName(v1))
	if len(w.byKey) != 0 {
		t.Errorf("forget left %+v", w.byKey)
	}
}
