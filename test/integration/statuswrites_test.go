package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// slowLink is the latency, each way, of the link between crddemo and the API
// server in TestStatusWritesInTheWindow. A sync sends its event, waits for
// the answer and only then sends the status, so the status write reaches the
// API server at least three latencies after the sync read the cache: a
// window of seconds in which the test changes the object.
const slowLink = 500 * time.Millisecond

// TestStatusWritesInTheWindow changes a Mydemo between the moment crddemo's
// sync reads it from the cache and the moment its status write reaches the
// API server, over a slow link that holds that window open, and checks that
// the write does not undo the change.
func TestStatusWritesInTheWindow(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	crddemo, proxy := startCrddemoBehindProxy(t, cp)
	proxy.SetLatency(slowLink)
	mydemos := client.CrddemoV1().Mydemos(metav1.NamespaceDefault)

	t.Run("a re-created namesake is not given the old object's status", func(t *testing.T) {
		old := createMydemos(t, client, "namesake", 1)[0]
		crddemo.waitForLog(t, "Try to process mydemo", `mydemo="default/`+old+`"`)
		oldDemo, err := mydemos.Get(t.Context(), old, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := mydemos.Delete(t.Context(), old, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		created, err := mydemos.Create(t.Context(), newTestMydemo("namesake", 0), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if synced.IsCurrent(created) {
			t.Fatalf("the namesake was created with a synced status: %+v", created.Status)
		}

		// The namesake must be synced on its own account: with a Synced
		// event about its own UID, exactly one, and none of them may be
		// the old object's status write landing on it.
		demo := waitSyncedWithEvents(t, client, kube, created, 1)
		if demo.UID == oldDemo.UID {
			t.Fatalf("the namesake has the old object's UID %s", demo.UID)
		}
	})

	t.Run("a condition another writer sets meanwhile survives", func(t *testing.T) {
		name := createMydemos(t, client, "foreign", 1)[0]
		crddemo.waitForLog(t, "Try to process mydemo", `mydemo="default/`+name+`"`)
		foreign := metav1.Condition{
			Type: "Reachable", Status: metav1.ConditionTrue, Reason: "Probed", Message: "set by another controller",
			LastTransitionTime: metav1.NewTime(time.Now().Truncate(time.Second)),
		}
		applyForeignCondition(t, client, name, foreign)

		demo := waitSyncedWithEvents(t, client, kube, &crddemov1.Mydemo{ObjectMeta: metav1.ObjectMeta{
			Namespace: metav1.NamespaceDefault, Name: name}}, 1)
		if got := meta.FindStatusCondition(demo.Status.Conditions, foreign.Type); got == nil || got.Message != foreign.Message {
			t.Errorf("the condition another writer set is gone after crddemo's status write: %+v", demo.Status.Conditions)
		}
	})
}

// applyForeignCondition sets cond in the status of the named Mydemo by
// server-side apply as another field manager, as another controller would.
func applyForeignCondition(t *testing.T, client clientset.Interface, name string, cond metav1.Condition) {
	t.Helper()
	patch, err := json.Marshal(map[string]any{
		"apiVersion": crddemov1.SchemeGroupVersion.String(),
		"kind":       "Mydemo",
		"metadata":   map[string]any{"name": name, "namespace": metav1.NamespaceDefault},
		"status":     map[string]any{"conditions": []metav1.Condition{cond}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Patch(t.Context(), name, types.ApplyPatchType, patch,
		metav1.PatchOptions{FieldManager: "another-controller"}, "status")
	if err != nil {
		t.Fatalf("setting the %s condition of %s as another writer: %v", cond.Type, name, err)
	}
}

// waitSyncedWithEvents waits until the Mydemo that demo names (by namespace,
// name and, if set, UID) is synced at its generation and has a Synced event
// about its UID, and returns it. Its Synced events must then count want in
// all: the event correlator counts a repeat on the Event already written.
func waitSyncedWithEvents(t *testing.T, client clientset.Interface, kube kubernetes.Interface,
	demo *crddemov1.Mydemo, want int32) *crddemov1.Mydemo {
	t.Helper()
	var current *crddemov1.Mydemo
	var events []corev1.Event
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		got, err := client.CrddemoV1().Mydemos(demo.Namespace).Get(ctx, demo.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		current = got
		if (demo.UID != "" && current.UID != demo.UID) || !synced.IsCurrent(current) {
			return false, nil
		}
		events, err = harness.SyncedEvents(ctx, kube, current)
		return err == nil && len(events) > 0, nil
	})
	if err != nil {
		t.Fatalf("mydemo %s/%s was not synced with a Synced event of its own: last seen %+v with events %+v: %v",
			demo.Namespace, demo.Name, current, events, err)
	}
	var count int32
	for _, e := range events {
		count += e.Count
	}
	if count != want {
		t.Errorf("mydemo %s has Synced events counting %d about its UID, want %d: %+v", demo.Name, count, want, events)
	}
	return current
}
