package integration

import (
	"context"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/synced"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// installCRD applies crd/mydemo.yaml and waits until the API server serves
// Mydemos.
func installCRD(t *testing.T, cp *controlplane.ControlPlane) {
	t.Helper()
	if err := harness.InstallCRD(t.Context(), cp, waitTimeout); err != nil {
		t.Fatal(err)
	}
}

// startWithCRD starts a control plane with opts, installs the CRD, and
// returns clients of it as its admin: where most tests of crddemo begin.
func startWithCRD(t *testing.T, opts ...controlplane.Option) (*controlplane.ControlPlane, clientset.Interface, kubernetes.Interface) {
	t.Helper()
	cp := testcontrolplane.StartForTest(t, opts...)
	installCRD(t, cp)
	return cp, clientset.NewForConfigOrDie(cp.Config), kubernetes.NewForConfigOrDie(cp.Config)
}

// applyDeploy applies deploy/ (its namespace, RBAC, Deployment and the
// CRD) and waits until the API server serves Mydemos. With no nodes, the
// Deployment never runs a pod.
func applyDeploy(t *testing.T, cp *controlplane.ControlPlane) {
	t.Helper()
	kubectl(t, cp, "", "apply", "-k", repoFile(t, "deploy"))
	kubectl(t, cp, "", "wait", "--for=condition=Established", "--timeout="+waitTimeout.String(), "crd/mydemos.crddemo.k8s.io")
}

// createMydemos creates Mydemos named prefix-0 to prefix-(n-1) in the
// default namespace, as harness.CreateMydemo does.
func createMydemos(t *testing.T, client clientset.Interface, prefix string, n int) []string {
	t.Helper()
	var names []string
	for i := range n {
		demo, err := harness.CreateMydemo(t.Context(), client, newTestMydemo(prefix, i))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, demo.Name)
	}
	return names
}

// newTestMydemo is the Mydemo prefix-i in the default namespace.
func newTestMydemo(prefix string, i int) *crddemov1.Mydemo {
	return &crddemov1.Mydemo{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Namespace: metav1.NamespaceDefault},
		Spec:       crddemov1.MydemoSpec{IP: "127.0.0.1", Port: int32(8000 + i)},
	}
}

// waitAllSynced waits until every named Mydemo in the default namespace is
// synced at its current generation, and returns them.
func waitAllSynced(t *testing.T, client clientset.Interface, names []string) []*crddemov1.Mydemo {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	var done []*crddemov1.Mydemo
	for _, name := range names {
		var demo *crddemov1.Mydemo
		err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
			var err error
			demo, err = client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, err
			}
			return err == nil && synced.IsCurrent(demo), nil
		})
		if err != nil {
			t.Fatalf("mydemo %s never synced: %v; last seen %+v", name, err, demo)
		}
		done = append(done, demo)
	}
	return done
}

// syncedEventsOf returns the Synced events of each of demos, waiting until
// each has at least one.
func syncedEventsOf(t *testing.T, kube kubernetes.Interface, demos []*crddemov1.Mydemo) map[string][]string {
	t.Helper()
	reporters := map[string][]string{}
	for _, demo := range demos {
		err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
			events, err := harness.SyncedEvents(ctx, kube, demo)
			if err != nil || len(events) == 0 {
				return false, nil
			}
			reporters[demo.Name] = nil
			for _, e := range events {
				reporters[demo.Name] = append(reporters[demo.Name], e.ReportingInstance)
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("mydemo %s has no Synced event: %v", demo.Name, err)
		}
	}
	return reporters
}
