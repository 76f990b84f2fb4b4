package main

import (
	"math"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// fuzzedStatus is a Mydemo's status as the fuzzer makes it up: any
// observedGeneration, a Synced condition with any content or none, and
// perhaps a condition of another type, which a sync must leave alone.
type fuzzedStatus struct {
	observed int64
	// synced: the status has a Synced condition with the fields below.
	synced                    bool
	status, reason, message   string
	conditionObserved         int64
	transitionUnixNano        int64 // 0: the zero time
	otherType, otherCondition string
}

// addStatusSeeds adds the seeds that FuzzSyncedStatus and FuzzSyncDecision
// share, before their own arguments.
func addStatusSeeds(f *testing.F, extra ...any) {
	yesterday := time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC).UnixNano()
	for _, seed := range []struct {
		generation int64
		s          fuzzedStatus
	}{
		// A new Mydemo, never synced.
		{1, fuzzedStatus{}},
		// Synced at generation 1, and the spec has changed since.
		{2, fuzzedStatus{1, true, "True", synced.Reason, synced.Message, 1, yesterday, "", ""}},
		// Current: nothing to do.
		{3, fuzzedStatus{3, true, "True", synced.Reason, synced.Message, 3, yesterday, "Ready", "False"}},
		// Current but for the condition's generation, or its message.
		{3, fuzzedStatus{3, true, "True", synced.Reason, synced.Message, 2, yesterday, "", ""}},
		{3, fuzzedStatus{3, true, "True", synced.Reason, "edited by hand", 3, yesterday, "", ""}},
		// A failed sync reported by some other writer.
		{5, fuzzedStatus{5, true, "False", "Failed", "it broke", 5, yesterday, "Degraded", "True"}},
		{5, fuzzedStatus{5, true, "Unknown", "", "", 0, 0, "", ""}},
		// A True condition without a transition time, and odd generations.
		{0, fuzzedStatus{0, true, "True", synced.Reason, synced.Message, 0, 0, "", ""}},
		{math.MaxInt64, fuzzedStatus{math.MinInt64, true, "True", synced.Reason, synced.Message, -1, math.MinInt64, "Synced", ""}},
	} {
		s := seed.s
		args := append([]any{seed.generation, s.observed, s.synced, s.status, s.reason, s.message,
			s.conditionObserved, s.transitionUnixNano, s.otherType, s.otherCondition}, extra...)
		f.Add(args...)
	}
}

// fuzzedMydemo is the Mydemo default/example-mydemo at generation with the
// status s.
func fuzzedMydemo(generation int64, s fuzzedStatus) *crddemov1.Mydemo {
	demo := newMydemo("example-mydemo", generation)
	demo.Status.ObservedGeneration = s.observed
	// The API server keeps one condition per type (listType=map), so the
	// other condition is only added with a type of its own.
	if s.otherType != "" && s.otherType != synced.ConditionType {
		demo.Status.Conditions = append(demo.Status.Conditions, metav1.Condition{
			Type: s.otherType, Status: metav1.ConditionStatus(s.otherCondition), Reason: "Other",
			LastTransitionTime: metav1.NewTime(time.Unix(0, 1)),
		})
	}
	if s.synced {
		var transition metav1.Time
		if s.transitionUnixNano != 0 {
			transition = metav1.NewTime(time.Unix(0, s.transitionUnixNano))
		}
		demo.Status.Conditions = append(demo.Status.Conditions, metav1.Condition{
			Type: synced.ConditionType, Status: metav1.ConditionStatus(s.status), Reason: s.reason, Message: s.message,
			ObservedGeneration: s.conditionObserved, LastTransitionTime: transition,
		})
	}
	return demo
}

// wantCurrent says, from the fields themselves, whether demo's status is
// what a sync writes: nothing else may make statusIsCurrent true or false.
func wantCurrent(demo *crddemov1.Mydemo) bool {
	cond := meta.FindStatusCondition(demo.Status.Conditions, synced.ConditionType)
	return demo.Status.ObservedGeneration == demo.Generation && cond != nil &&
		cond.Status == metav1.ConditionTrue && cond.Reason == synced.Reason && cond.Message == synced.Message &&
		cond.ObservedGeneration == demo.Generation
}

// checkSyncedStatus asserts that got is the status that a sync of demo must
// write, at a time between before and after.
func checkSyncedStatus(t *testing.T, demo *crddemov1.Mydemo, got crddemov1.MydemoStatus, before, after time.Time) {
	t.Helper()
	if got.ObservedGeneration != demo.Generation {
		t.Errorf("observedGeneration = %d, want the generation %d", got.ObservedGeneration, demo.Generation)
	}
	var syncedConds []metav1.Condition
	others := 0
	for _, cond := range got.Conditions {
		if cond.Type == synced.ConditionType {
			syncedConds = append(syncedConds, cond)
			continue
		}
		// Conditions of other types are kept as they were.
		if old := meta.FindStatusCondition(demo.Status.Conditions, cond.Type); old == nil || !reflect.DeepEqual(*old, cond) {
			t.Errorf("condition %+v was not in the status, or not so: %+v", cond, demo.Status.Conditions)
		}
		others++
	}
	if want := len(demo.Status.Conditions) - countSynced(demo.Status.Conditions); others != want {
		t.Errorf("%d conditions of other types, want the %d there were", others, want)
	}
	if len(syncedConds) != 1 {
		t.Fatalf("%d %s conditions, want 1: %+v", len(syncedConds), synced.ConditionType, got.Conditions)
	}
	cond := syncedConds[0]
	if cond.Status != metav1.ConditionTrue || cond.Reason != synced.Reason || cond.Message != synced.Message ||
		cond.ObservedGeneration != demo.Generation {
		t.Errorf("condition = %+v, want True/%s/%q at generation %d", cond, synced.Reason, synced.Message, demo.Generation)
	}
	// lastTransitionTime is when the condition last changed status.
	if old := meta.FindStatusCondition(demo.Status.Conditions, synced.ConditionType); old != nil && old.Status == metav1.ConditionTrue {
		if !cond.LastTransitionTime.Equal(&old.LastTransitionTime) {
			t.Errorf("lastTransitionTime = %v, want it kept at %v: the condition was True already", cond.LastTransitionTime, old.LastTransitionTime)
		}
	} else if cond.LastTransitionTime.Time.Before(before) || cond.LastTransitionTime.Time.After(after) {
		t.Errorf("lastTransitionTime = %v, want the time of the sync, between %v and %v", cond.LastTransitionTime, before, after)
	}
}

func countSynced(conditions []metav1.Condition) int {
	n := 0
	for _, cond := range conditions {
		if cond.Type == synced.ConditionType {
			n++
		}
	}
	return n
}

// FuzzSyncedStatus checks the status decision for any status a Mydemo may
// have: syncedStatus writes the generation and one Synced=True condition for
// it, keeps the rest, leaves its input alone, and is idempotent; and
// statusIsCurrent tells exactly when there is nothing to write.
func FuzzSyncedStatus(f *testing.F) {
	addStatusSeeds(f)
	f.Fuzz(func(t *testing.T, generation, observed int64, hasSynced bool, status, reason, message string,
		conditionObserved, transitionUnixNano int64, otherType, otherCondition string) {
		demo := fuzzedMydemo(generation, fuzzedStatus{observed, hasSynced, status, reason, message,
			conditionObserved, transitionUnixNano, otherType, otherCondition})
		if got, want := synced.IsCurrent(demo), wantCurrent(demo); got != want {
			t.Errorf("statusIsCurrent = %v, want %v for %+v at generation %d", got, want, demo.Status, generation)
		}

		input := demo.DeepCopy()
		before := time.Now()
		got := synced.Status(demo)
		after := time.Now()

		// demo may be the informer cache's own object.
		if !reflect.DeepEqual(demo, input) {
			t.Fatalf("syncedStatus changed its input:\n%+v\nwas\n%+v", demo.Status, input.Status)
		}
		if len(got.Conditions) > 0 && len(demo.Status.Conditions) > 0 && &got.Conditions[0] == &demo.Status.Conditions[0] {
			t.Fatalf("syncedStatus returns the input's conditions, not a copy")
		}
		checkSyncedStatus(t, demo, got, before, after)

		written := demo.DeepCopy()
		written.Status = got
		if !synced.IsCurrent(written) {
			t.Errorf("statusIsCurrent is false after a sync wrote %+v", got)
		}
		if again := synced.Status(written); !reflect.DeepEqual(again, got) {
			t.Errorf("a second sync would write\n%+v\nover\n%+v", again, got)
		}
	})
}
