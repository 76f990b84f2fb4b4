package integration

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/shard"
	"github.com/domac/crddemo/internal/sharding"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// testShards is how many shards the sharded replicas of these tests split
// the Mydemos into.
const testShards = 6

// TestShardedReplicas runs replicas with --shards against an API server that
// shards lists and watches, and against one that does not.
func TestShardedReplicas(t *testing.T) {
	eachShardGate(t, shareShards)
}

// shareShards runs three replicas with six shards: they own two shards each,
// sync every object once, by the owner of its shard, and cache only their
// shards' objects. One is then killed while objects are created: the other
// two take its shards over and lose nothing. A new one then joins them, and
// shards move to it.
func shareShards(t *testing.T, gate bool) {
	cp, client, kube := startWithCRD(t, shardGate(gate))
	args := shardedArgs(cp, testShards)
	replicas := []*crddemoProcess{startCrddemo(t, nil, args...), startCrddemo(t, nil, args...), startCrddemo(t, nil, args...)}
	for _, r := range replicas {
		waitShardsOwned(t, r, 2)
	}
	createMydemos(t, client, "sharded", 30)
	requireNoneLost(t, client, kube, time.Now(), "three replicas")
	checkSyncedOnce(t, client, kube, "sharded", true)
	for _, r := range replicas {
		checkCachesOnlyItsShards(t, client, r)
		if logged := r.Lines("The API server does not shard lists and watches"); len(logged) != map[bool]int{true: 0, false: 1}[gate] {
			t.Errorf("with the gate %v, a replica logged %d times that the API server does not shard", gate, len(logged))
		}
	}

	// SIGKILL: nothing hands the shards over; the others take them once
	// their Leases expire, and count one replica fewer once its membership
	// Lease has not been renewed for a lease duration.
	stopCreating := createContinuously(t, client, "during-kill", 50*time.Millisecond)
	killed := time.Now()
	replicas[0].Kill()
	for _, r := range replicas[1:] {
		waitShardsOwned(t, r, 3)
	}
	tookOver := time.Since(killed)
	t.Logf("SIGKILL of one of three replicas to its shards owned by the others: %v", tookOver.Round(time.Millisecond))
	// Its shards' Leases expire a lease duration after its last renewal;
	// the others, watching them all along, take them at their next attempt.
	if limit := harness.LeaseDuration + time.Duration(float64(harness.RetryPeriod)*2.2) + 2*time.Second; tookOver > limit {
		t.Errorf("the killed replica's shards were taken over after %v, want at most %v", tookOver, limit)
	}
	stopCreating()
	requireNoneLost(t, client, kube, time.Now(), "after a replica was killed")

	// A replica joins: each of the pair gives a shard up to it, once the
	// shard's in-flight syncs have finished.
	stopCreating = createContinuously(t, client, "during-join", 50*time.Millisecond)
	joined := time.Now()
	replicas = append(replicas[1:], startCrddemo(t, nil, args...))
	for _, r := range replicas {
		waitShardsOwned(t, r, 2)
	}
	t.Logf("a replica joining a pair to 2/2/2: %v", time.Since(joined).Round(time.Millisecond))
	stopCreating()
	requireNoneLost(t, client, kube, time.Now(), "after a replica joined")
	checkSyncedOnce(t, client, kube, "during-join", false)
	for _, r := range replicas {
		checkCachesOnlyItsShards(t, client, r)
	}
}

// waitShardsOwned waits until p reports owning n shards, all synced.
func waitShardsOwned(t *testing.T, p *crddemoProcess, n int) {
	t.Helper()
	p.waitMetrics(t, fmt.Sprintf("a replica owns %d shards", n), func(m harness.Metrics) bool {
		return m.Sum("crddemo_shards_owned", nil) == float64(n)
	})
	p.waitReady(t)
}

// checkSyncedOnce checks that every Mydemo named prefix-N has exactly one
// Synced event, so that no two replicas synced it, and with byOwner that the
// replica that wrote it holds the Lease of its shard.
func checkSyncedOnce(t *testing.T, client clientset.Interface, kube kubernetes.Interface, prefix string, byOwner bool) {
	t.Helper()
	ranges := shard.Split(testShards)
	list, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, demo := range list.Items {
		if len(demo.Name) <= len(prefix) || demo.Name[:len(prefix)+1] != prefix+"-" {
			continue
		}
		owner := ""
		for i, r := range ranges {
			if byOwner && r.Contains(shard.Hash(demo.UID)) {
				owner = holderOf(t, kube, metav1.NamespaceDefault, sharding.ShardLeaseName("crddemo", ranges[i]))
			}
		}
		events, err := harness.SyncedEvents(t.Context(), kube, &demo)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Count != 1 || (byOwner && events[0].ReportingInstance != owner) {
			var by []string
			for _, e := range events {
				by = append(by, fmt.Sprintf("%s x%d", e.ReportingInstance, e.Count))
			}
			t.Errorf("mydemo %s has Synced events by %v, want one (by its shard's owner %q, if named)", demo.Name, by, owner)
		}
		checked++
	}
	if checked == 0 {
		t.Fatalf("no Mydemo named %s-N to check", prefix)
	}
}

// checkCachesOnlyItsShards checks, through p's metrics, that the cache of
// each shard p owns holds exactly the Mydemos whose UIDs hash into it.
func checkCachesOnlyItsShards(t *testing.T, client clientset.Interface, p *crddemoProcess) {
	t.Helper()
	hashes := mydemoHashes(t, client)
	m, err := harness.Scrape(t.Context(), p.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range shard.Split(testShards) {
		cached := m.Sum("crddemo_shard_cached_objects", map[string]string{"shard": strconv.Itoa(i)})
		owned := m.Has("crddemo_shard_cached_objects", map[string]string{"shard": strconv.Itoa(i)})
		if owned && cached != float64(len(keysInRange(hashes, r))) {
			t.Errorf("the cache of shard %d holds %v Mydemos, want the %d whose UIDs hash into %v",
				i, cached, len(keysInRange(hashes, r)), r)
		}
	}
}
