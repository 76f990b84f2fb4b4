package integration

// Fault tests: each injects one fault that a controller meets in real
// clusters, on a real kube-apiserver and etcd, and ends by counting the
// objects lost (without a current status or without a Synced event), which
// must be 0. Each logs how long crddemo took to recover (go test -v).

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/harness"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// requireNoneLost waits until every Mydemo in the default namespace is
// synced with its event, logs the count of objects lost (0) and how long
// that took since since, and fails the test if any stays unsynced.
func requireNoneLost(t *testing.T, client clientset.Interface, kube kubernetes.Interface, since time.Time, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	unsynced, err := harness.WaitAllSynced(ctx, client, kube, metav1.NamespaceDefault)
	if err != nil {
		t.Fatalf("%s: objects lost: %d: %v", what, unsynced.Count(), err)
	}
	t.Logf("%s: objects lost: 0; all synced %v after the fault ended", what, time.Since(since).Round(10*time.Millisecond))
}

// waitSyncErrors waits until crddemo has failed at least one sync, which
// shows that the fault is in effect.
func waitSyncErrors(t *testing.T, crddemo *crddemoProcess) {
	t.Helper()
	crddemo.waitMetrics(t, "crddemo fails a sync under the fault", func(m harness.Metrics) bool {
		return m.Sum("crddemo_syncs_total", map[string]string{"result": "error"}) > 0
	})
}

// TestFaultForbiddenThenAllowed runs crddemo as deploy/'s ServiceAccount and
// takes permissions away from its ClusterRole for a while: first the status
// writes, then the events. Once they are granted again, every object ends
// with its status and at least one Synced event, without a restart.
func TestFaultForbiddenThenAllowed(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	client := clientset.NewForConfigOrDie(cp.Config)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	applyDeploy(t, cp)
	crddemo := startCrddemo(t, nil, "--kubeconfig="+writeKubeconfig(t, serviceAccountConfig(t, cp)), "--max-retry-delay=1s")
	crddemo.waitReady(t)

	for _, fault := range []struct {
		name     string
		resource string // the rule taken away
	}{
		{"status writes forbidden", "mydemos/status"},
		{"event writes forbidden", "events"},
	} {
		restore := revokeFromClusterRole(t, kube, "crddemo", fault.resource)
		createMydemos(t, client, fmt.Sprintf("forbidden-%s", fault.resource[:6]), 5)
		waitSyncErrors(t, crddemo)
		restore()
		requireNoneLost(t, client, kube, time.Now(), fault.name)
	}
}

// revokeFromClusterRole removes the rules about resource from the named
// ClusterRole and returns a func that puts them back.
func revokeFromClusterRole(t *testing.T, kube kubernetes.Interface, name, resource string) (restore func()) {
	t.Helper()
	role, err := kube.RbacV1().ClusterRoles().Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	original := role.Rules
	var kept []rbacv1.PolicyRule
	for _, rule := range original {
		if !slices.Contains(rule.Resources, resource) {
			kept = append(kept, rule)
		}
	}
	if len(kept) == len(original) {
		t.Fatalf("ClusterRole %s has no rule for %s", name, resource)
	}
	setRules := func(rules []rbacv1.PolicyRule) {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			role, err := kube.RbacV1().ClusterRoles().Get(t.Context(), name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			role.Rules = rules
			_, err = kube.RbacV1().ClusterRoles().Update(t.Context(), role, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatalf("updating ClusterRole %s: %v", name, err)
		}
	}
	setRules(kept)
	return func() { setRules(original) }
}

// TestFaultCRDDeletedAndRecreated deletes the CRD under a running crddemo:
// the deletion path runs for every object, crddemo says the CRD is missing
// and turns unready, and once the CRD is back it syncs new objects without a
// restart.
func TestFaultCRDDeletedAndRecreated(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath)
	crddemo.waitReady(t)
	before := createMydemos(t, client, "before", 3)
	requireNoneLost(t, client, kube, time.Now(), "before the CRD is deleted")

	kubectl(t, cp, "", "delete", "-f", repoFile(t, "crd/mydemo.yaml"), "--wait=true")
	for _, name := range before {
		crddemo.waitForLog(t, "Deleting mydemo", `mydemo="default/`+name+`"`)
	}
	crddemo.waitForLog(t, "the Mydemo CRD is not installed; waiting for it")
	waitUnready(t, crddemo)

	installCRD(t, cp)
	recreated := time.Now()
	crddemo.waitReady(t)
	createMydemos(t, client, "after", 3)
	requireNoneLost(t, client, kube, recreated, "after the CRD is re-created")
	if state := crddemo.State(); state != nil {
		t.Errorf("crddemo exited during the fault: %v", state)
	}
}

// waitUnready waits until crddemo's /readyz fails.
func waitUnready(t *testing.T, crddemo *crddemoProcess) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		code, _, err := harness.Probe(ctx, crddemo.Probes, "/readyz")
		return err == nil && code != 200, nil
	})
	if err != nil {
		t.Fatalf("/readyz never failed: %v", err)
	}
}

// TestFaultConflictingWriters changes the spec and labels of Mydemos over
// and over while crddemo writes their status: every object's final status
// reports its final generation.
func TestFaultConflictingWriters(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath)
	crddemo.waitReady(t)
	names := createMydemos(t, client, "contested", 5)

	const rounds = 20
	for round := range rounds {
		for _, name := range names {
			err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
				demo, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Get(t.Context(), name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				demo.Spec.Port = int32(9000 + round)
				if demo.Labels == nil {
					demo.Labels = map[string]string{}
				}
				demo.Labels["round"] = fmt.Sprint(round)
				_, err = client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Update(t.Context(), demo, metav1.UpdateOptions{})
				return err
			})
			if err != nil {
				t.Fatalf("round %d, updating %s: %v", round, name, err)
			}
		}
	}
	ended := time.Now()
	for _, demo := range waitAllSynced(t, client, names) {
		if demo.Generation != rounds+1 || demo.Spec.Port != 9000+rounds-1 {
			t.Errorf("%s ended at generation %d, port %d; want %d, %d", demo.Name, demo.Generation, demo.Spec.Port, rounds+1, 9000+rounds-1)
		}
	}
	requireNoneLost(t, client, kube, ended, "conflicting writers")
	m, err := harness.Scrape(t.Context(), crddemo.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status writes refused with 409 Conflict: %v", m.Sum("rest_client_requests_total", map[string]string{"code": "409"}))
}

// TestFaultSIGTERMWithAFullQueue stops crddemo while hundreds of keys wait
// in its queue: it exits 0 at once, finishing only the syncs in flight, and
// the next run syncs every object, with its event.
func TestFaultSIGTERMWithAFullQueue(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	createMydemos(t, client, "queued", 300)

	// A low QPS keeps the queue full for the whole of the first run.
	args := []string{"--kubeconfig=" + cp.KubeconfigPath, "--kube-api-qps=10", "--kube-api-burst=10"}
	first := startCrddemo(t, nil, args...)
	first.waitMetrics(t, "crddemo has a full queue and syncs under way", func(m harness.Metrics) bool {
		return m.Sum("crddemo_syncs_total", map[string]string{"result": "success"}) >= 5 &&
			m.Sum("workqueue_depth", map[string]string{"name": "mydemos"}) > 100
	})
	stopped := time.Now()
	if code := first.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM with a full queue = %d, want 0", code)
	}
	exit := time.Since(stopped)
	t.Logf("SIGTERM to exit with a full queue: %v", exit.Round(time.Millisecond))
	if exit > 5*time.Second {
		t.Errorf("crddemo took %v to exit after SIGTERM, want about a second", exit)
	}

	restarted := time.Now()
	startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath)
	requireNoneLost(t, client, kube, restarted, "after SIGTERM with a full queue and a restart")
}

// TestFaultRejectedCredentialsAndMissingPermissions runs crddemo with a
// token the API server does not accept, then as a ServiceAccount with no
// permissions at all: each time it says what is wrong and what to do,
// naming the credentials or the refused user and verb, and stays unready;
// once the permissions are granted it recovers without a restart.
func TestFaultRejectedCredentialsAndMissingPermissions(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	applyDeploy(t, cp)

	bogus := serviceAccountConfig(t, cp)
	bogus.BearerToken = "not-a-token"
	rejected := startCrddemo(t, nil, "--kubeconfig="+writeKubeconfig(t, bogus))
	rejected.waitForLog(t, "The Kubernetes API server rejects crddemo's credentials; check that they are valid and not expired",
		`credentials="a bearer token"`, "Unauthorized")
	waitUnready(t, rejected)
	rejected.stop(t)

	kubectl(t, cp, "", "create", "serviceaccount", "nobody", "--namespace=default")
	token := strings.TrimSpace(kubectl(t, cp, "", "create", "token", "nobody", "--namespace=default"))
	nobody := serviceAccountConfig(t, cp)
	nobody.BearerToken = token
	forbidden := startCrddemo(t, nil, "--kubeconfig="+writeKubeconfig(t, nobody))
	forbidden.waitForLog(t, "The Kubernetes API server forbids crddemo to list or watch Mydemos; grant it the verbs of the ClusterRole in deploy/rbac.yaml",
		`User \"system:serviceaccount:default:nobody\" cannot`, `resource \"mydemos\"`)
	waitUnready(t, forbidden)

	kubectl(t, cp, "", "create", "clusterrolebinding", "nobody-crddemo", "--clusterrole=crddemo", "--serviceaccount=default:nobody")
	forbidden.waitForLog(t, "The Mydemo API is now available")
	forbidden.waitReady(t)
}
