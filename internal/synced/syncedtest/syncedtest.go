// Package syncedtest is for tests of what a sync writes: a model of the
// status it leaves, and fuzzed statuses with the checks that go with them.
// Only tests import it.
package syncedtest

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

// Status is demo's status once a sync has written it, as the tests model
// it: the generation observed, the Synced condition, and every other
// condition as it was.
func Status(demo *crddemov1.Mydemo) crddemov1.MydemoStatus {
	status := *demo.Status.DeepCopy()
	status.ObservedGeneration = demo.Generation
	meta.SetStatusCondition(&status.Conditions, synced.Condition(demo))
	return status
}

// FuzzedStatus is a Mydemo's status as the fuzzer makes it up: any
// observedGeneration, a Synced condition with any content or none, and
// perhaps a condition of another type, which a sync must leave alone.
type FuzzedStatus struct {
	Observed int64
	// synced: the status has a Synced condition with the fields below.
	Synced                    bool
	Status, Reason, Message   string
	ConditionObserved         int64
	TransitionUnixNano        int64 // 0: the zero time
	OtherType, OtherCondition string
}

// AddSeeds adds the seeds that FuzzSyncedStatus and crddemo's
// FuzzSyncDecision share, before their own arguments.
func AddSeeds(f *testing.F, extra ...any) {
	yesterday := time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC).UnixNano()
	for _, seed := range []struct {
		generation int64
		s          FuzzedStatus
	}{
		// A new Mydemo, never synced.
		{1, FuzzedStatus{}},
		// Synced at generation 1, and the spec has changed since.
		{2, FuzzedStatus{1, true, "True", synced.Reason, synced.Message, 1, yesterday, "", ""}},
		// Current: nothing to do.
		{3, FuzzedStatus{3, true, "True", synced.Reason, synced.Message, 3, yesterday, "Ready", "False"}},
		// Current but for the condition's generation, or its message.
		{3, FuzzedStatus{3, true, "True", synced.Reason, synced.Message, 2, yesterday, "", ""}},
		{3, FuzzedStatus{3, true, "True", synced.Reason, "edited by hand", 3, yesterday, "", ""}},
		// A failed sync reported by some other writer.
		{5, FuzzedStatus{5, true, "False", "Failed", "it broke", 5, yesterday, "Degraded", "True"}},
		{5, FuzzedStatus{5, true, "Unknown", "", "", 0, 0, "", ""}},
		// A True condition without a transition time, and odd generations.
		{0, FuzzedStatus{0, true, "True", synced.Reason, synced.Message, 0, 0, "", ""}},
		{math.MaxInt64, FuzzedStatus{math.MinInt64, true, "True", synced.Reason, synced.Message, -1, math.MinInt64, "Synced", ""}},
	} {
		s := seed.s
		args := append([]any{seed.generation, s.Observed, s.Synced, s.Status, s.Reason, s.Message,
			s.ConditionObserved, s.TransitionUnixNano, s.OtherType, s.OtherCondition}, extra...)
		f.Add(args...)
	}
}

// Fuzzed is the Mydemo default/example-mydemo at generation, at
// resourceVersion 1, with the status s.
func Fuzzed(generation int64, s FuzzedStatus) *crddemov1.Mydemo {
	demo := &crddemov1.Mydemo{
		TypeMeta: metav1.TypeMeta{APIVersion: crddemov1.SchemeGroupVersion.String(), Kind: "Mydemo"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "example-mydemo", Namespace: metav1.NamespaceDefault, Generation: generation, ResourceVersion: "1",
		},
		Spec: crddemov1.MydemoSpec{IP: "127.0.0.1", Port: 8080},
	}
	demo.Status.ObservedGeneration = s.Observed
	// The API server keeps one condition per type (listType=map), so the
	// other condition is only added with a type of its own.
	if s.OtherType != "" && s.OtherType != synced.ConditionType {
		demo.Status.Conditions = append(demo.Status.Conditions, metav1.Condition{
			Type: s.OtherType, Status: metav1.ConditionStatus(s.OtherCondition), Reason: "Other",
			LastTransitionTime: metav1.NewTime(time.Unix(0, 1)),
		})
	}
	if s.Synced {
		var transition metav1.Time
		if s.TransitionUnixNano != 0 {
			transition = metav1.NewTime(time.Unix(0, s.TransitionUnixNano))
		}
		demo.Status.Conditions = append(demo.Status.Conditions, metav1.Condition{
			Type: synced.ConditionType, Status: metav1.ConditionStatus(s.Status), Reason: s.Reason, Message: s.Message,
			ObservedGeneration: s.ConditionObserved, LastTransitionTime: transition,
		})
	}
	return demo
}

// WantCurrent says, from the fields themselves, whether demo's status is
// what a sync writes: nothing else may make statusIsCurrent true or false.
func WantCurrent(demo *crddemov1.Mydemo) bool {
	cond := meta.FindStatusCondition(demo.Status.Conditions, synced.ConditionType)
	return demo.Status.ObservedGeneration == demo.Generation && cond != nil &&
		cond.Status == metav1.ConditionTrue && cond.Reason == synced.Reason && cond.Message == synced.Message &&
		cond.ObservedGeneration == demo.Generation
}

// CheckStatus asserts that got is the status that a sync of demo must
// write, at a time between before and after.
func CheckStatus(t testing.TB, demo *crddemov1.Mydemo, got crddemov1.MydemoStatus, before, after time.Time) {
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
