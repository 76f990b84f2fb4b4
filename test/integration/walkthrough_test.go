package integration

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// TestWalkthrough replays the seed walkthrough with the built binary: start
// crddemo before its CRD exists, install the CRD, then create, change and
// delete the example Mydemo with kubectl, and stop crddemo with SIGTERM.
func TestWalkthrough(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	client := clientset.NewForConfigOrDie(cp.Config)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath)

	// Without the CRD the informer cannot list Mydemos: crddemo says why and
	// keeps retrying instead of exiting.
	crddemo.waitForLog(t, "the Mydemo CRD is not installed; waiting for it")
	crddemo.waitForLog(t, "Failed to list *v1.Mydemo", "the server could not find the requested resource")
	crddemo.waitForLog(t, "Waiting for informer caches to sync")
	if len(crddemo.Lines("Started workers")) != 0 {
		t.Fatal("crddemo started its workers before the CRD existed")
	}

	if code, _, err := harness.Probe(t.Context(), crddemo.Probes, "/readyz"); err != nil || code == 200 {
		t.Errorf("/readyz before the CRD exists: %d, %v; want a failure", code, err)
	}

	kubectl(t, cp, "", "apply", "-f", repoFile(t, "crd/mydemo.yaml"))
	crddemo.waitReady(t)
	crddemo.waitForLog(t, "Started workers")
	crddemo.waitForLog(t, "The Mydemo API is now available")

	// The sync logs the object as the user's apply left it: its
	// resourceVersion then, before crddemo's own status write.
	applied := kubectl(t, cp, "", "apply", "-f", repoFile(t, "example/example-mydemo.yaml"), "-o", "jsonpath={.metadata.resourceVersion}")
	created := waitForSyncedStatus(t, client, 1)
	crddemo.waitForLog(t, "Try to process mydemo", `mydemo="default/example-mydemo"`,
		`resourceVersion="`+applied+`"`, "generation=1", `ip="127.0.0.1"`, "port=8080")
	crddemo.waitForLog(t, "Successfully synced", `mydemo="default/example-mydemo"`)
	waitForSyncedEvents(t, kube, created, 1)

	table := kubectl(t, cp, "", "get", "md")
	for _, want := range []string{"NAME", "IP", "PORT", "SYNCED", "AGE", "example-mydemo", "127.0.0.1", "8080", "True"} {
		if !strings.Contains(table, want) {
			t.Errorf("kubectl get md does not show %q:\n%s", want, table)
		}
	}
	described := kubectl(t, cp, "", "describe", "md", "example-mydemo")
	syncedEvent := regexp.MustCompile(`Normal\s+Synced\s+\S+\s+crddemo\s+Mydemo synced successfully`)
	if len(syncedEvent.FindAllString(described, -1)) != 1 {
		t.Errorf("kubectl describe md does not show the Synced event:\n%s", described)
	}

	// Change the port as the walkthrough does: edit the file, apply again.
	example, err := os.ReadFile(repoFile(t, "example/example-mydemo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	applied = kubectl(t, cp, strings.Replace(string(example), "port: 8080", "port: 9090", 1), "apply", "-f", "-",
		"-o", "jsonpath={.metadata.resourceVersion}")
	changed := waitForSyncedStatus(t, client, 2)
	if changed.Spec.Port != 9090 {
		t.Fatalf("port after the change = %d, want 9090", changed.Spec.Port)
	}
	crddemo.waitForLog(t, "Try to process mydemo", `resourceVersion="`+applied+`"`, "generation=2", "port=9090")
	waitForSyncedEvents(t, kube, changed, 2)
	described = kubectl(t, cp, "", "describe", "md", "example-mydemo")
	repeated := regexp.MustCompile(`Normal\s+Synced\s+\S+ \(x2 over \S+\)\s+crddemo\s+Mydemo synced successfully`)
	if len(repeated.FindAllString(described, -1)) != 1 || len(syncedEvent.FindAllString(described, -1)) != 0 {
		t.Errorf("kubectl describe md does not show the Synced event once, with x2:\n%s", described)
	}

	kubectl(t, cp, "", "delete", "-f", repoFile(t, "example/example-mydemo.yaml"))
	crddemo.waitForLog(t, "Mydemo does not exist in local cache, will delete it", `mydemo="default/example-mydemo"`)
	crddemo.waitForLog(t, "Deleting mydemo", `mydemo="default/example-mydemo"`)

	checkWalkthroughMetrics(t, crddemo)
	// One "Try to process" line per change, as in the walkthrough: the
	// syncs that crddemo's own status writes cause log only at -v=4.
	if lines := crddemo.Lines("Try to process mydemo"); len(lines) != 2 {
		t.Errorf("crddemo logged %d \"Try to process mydemo\" lines for 2 changes: %q", len(lines), lines)
	}

	if code := crddemo.stop(t); code != 0 {
		t.Errorf("crddemo exited with %d after SIGTERM, want 0", code)
	}
	crddemo.waitForLog(t, "Shut down cleanly")
	if lines := crddemo.Lines("panic"); len(lines) != 0 {
		t.Errorf("crddemo panicked: %q", lines)
	}
}

// kubectl runs bin/kubectl against the control plane, with stdin if it is
// not empty, and returns its output.
func kubectl(t *testing.T, cp *controlplane.ControlPlane, stdin string, args ...string) string {
	t.Helper()
	cmd := cp.Kubectl(context.Background(), args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitForSyncedStatus waits until the example Mydemo reports that the
// controller synced generation, and returns it.
func waitForSyncedStatus(t *testing.T, client clientset.Interface, generation int64) *crddemov1.Mydemo {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	demo, err := harness.WaitSynced(ctx, client, "default", "example-mydemo", generation)
	if err != nil {
		t.Fatal(err)
	}
	return demo
}

// waitForSyncedEvents waits until demo's Synced event has been recorded
// want times, and checks that it is one Event whose count says so, as
// kubectl describe shows repeats ("x2 over 5s"): one per change, however many
// syncs the change caused.
func waitForSyncedEvents(t *testing.T, kube kubernetes.Interface, demo *crddemov1.Mydemo, want int32) {
	t.Helper()
	var events []corev1.Event
	var count int32
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true,
		func(ctx context.Context) (bool, error) {
			var err error
			events, err = harness.SyncedEvents(ctx, kube, demo)
			count = 0
			for _, e := range events {
				count += e.Count
			}
			return err == nil && count >= want, nil
		})
	if err != nil || len(events) != 1 || count != want {
		t.Fatalf("want one Synced event for %s with count %d, got %d events with counts adding up to %d: %+v",
			demo.Name, want, len(events), count, events)
	}
	e := events[0]
	if e.Type != corev1.EventTypeNormal || e.Message != "Mydemo synced successfully" || e.Source.Component != "crddemo" ||
		e.InvolvedObject.Kind != "Mydemo" || e.InvolvedObject.APIVersion != "crddemo.k8s.io/v1" {
		t.Errorf("unexpected event: %+v", e)
	}
}

// checkWalkthroughMetrics checks what crddemo's /metrics and /healthz say
// after the walkthrough: the create, the change and the deletion were synced
// once each (crddemo's own status writes cause no sync), and none failed.
func checkWalkthroughMetrics(t *testing.T, crddemo *crddemoProcess) {
	t.Helper()
	if code, body, err := harness.Probe(t.Context(), crddemo.Probes, "/healthz"); err != nil || code != 200 {
		t.Errorf("/healthz = %d %q, %v; want 200", code, body, err)
	}
	m, err := harness.Scrape(t.Context(), crddemo.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	queue := map[string]string{"name": "mydemos"}
	checks := []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"workqueue_adds_total", queue, 3},
		{"workqueue_depth", queue, 0},
		{"workqueue_retries_total", queue, 0},
		{"workqueue_work_duration_seconds_count", queue, 3},
		{"crddemo_syncs_total", map[string]string{"result": "success"}, 3},
		{"crddemo_syncs_total", map[string]string{"result": "error"}, 0},
		{"crddemo_sync_duration_seconds_count", nil, 3},
		{"crddemo_event_writes_total", map[string]string{"result": "created"}, 1},
		{"crddemo_event_writes_total", map[string]string{"result": "aggregated"}, 1},
	}
	for _, c := range checks {
		if got := m.Sum(c.metric, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.metric, c.labels, got, c.want)
		}
	}
	if !m.Has("workqueue_depth", queue) {
		t.Error("/metrics has no workqueue_depth for the mydemos queue")
	}
	// Two status writes and the repeat of the event (PATCH), and the first
	// event (POST), all accepted; nothing else was written.
	for method, want := range map[string]float64{"PATCH": 3, "POST": 1, "PUT": 0} {
		if got := m.Sum("rest_client_requests_total", map[string]string{"method": method, "code": "200"}) +
			m.Sum("rest_client_requests_total", map[string]string{"method": method, "code": "201"}); got != want {
			t.Errorf("rest_client_requests_total{method=%q} with 2xx = %v, want %v", method, got, want)
		}
	}
}
