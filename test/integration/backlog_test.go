package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/sharding"
	"github.com/domac/crddemo/internal/synced"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// TestLiveChangesOvertakeTheBacklog starts crddemo on 1,000 unsynced Mydemos
// with a request budget that makes the backlog last about 20 s. Once the
// workers are under way, it changes 10 Mydemos still unsynced, picked at
// random, and creates a new one. All are synced while most of the backlog
// still waits: live changes are served first. In arrival order, the last of
// 10 random keys would be near the end of the backlog, and the new one
// last. The order is read from the objects' state, not from the clock.
func TestLiveChangesOvertakeTheBacklog(t *testing.T) {
	const (
		backlog = 1000
		changes = 10
		// Two requests a sync: 50 syncs a second.
		qps = 100
	)
	cp := testcontrolplane.StartForTest(t)
	client := clientset.NewForConfigOrDie(cp.Config)
	installCRD(t, cp)
	createMydemosInParallel(t, client, "backlog", backlog)

	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath,
		fmt.Sprintf("--kube-api-qps=%d", qps), fmt.Sprintf("--kube-api-burst=%d", qps))
	crddemo.waitMetrics(t, "crddemo has synced part of the backlog", func(m harness.Metrics) bool {
		return m.Sum("crddemo_syncs_total", nil) > 0
	})

	unsynced := unsyncedMydemos(t, client)
	if len(unsynced) < backlog/2 {
		t.Fatalf("only %d of the %d Mydemos are unsynced when the workers have started: the backlog went too fast to test", len(unsynced), backlog)
	}
	rand.Shuffle(len(unsynced), func(i, j int) { unsynced[i], unsynced[j] = unsynced[j], unsynced[i] })
	changed := time.Now()
	for _, name := range unsynced[:changes] {
		changePort(t, client, name, 9999)
	}
	created := createMydemos(t, client, "new", 1)[0]

	want := map[string]int64{created: 1}
	for _, name := range unsynced[:changes] {
		want[name] = 2
	}
	waitOvertaken(t, client, want, backlog, fmt.Sprintf("the %d changes and the new Mydemo", changes), changed)
	m, err := harness.Scrape(t.Context(), crddemo.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	waiting := map[string]string{"name": "mydemos", "priority": "backlog"}
	if !m.Has("crddemo_workqueue_depth", waiting) || m.Sum("crddemo_workqueue_depth", waiting) == 0 {
		t.Errorf("/metrics shows no backlog waiting in crddemo_workqueue_depth while most of it is unsynced")
	}
}

// createMydemosInParallel creates Mydemos prefix-0 to prefix-(n-1) in the
// default namespace, several at a time.
func createMydemosInParallel(t *testing.T, client clientset.Interface, prefix string, n int) {
	t.Helper()
	const parallel = 8
	var wg sync.WaitGroup
	errs := make(chan error, parallel)
	for w := range parallel {
		wg.Go(func() {
			for i := w; i < n; i += parallel {
				if _, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Create(t.Context(),
					newTestMydemo(prefix, i), metav1.CreateOptions{}); err != nil {
					errs <- fmt.Errorf("creating mydemo %s-%d: %w", prefix, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// unsyncedMydemos names the Mydemos in the default namespace whose status
// is not current.
func unsyncedMydemos(t *testing.T, client clientset.Interface) []string {
	t.Helper()
	var unsynced []string
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		list, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		unsynced = nil
		for i := range list.Items {
			if !synced.IsCurrent(&list.Items[i]) {
				unsynced = append(unsynced, list.Items[i].Name)
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("listing the Mydemos: %v", err)
	}
	return unsynced
}

// TestChangesBeforeTheirShardIsOwnedAreLive starts three replicas of six
// shards together on 600 unsynced Mydemos, each with a request budget that
// makes the backlog last 20 s, and changes 10 of them once the
// replicas have joined but before any owns a shard. The changes reach the
// replicas in their shards' initial lists, with the backlog, yet are synced
// while most of it waits: no owner saw them, so they count as live.
func TestChangesBeforeTheirShardIsOwnedAreLive(t *testing.T) {
	const (
		backlog = 600
		changes = 10
		// Two requests a sync: 30 syncs a second for the three, so that
		// the backlog lasts 20 s, long beside the 2 to 4.4 s that a
		// replica whose first take lost a race waits to try another shard.
		qps = "20"
		// A slow retry period keeps the replicas settling, owning nothing,
		// for two of them after they join: time for the changes.
		retryPeriod = "2s"
	)
	cp, client, kube := startWithCRD(t, shardGate(true))
	createMydemosInParallel(t, client, "backlog", backlog)

	var fleet []*crddemoProcess
	for range 3 {
		fleet = append(fleet, startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath, "--shards=6",
			"--leader-elect", "--leader-elect-lease-duration=8s", "--leader-elect-renew-deadline=4s",
			"--leader-elect-retry-period="+retryPeriod, "--kube-api-qps="+qps, "--kube-api-burst="+qps))
	}
	members := metav1.ListOptions{LabelSelector: sharding.MemberOfLabel + "=crddemo"}
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		leases, err := kube.CoordinationV1().Leases(metav1.NamespaceAll).List(ctx, members)
		return err == nil && len(leases.Items) == 3, nil
	})
	if err != nil {
		t.Fatalf("the three replicas did not all join: %v", err)
	}
	names := make([]string, backlog)
	for i := range names {
		names[i] = fmt.Sprintf("backlog-%d", i)
	}
	rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	changed := time.Now()
	for _, name := range names[:changes] {
		changePort(t, client, name, 9999)
	}
	for i, replica := range fleet {
		m, err := harness.Scrape(t.Context(), replica.Metrics)
		if err != nil {
			t.Fatal(err)
		}
		if owned := m.Sum("crddemo_shards_owned", nil); owned != 0 {
			t.Fatalf("replica %d owned %v shards before the changes were made: they may have come on a watch", i, owned)
		}
	}

	want := map[string]int64{}
	for _, name := range names[:changes] {
		want[name] = 2
	}
	waitOvertaken(t, client, want, backlog, fmt.Sprintf("the %d changes made before their shards were owned", changes), changed)
}

// waitOvertaken waits until every Mydemo of want is synced at its
// generation, and fails the test unless most of the backlog of n Mydemos
// is still unsynced then: what, made at since, must overtake it.
func waitOvertaken(t *testing.T, client clientset.Interface, want map[string]int64, n int, what string, since time.Time) {
	t.Helper()
	for name, generation := range want {
		ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
		_, err := harness.WaitSynced(ctx, client, metav1.NamespaceDefault, name, generation)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	left := len(unsyncedMydemos(t, client))
	t.Logf("%s were synced within %.1f s, with %d of the %d backlog Mydemos still unsynced",
		what, time.Since(since).Seconds(), left, n)
	if left < n/2 {
		t.Errorf("%s were synced only once %d of the %d backlog Mydemos were: they must overtake the backlog", what, n-left, n)
	}
}
