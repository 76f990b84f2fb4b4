package syncedtest

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/synced"
)

func TestStatusSetsTheGenerationAndTheSyncedConditionAndKeepsTheRest(t *testing.T) {
	yesterday := metav1.NewTime(time.Now().Add(-24 * time.Hour).Truncate(time.Second))
	demo := Fuzzed(2, FuzzedStatus{Observed: 1, Synced: true, Status: "True", Reason: synced.Reason, Message: synced.Message,
		ConditionObserved: 1, TransitionUnixNano: yesterday.UnixNano(), OtherType: "Reachable", OtherCondition: "False"})
	other := *meta.FindStatusCondition(demo.Status.Conditions, "Reachable")

	status := Status(demo)
	if status.ObservedGeneration != 2 {
		t.Errorf("observedGeneration = %d, want 2", status.ObservedGeneration)
	}
	if got := meta.FindStatusCondition(status.Conditions, "Reachable"); got == nil || !reflect.DeepEqual(*got, other) {
		t.Errorf("another writer's condition became %+v, want it kept as %+v", got, other)
	}
	cond := meta.FindStatusCondition(status.Conditions, synced.ConditionType)
	if cond == nil || cond.ObservedGeneration != 2 || !cond.LastTransitionTime.Equal(&yesterday) {
		t.Errorf("Synced condition = %+v, want it at generation 2 with its transition time kept", cond)
	}
	if demo.Status.ObservedGeneration != 1 || demo.Status.Conditions[1].ObservedGeneration != 1 {
		t.Errorf("Status changed its input: %+v", demo.Status)
	}
	written := demo.DeepCopy()
	written.Status = status
	if synced.IsCurrent(demo) || !synced.IsCurrent(written) {
		t.Errorf("IsCurrent before the write = %v and after = %v, want false then true", synced.IsCurrent(demo), synced.IsCurrent(written))
	}
}
