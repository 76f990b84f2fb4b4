package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

func TestLeanForCacheDropsWhatCrddemoNeverReads(t *testing.T) {
	demo := newMydemo("example-mydemo", 1)
	demo.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
	demo.Annotations = map[string]string{lastAppliedAnnotation: `{"spec":{}}`, "team": "a"}

	got, err := leanForCache(demo)
	if err != nil {
		t.Fatal(err)
	}
	lean := got.(*crddemov1.Mydemo)
	if lean.ManagedFields != nil || len(lean.Annotations) != 1 || lean.Annotations["team"] != "a" {
		t.Errorf("after the transform: managedFields %v, annotations %v; want none, and only team=a", lean.ManagedFields, lean.Annotations)
	}
	if lean.Spec != demo.Spec || lean.Name != demo.Name {
		t.Errorf("the transform changed what crddemo reads: %+v", lean)
	}

	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{lastAppliedAnnotation: "x"}}}
	if got, err := leanForCache(pod); err != nil || got.(*corev1.Pod).Annotations[lastAppliedAnnotation] != "x" {
		t.Errorf("an object of another type was changed: %v, %v", got, err)
	}
}
