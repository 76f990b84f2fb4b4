package main

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

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

// BenchmarkCacheMemory shows what leanForCache saves: the heap that 1,000
// cached Mydemos take as kubectl apply leaves them (managedFields for two
// managers and the last-applied annotation), with and without the transform.
func BenchmarkCacheMemory(b *testing.B) {
	applied := newMydemo("example-mydemo", 1)
	applied.Annotations = map[string]string{lastAppliedAnnotation: `{"apiVersion":"crddemo.k8s.io/v1","kind":"Mydemo",` +
		`"metadata":{"annotations":{},"name":"example-mydemo","namespace":"default"},"spec":{"ip":"127.0.0.1","port":8080}}`}
	fields := metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}},` +
		`"f:spec":{".":{},"f:ip":{},"f:port":{}}}`)}
	status := metav1.FieldsV1{Raw: []byte(`{"f:status":{".":{},"f:conditions":{".":{},"k:{\"type\":\"Synced\"}":{".":{},` +
		`"f:lastTransitionTime":{},"f:message":{},"f:observedGeneration":{},"f:reason":{},"f:status":{},"f:type":{}}},"f:observedGeneration":{}}}`)}
	applied.ManagedFields = []metav1.ManagedFieldsEntry{
		{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "crddemo.k8s.io/v1", FieldsType: "FieldsV1", FieldsV1: &fields},
		{Manager: "crddemo", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "crddemo.k8s.io/v1", FieldsType: "FieldsV1", FieldsV1: &status, Subresource: "status"},
	}
	for _, lean := range []bool{false, true} {
		name := "as-applied"
		if lean {
			name = "lean"
		}
		b.Run(name, func(b *testing.B) {
			const objects = 1000
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				store := cache.NewStore(cache.MetaNamespaceKeyFunc)
				for i := range objects {
					var obj any = applied.DeepCopy()
					obj.(*crddemov1.Mydemo).Name = fmt.Sprintf("demo-%d", i)
					if lean {
						obj, _ = leanForCache(obj)
					}
					_ = store.Add(obj)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/objects, "heap-bytes/object")
				runtime.KeepAlive(store)
			}
		})
	}
}
