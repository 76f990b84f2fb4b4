package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// deployServiceAccountName is the ServiceAccount that deploy/ runs crddemo
// as, in deployNamespace.
const deployServiceAccountName = "crddemo"

// TestDeployRBACIsEnoughAndNoMore applies deploy/ and runs the built binary
// as its service account, with a real token, the way its pods run: the
// walkthrough works with exactly the ClusterRole and Role of deploy/, and
// that identity is refused what crddemo must never do.
func TestDeployRBACIsEnoughAndNoMore(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	admin := clientset.NewForConfigOrDie(cp.Config)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	applyDeploy(t, cp)

	saConfig := serviceAccountConfig(t, cp)
	env := append(os.Environ(), "POD_NAMESPACE="+deployNamespace)
	crddemo := startCrddemo(t, env, "--kubeconfig="+writeKubeconfig(t, saConfig), "--leader-elect")
	crddemo.waitReady(t)

	// The walkthrough: create, change, delete.
	names := createMydemos(t, admin, "rbac", 1)
	created := waitAllSynced(t, admin, names)
	syncedEventsOf(t, kube, created)
	kubectl(t, cp, "", "patch", "md", names[0], "--type=merge", "-p", `{"spec":{"port":9090}}`)
	changed := waitAllSynced(t, admin, names)
	if changed[0].Generation != 2 {
		t.Fatalf("generation after the change = %d, want 2", changed[0].Generation)
	}
	kubectl(t, cp, "", "delete", "md", names[0])
	crddemo.waitForLog(t, "Deleting mydemo", `mydemo="default/`+names[0]+`"`)

	m, err := harness.Scrape(t.Context(), crddemo.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	if failed := m.Sum("crddemo_syncs_total", map[string]string{"result": "error"}); failed != 0 {
		t.Errorf("%v syncs failed under deploy/'s RBAC, want none", failed)
	}
	if forbidden := m.Sum("rest_client_requests_total", map[string]string{"code": "403"}); forbidden != 0 {
		t.Errorf("crddemo was refused %v requests under deploy/'s RBAC, want none", forbidden)
	}
	if lease, err := kube.CoordinationV1().Leases(deployNamespace).Get(t.Context(), "crddemo", metav1.GetOptions{}); err != nil {
		t.Errorf("no crddemo Lease in %s: %v", deployNamespace, err)
	} else if lease.Spec.HolderIdentity == nil || !strings.Contains(*lease.Spec.HolderIdentity, "_") {
		t.Errorf("Lease holder = %v, want hostname_suffix", lease.Spec.HolderIdentity)
	}

	// What crddemo must not be able to do.
	asCrddemo := clientset.NewForConfigOrDie(saConfig)
	asCrddemoKube := kubernetes.NewForConfigOrDie(saConfig)
	demo := createMydemos(t, admin, "untouchable", 1)[0]
	refused := []struct {
		what string
		call func() error
	}{
		{"read Secrets", func() error {
			_, err := asCrddemoKube.CoreV1().Secrets(deployNamespace).List(t.Context(), metav1.ListOptions{})
			return err
		}},
		{"delete a Mydemo", func() error {
			return asCrddemo.CrddemoV1().Mydemos("default").Delete(t.Context(), demo, metav1.DeleteOptions{})
		}},
		{"change a Mydemo's spec", func() error {
			current, err := admin.CrddemoV1().Mydemos("default").Get(t.Context(), demo, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			current.Spec.Port = 1
			_, err = asCrddemo.CrddemoV1().Mydemos("default").Update(t.Context(), current, metav1.UpdateOptions{})
			return err
		}},
		{"write a Lease in another namespace", func() error {
			lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "crddemo", Namespace: "default"}}
			_, err := asCrddemoKube.CoordinationV1().Leases("default").Create(t.Context(), lease, metav1.CreateOptions{})
			return err
		}},
		{"delete its own Lease", func() error {
			return asCrddemoKube.CoordinationV1().Leases(deployNamespace).Delete(t.Context(), "crddemo", metav1.DeleteOptions{})
		}},
	}
	for _, r := range refused {
		if err := r.call(); !apierrors.IsForbidden(err) {
			t.Errorf("as crddemo's service account, %s: %v, want Forbidden", r.what, err)
		}
	}
}

// serviceAccountConfig returns a client config that authenticates as
// deploy/'s service account with a token from the TokenRequest API, as the
// token projected into crddemo's pods does.
func serviceAccountConfig(t *testing.T, cp *controlplane.ControlPlane) *rest.Config {
	t.Helper()
	token := strings.TrimSpace(kubectl(t, cp, "", "create", "token", deployServiceAccountName,
		"--namespace="+deployNamespace, "--duration=1h"))
	return &rest.Config{
		Host:            cp.Config.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.Config.CAData},
		BearerToken:     token,
	}
}

// writeKubeconfig writes config as a kubeconfig file for the crddemo binary.
func writeKubeconfig(t *testing.T, config *rest.Config) string {
	t.Helper()
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["test"] = &clientcmdapi.Cluster{Server: config.Host, CertificateAuthorityData: config.CAData}
	kubeconfig.AuthInfos["crddemo"] = &clientcmdapi.AuthInfo{Token: config.BearerToken}
	kubeconfig.Contexts["crddemo"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "crddemo"}
	kubeconfig.CurrentContext = "crddemo"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		t.Fatal(err)
	}
	return path
}
