package integration

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/synced"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

const (
	// fleetStartObjects is how many Mydemos wait for a fleet that starts.
	fleetStartObjects = 1000
	// fleetStartQPS is each replica's request budget. In a cluster, a
	// replica's --kube-api-qps is what bounds how fast it syncs, and what a
	// fleet multiplies; without one, on this test's two cores, the API
	// server's CPU is the bound, and three replicas share it with the API
	// server (docs/performance.md has both).
	fleetStartQPS = "100"
)

// TestFleetStartWithoutAStorm starts three replicas of six shards together
// on 1,000 unsynced Mydemos, on an API server that shards lists: each
// caches and writes about a third of them, never most, and the three sync
// them all no slower than one replica alone does with the same request
// budget.
func TestFleetStartWithoutAStorm(t *testing.T) {
	cp, client, kube := startWithCRD(t, shardGate(true))
	args := func(namespace string) []string {
		return shardedArgs(cp, 6, "--namespace="+namespace, "--kube-api-qps="+fleetStartQPS, "--kube-api-burst="+fleetStartQPS)
	}

	createInNamespace(t, kube, client, "alone", fleetStartObjects)
	began := time.Now()
	alone := startCrddemo(t, nil, args("alone")...)
	waitNamespaceSynced(t, client, kube, "alone")
	tookAlone := time.Since(began)
	if code := alone.stop(t); code != 0 {
		t.Fatalf("the lone replica exited %d on SIGTERM, want 0", code)
	}

	createInNamespace(t, kube, client, "fleet", fleetStartObjects)
	began = time.Now()
	var fleet []*crddemoProcess
	for range 3 {
		fleet = append(fleet, startCrddemo(t, nil, args("fleet")...))
	}
	peaks := samplePeakCached(t, fleet)
	waitNamespaceSynced(t, client, kube, "fleet")
	tookFleet := time.Since(began)
	cached := peaks()
	written := syncedEventsBy(t, kube, "fleet")
	t.Logf("%d Mydemos synced from the start: one replica in %v, three in %v; the three cached at most %v and wrote %v",
		fleetStartObjects, tookAlone.Round(10*time.Millisecond), tookFleet.Round(10*time.Millisecond), cached, written)

	// A third each, give or take how the hashes fall; half would mean a
	// replica took shards beyond its share.
	for i, n := range cached {
		if n > fleetStartObjects/2 {
			t.Errorf("replica %d cached %d of the %d Mydemos at once, want about a third", i, n, fleetStartObjects)
		}
	}
	for instance, n := range written {
		if n > fleetStartObjects/2 {
			t.Errorf("replica %s wrote Synced events for %d of the %d Mydemos, want about a third", instance, n, fleetStartObjects)
		}
	}
	if tookFleet > tookAlone {
		t.Errorf("three replicas synced %d Mydemos in %v, one alone in %v: want the fleet no slower",
			fleetStartObjects, tookFleet, tookAlone)
	}
}

// createInNamespace creates namespace and n Mydemos in it, several at a
// time.
func createInNamespace(t *testing.T, kube kubernetes.Interface, client clientset.Interface, namespace string, n int) {
	t.Helper()
	if _, err := kube.CoreV1().Namespaces().Create(t.Context(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const workers = 8
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				demo := newTestMydemo("start", i)
				demo.Namespace = namespace
				if _, err := client.CrddemoV1().Mydemos(namespace).Create(t.Context(), demo, metav1.CreateOptions{}); err != nil {
					t.Errorf("creating mydemo %s/%s: %v", namespace, demo.Name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// waitNamespaceSynced waits until every Mydemo of namespace is synced.
func waitNamespaceSynced(t *testing.T, client clientset.Interface, kube kubernetes.Interface, namespace string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if unsynced, err := harness.WaitAllSynced(ctx, client, kube, namespace); err != nil {
		t.Fatalf("%d Mydemos of %s unsynced: %v", unsynced.Count(), namespace, err)
	}
}

// samplePeakCached reads each replica's crddemo_shard_cached_objects every
// poll interval in the background; the returned func stops that and returns
// the most each replica had cached at once.
func samplePeakCached(t *testing.T, replicas []*crddemoProcess) (stop func() []int) {
	ctx, cancel := context.WithCancel(t.Context())
	peaks := make([]int, len(replicas))
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Go(func() {
			for ctx.Err() == nil {
				if m, err := harness.Scrape(ctx, r.Metrics); err == nil {
					peaks[i] = max(peaks[i], int(m.Sum("crddemo_shard_cached_objects", nil)))
				}
				select {
				case <-ctx.Done():
				case <-time.After(pollInterval):
				}
			}
		})
	}
	return func() []int {
		cancel()
		wg.Wait()
		return peaks
	}
}

// syncedEventsBy counts, for each replica, the Mydemos of namespace that it
// wrote a Synced event for. Distinct Mydemos, not events: a replica that
// loses a shard's Lease on a loaded machine and takes it back syncs some of
// its own Mydemos again, which is no storm.
func syncedEventsBy(t *testing.T, kube kubernetes.Interface, namespace string) map[string]int {
	t.Helper()
	events, err := kube.CoreV1().Events(namespace).List(t.Context(), metav1.ListOptions{FieldSelector: "reason=" + synced.Reason})
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]map[string]bool{}
	for _, e := range events.Items {
		if written[e.ReportingInstance] == nil {
			written[e.ReportingInstance] = map[string]bool{}
		}
		written[e.ReportingInstance][string(e.InvolvedObject.UID)] = true
	}
	by := map[string]int{}
	for instance, demos := range written {
		by[instance] = len(demos)
	}
	return by
}
