package integration

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/synced"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// TestNamespaceFlag runs crddemo with --namespace: it syncs the Mydemos of
// that namespace and never touches the others.
func TestNamespaceFlag(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	client := clientset.NewForConfigOrDie(cp.Config)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	installCRD(t, cp)
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
