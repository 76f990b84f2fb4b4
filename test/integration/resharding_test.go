package integration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/domac/crddemo/internal/harness"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	testcp "github.com/domac/crddemo/test/controlplane"
)

// TestReshardingOnline changes --shards in two rolling updates, 6 to 4 and
// 4 to 8, while Mydemos are created and changed throughout: a new replica
// starts, then an old one stops, one at a time, as a Deployment with
// maxSurge 1 and maxUnavailable 0 rolls. No version of any Mydemo is synced
// twice, which two owners of one object would do, and every one ends synced.
func TestReshardingOnline(t *testing.T) {
	for _, gate := range []bool{true, false} {
		t.Run(fmt.Sprintf("ShardedListAndWatch=%t", gate), func(t *testing.T) {
			reshardOnline(t, gate)
		})
	}
}

func reshardOnline(t *testing.T, gate bool) {
	cp := testcp.StartForTest(t, shardGate(gate))
	client := clientset.NewForConfigOrDie(cp.Config)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	installCRD(t, cp)
	replicas := func(shards int) []string {
		return append(slices.Clone(leaderElectionArgs), "--shards="+strconv.Itoa(shards), "--kubeconfig="+cp.KubeconfigPath)
	}
	fleet := []*crddemoProcess{startCrddemo(t, nil, replicas(6)...), startCrddemo(t, nil, replicas(6)...)}
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
			r := startCrddemo(t, nil, replicas(step.shards)...)
			r.waitReady(t)
			next = append(next, r)
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
	if logged := fleet[0].Lines("Replicas with another --shards are running"); len(logged) != 1 {
		t.Errorf("the first replica of the last split logged %d times that another split runs, want once", len(logged))
	}
	stopCreating()
	stopChanging()
	requireNoneLost(t, client, kube, time.Now(), "after two rolling changes of --shards")
	checkEachVersionSyncedOnce(t, client, kube)
}

// changeContinuously changes the port of each of names in turn, one every
// interval, in the background, until the returned func is called.
func changeContinuously(t *testing.T, client clientset.Interface, names []string, interval time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var done sync.WaitGroup
	done.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
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
			if err != nil && ctx.Err() == nil {
				t.Errorf("changing mydemo %s: %v", name, err)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
		}
	})
	stopped := sync.OnceFunc(func() {
		cancel()
		done.Wait()
	})
	t.Cleanup(stopped)
	return stopped
}

// checkEachVersionSyncedOnce checks every Mydemo's Synced events: each
// names the version it synced, and no version has two, which is what two
// replicas owning the object at once would write. A Mydemo has at most one
// event per generation.
func checkEachVersionSyncedOnce(t *testing.T, client clientset.Interface, kube kubernetes.Interface) {
	t.Helper()
	list, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	twice := 0
	for _, demo := range list.Items {
		events, err := harness.SyncedEvents(t.Context(), kube, &demo)
		if err != nil {
			t.Fatal(err)
		}
		writers := map[string][]string{}
		syncs := map[string]int32{}
		var total int32
		for _, e := range events {
			version := e.InvolvedObject.ResourceVersion
			writers[version] = append(writers[version], fmt.Sprintf("%s x%d", e.ReportingInstance, e.Count))
			syncs[version] += e.Count
			total += e.Count
		}
		for version, n := range syncs {
			if n > 1 {
				twice++
				t.Errorf("mydemo %s at resourceVersion %s was synced by %v, want once", demo.Name, version, writers[version])
			}
		}
		if int64(total) > demo.Generation {
			t.Errorf("mydemo %s at generation %d has %d Synced events, want one per generation at most", demo.Name, demo.Generation, total)
		}
	}
	t.Logf("%d Mydemos checked, %d versions synced more than once", len(list.Items), twice)
}
