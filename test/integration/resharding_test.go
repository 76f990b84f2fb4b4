package integration

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/shard"
	"github.com/domac/crddemo/internal/sharding"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// TestReshardingOnline changes --shards in two rolling updates, 6 to 4 and
// 4 to 8, while Mydemos are created and changed throughout: a new replica
// starts, then an old one stops, one at a time, as a Deployment with
// maxSurge 1 and maxUnavailable 0 rolls, the old one once the new one has
// counted the fleet, as minReadySeconds lets it. No two replicas sync one
// version of a Mydemo, which two owners of one object would do, and every
// one ends synced. The old splits' Leases are removed after the rolls.
func TestReshardingOnline(t *testing.T) {
	eachShardGate(t, reshardOnline)
}

func reshardOnline(t *testing.T, gate bool) {
	cp, client, kube := startWithCRD(t, shardGate(gate))
	fleet := []*crddemoProcess{startCrddemo(t, nil, shardedArgs(cp, 6)...), startCrddemo(t, nil, shardedArgs(cp, 6)...)}
	everyone := slices.Clone(fleet)
	for _, r := range fleet {
		waitShardsOwned(t, r, 3)
	}
	changed := createMydemos(t, client, "changed", 20)
	stopCreating := createContinuously(t, client, "created", 50*time.Millisecond)
	stopChanging := changeContinuously(t, client, changed, 100*time.Millisecond)

	for _, step := range []struct{ shards, each int }{{4, 2}, {8, 4}} {
		began := time.Now()
		var next []*crddemoProcess
		for _, old := range fleet {
			r := startCrddemo(t, nil, shardedArgs(cp, step.shards)...)
			r.waitReady(t)
			r.waitForLog(t, "Count of live replicas settled")
			next = append(next, r)
			everyone = append(everyone, r)
			if code := old.stop(t); code != 0 {
				t.Fatalf("an old replica exited %d on SIGTERM, want 0", code)
			}
		}
		for _, r := range next {
			waitShardsOwned(t, r, step.each)
			if logged := r.Lines("Replicas with another --shards are running"); len(logged) > 1 {
				t.Errorf("a replica logged %d times that another split runs, want once at most", len(logged))
			}
		}
		t.Logf("rolling change to --shards=%d: the new replicas own every shard %v after the first started",
			step.shards, time.Since(began).Round(time.Millisecond))
		fleet = next
	}
	rolled := time.Now()
	if logged := fleet[0].Lines("Replicas with another --shards are running"); len(logged) != 1 {
		t.Errorf("the first replica of the last split logged %d times that another split runs, want once", len(logged))
	}
	stopCreating()
	stopChanging()
	requireNoneLost(t, client, kube, time.Now(), "after two rolling changes of --shards")
	checkEachVersionSyncedOnce(t, client, kube, everyone)
	checkOldLeasesRemoved(t, kube, everyone, rolled, []int{6, 4}, 8)
}

// checkOldLeasesRemoved waits until no shard Lease of the splits old is
// left, which a replica removes once no one has held it for three lease
// durations: by three lease durations and a margin after rolled, when the
// last rolling change ended and its old replicas had released their
// Leases. Each was removed by a replica that logged it, and every Lease of
// the split that runs, of shards, is there.
func checkOldLeasesRemoved(t *testing.T, kube kubernetes.Interface, replicas []*crddemoProcess, rolled time.Time, old []int, shards int) {
	t.Helper()
	var oldNames []string
	for _, n := range old {
		for _, r := range shard.Split(n) {
			oldNames = append(oldNames, sharding.ShardLeaseName("crddemo", r))
		}
	}
	deadline := rolled.Add(3*harness.LeaseDuration + 10*time.Second)
	var names, left []string
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, time.Until(deadline), true, func(ctx context.Context) (bool, error) {
		list, err := kube.CoordinationV1().Leases(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		names = names[:0]
		for _, lease := range list.Items {
			names = append(names, lease.Name)
		}
		left = slices.DeleteFunc(slices.Clone(oldNames), func(name string) bool { return !slices.Contains(names, name) })
		return len(left) == 0, nil
	})
	if err != nil && len(left) == 0 {
		t.Fatalf("listing the Leases: %v", err)
	}
	if len(left) > 0 {
		t.Fatalf("%d Leases of the old splits are still there %v after the last rolling change: %v",
			len(left), time.Since(rolled).Round(time.Millisecond), left)
	}
	t.Logf("the old splits' Leases were gone %v after the last rolling change", time.Since(rolled).Round(time.Millisecond))
	for _, name := range oldNames {
		if !slices.ContainsFunc(replicas, func(r *crddemoProcess) bool {
			return len(r.Lines("Removed the Lease of a shard no split uses", `lease="`+name+`"`)) > 0
		}) {
			t.Errorf("no replica logged that it removed the Lease %s", name)
		}
	}
	for _, r := range shard.Split(shards) {
		if name := sharding.ShardLeaseName("crddemo", r); !slices.Contains(names, name) {
			t.Errorf("the Lease %s of the running split is gone", name)
		}
	}
}

// changeContinuously changes the port of each of names in turn, one every
// interval, in the background, until the returned func is called.
func changeContinuously(t *testing.T, client clientset.Interface, names []string, interval time.Duration) (stop func()) {
	t.Helper()
	return repeatInBackground(t, interval, func(ctx context.Context, i int) error {
		name := names[i%len(names)]
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			demo, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			demo.Spec.Port = 1000 + int32(i)
			_, err = client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Update(ctx, demo, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("changing mydemo %s: %w", name, err)
		}
		return nil
	})
}

// syncLine is what a replica logs when it syncs a version of a Mydemo that
// is not synced yet, about to write its Synced event and status.
var syncLine = regexp.MustCompile(`"Try to process mydemo".* mydemo="([^"]+)" resourceVersion="([0-9]+)"`)

// checkEachVersionSyncedOnce checks that no version of any Mydemo was synced
// by two replicas, which is what two owners of one object would do: by the
// replicas' logs, and by the Synced events, of which a Mydemo has at most one
// per generation. (A replica's event recorder counts a Mydemo's later
// events into its first one, so the events alone do not tell the versions
// apart.)
func checkEachVersionSyncedOnce(t *testing.T, client clientset.Interface, kube kubernetes.Interface, replicas []*crddemoProcess) {
	t.Helper()
	syncedBy := map[string]map[int]bool{}
	for i, r := range replicas {
		for _, line := range r.Lines("Try to process mydemo") {
			m := syncLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			version := m[1] + "@" + m[2]
			if syncedBy[version] == nil {
				syncedBy[version] = map[int]bool{}
			}
			syncedBy[version][i] = true
		}
	}
	twice := 0
	for version, by := range syncedBy {
		if len(by) > 1 {
			twice++
			t.Errorf("%s was synced by %d replicas, want one", version, len(by))
		}
	}
	list, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, demo := range list.Items {
		events, err := harness.SyncedEvents(t.Context(), kube, &demo)
		if err != nil {
			t.Fatal(err)
		}
		var total int32
		for _, e := range events {
			total += e.Count
		}
		if int64(total) > demo.Generation {
			t.Errorf("mydemo %s at generation %d has %d Synced events, want one per generation at most", demo.Name, demo.Generation, total)
		}
	}
	t.Logf("%d Mydemos and %d synced versions checked, %d synced by two replicas", len(list.Items), len(syncedBy), twice)
}
