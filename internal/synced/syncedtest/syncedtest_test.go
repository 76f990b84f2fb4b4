package syncedtest

import (
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

func newMydemo(generation int64, conditions ...metav1.Condition) *crddemov1.Mydemo {
	return &crddemov1.Mydemo{
		ObjectMeta: metav1.ObjectMeta{Name: "example-mydemo", Namespace: "default", UID: "uid-1",
			Generation: generation, ResourceVersion: "42"},
		Status: crddemov1.MydemoStatus{ObservedGeneration: generation - 1, Conditions: conditions},
	}
}

func TestStatusSetsTheGenerationAndTheSyncedConditionAndKeepsTheRest(t *testing.T) {
	yesterday := metav1.NewTime(time.Now().Add(-24 * time.Hour).Truncate(time.Second))
	other := metav1.Condition{Type: "Reachable", Status: metav1.ConditionFalse, Reason: "Probed", LastTransitionTime: yesterday}
	wasSynced := metav1.Condition{Type: synced.ConditionType, Status: metav1.ConditionTrue, Reason: synced.Reason, Message: synced.Message,
		ObservedGeneration: 1, LastTransitionTime: yesterday}
	demo := newMydemo(2, other, wasSynced)

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
