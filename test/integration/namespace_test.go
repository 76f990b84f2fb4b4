package integration

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/synced"
)

// TestNamespaceFlag runs crddemo with --namespace: it syncs the Mydemos of
// that namespace and never touches the others.
func TestNamespaceFlag(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	if _, err := kube.CoreV1().Namespaces().Create(t.Context(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	outside := createMydemos(t, client, "outside", 1)[0]

	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath, "--namespace=team-a")
	crddemo.waitReady(t)
	inside := &crddemov1.Mydemo{
		ObjectMeta: metav1.ObjectMeta{Name: "inside", Namespace: "team-a"},
		Spec:       crddemov1.MydemoSpec{IP: "10.0.0.1", Port: 80},
	}
	if _, err := client.CrddemoV1().Mydemos("team-a").Create(t.Context(), inside, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := harness.WaitSynced(t.Context(), client, "team-a", "inside", 1); err != nil {
		t.Fatal(err)
	}

	// crddemo has synced what it watches; had it watched default, it would
	// have synced the older object there first.
	demo, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Get(t.Context(), outside, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if synced.IsCurrent(demo) || len(demo.Status.Conditions) != 0 {
		t.Errorf("mydemo default/%s outside --namespace was synced: %+v", outside, demo.Status)
	}
	if events, err := harness.SyncedEvents(t.Context(), kube, demo); err != nil || len(events) != 0 {
		t.Errorf("mydemo default/%s outside --namespace has events %+v (%v)", outside, events, err)
	}
	if lines := crddemo.Lines("Try to process mydemo", `mydemo="default/`); len(lines) != 0 {
		t.Errorf("crddemo processed a Mydemo outside --namespace: %q", lines)
	}
}

// TestMydemosBeingDeletedAreNotSynced starts crddemo over a Mydemo held by a
// finalizer after its deletion, and one in a namespace being deleted (which,
// with no kube-controller-manager here, stays so): neither gets a Synced
// event or a status, and crddemo does not retry them.
func TestMydemosBeingDeletedAreNotSynced(t *testing.T) {
	cp, client, kube := startWithCRD(t)

	held := newTestMydemo("held", 0)
	held.Finalizers = []string{"crddemo.test/hold"}
	if _, err := client.CrddemoV1().Mydemos(held.Namespace).Create(t.Context(), held, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CrddemoV1().Mydemos(held.Namespace).Delete(t.Context(), held.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	const closing = "closing"
	if _, err := kube.CoreV1().Namespaces().Create(t.Context(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: closing}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inClosing := &crddemov1.Mydemo{
		ObjectMeta: metav1.ObjectMeta{Name: "in-closing", Namespace: closing},
		Spec:       crddemov1.MydemoSpec{IP: "10.0.0.1", Port: 80},
	}
	if _, err := client.CrddemoV1().Mydemos(closing).Create(t.Context(), inClosing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.CoreV1().Namespaces().Delete(t.Context(), closing, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath, "--max-retry-delay=100ms")
	crddemo.waitReady(t)
	crddemo.waitForLog(t, "Namespace is being deleted; not syncing mydemo", `mydemo="closing/in-closing"`)
	// A Mydemo synced after both is the mark that crddemo went past them.
	marker := createMydemos(t, client, "after", 1)
	waitAllSynced(t, client, marker)

	for _, demo := range []*crddemov1.Mydemo{held, inClosing} {
		got, err := client.CrddemoV1().Mydemos(demo.Namespace).Get(t.Context(), demo.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Status.Conditions) != 0 {
			t.Errorf("mydemo %s/%s, being deleted, got a status: %+v", demo.Namespace, demo.Name, got.Status)
		}
		if events, err := harness.SyncedEvents(t.Context(), kube, got); err != nil || len(events) != 0 {
			t.Errorf("mydemo %s/%s, being deleted, got Synced events %+v (%v)", demo.Namespace, demo.Name, events, err)
		}
	}
	m, err := harness.Scrape(t.Context(), crddemo.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	if failed := m.Sum("crddemo_syncs_total", map[string]string{"result": "error"}); failed != 0 {
		t.Errorf("crddemo failed %v syncs, want none: a Mydemo being deleted is no failure to retry", failed)
	}
}
