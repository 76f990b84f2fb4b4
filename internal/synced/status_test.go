package synced

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

func newMydemo(generation int64, conditions ...metav1.Condition) *crddemov1.Mydemo {
	return &crddemov1.Mydemo{
		ObjectMeta: metav1.ObjectMeta{Name: "example-mydemo", Namespace: "default", UID: "uid-1",
			Generation: generation, ResourceVersion: "42"},
		Status: crddemov1.MydemoStatus{ObservedGeneration: generation - 1, Conditions: conditions},
	}
}

func TestStatusApplyOwnsOnlyWhatCrddemoWrites(t *testing.T) {
	other := metav1.Condition{Type: "Reachable", Status: metav1.ConditionTrue, Reason: "Probed",
		LastTransitionTime: metav1.NewTime(time.Unix(1, 0))}
	demo := newMydemo(3, other)

	patch, err := statusApply(demo)
	if err != nil {
		t.Fatal(err)
	}
	var applied crddemov1.Mydemo
	if err := json.Unmarshal(patch, &applied); err != nil {
		t.Fatal(err)
	}
	want := crddemov1.Mydemo{
		TypeMeta:   metav1.TypeMeta{APIVersion: "crddemo.k8s.io/v1", Kind: "Mydemo"},
		ObjectMeta: metav1.ObjectMeta{Name: "example-mydemo", Namespace: "default", ResourceVersion: "42"},
		Status: crddemov1.MydemoStatus{ObservedGeneration: 3,
			Conditions: []metav1.Condition{Condition(demo)}},
	}
	// The transition time is stamped now, in whole seconds on the wire.
	want.Status.Conditions[0].LastTransitionTime = applied.Status.Conditions[0].LastTransitionTime
	if !reflect.DeepEqual(applied, want) {
		t.Errorf("the status apply is\n%+v\nwant\n%+v", applied, want)
	}
}
