package integration

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/shard"
	testcp "github.com/domac/crddemo/test/controlplane"
)

// shardGate runs kube-apiserver with sharded list and watch on or off.
func shardGate(on bool) controlplane.Option {
	return controlplane.APIServerFlag("feature-gates", fmt.Sprintf("ShardedListAndWatch=%t", on))
}

// eachShardGate runs test twice, as subtests named after the gate: with
// kube-apiserver's ShardedListAndWatch on, and with it off, where each
// replica filters its shards' objects itself.
func eachShardGate(t *testing.T, test func(t *testing.T, gate bool)) {
	for _, gate := range []bool{true, false} {
		t.Run(fmt.Sprintf("ShardedListAndWatch=%t", gate), func(t *testing.T) { test(t, gate) })
	}
}

// shardedArgs are the flags of a replica that shares shards shards, with the
// tests' leader election timings, against cp, then more.
func shardedArgs(cp *controlplane.ControlPlane, shards int, more ...string) []string {
	args := append(slices.Clone(leaderElectionArgs), "--shards="+strconv.Itoa(shards), "--kubeconfig="+cp.KubeconfigPath)
	return append(args, more...)
}

// TestShardedListAndWatch checks shard's ranges and hash against a real API
// server that shards: each range's list holds exactly the objects that
// shard.Hash puts in it, a watch streams only its range's objects, and an
// informer over shard.Restrict holds its range's objects and never finds the
// server ignoring the selector.
func TestShardedListAndWatch(t *testing.T) {
	cp := testcp.StartForTest(t, shardGate(true))
	installCRD(t, cp)
	client := clientset.NewForConfigOrDie(cp.Config)
	createMydemos(t, client, "shard", 60)
	all := mydemoHashes(t, client)

	for _, n := range []int{1, 2, 3, 6} {
		seen := map[types.UID]bool{}
		for i, r := range shard.Split(n) {
			list, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{ShardSelector: r.Selector()})
			if err != nil {
				t.Fatalf("listing range %d/%d %v: %v", i, n, r, err)
			}
			// v1.37.2 sets no shardInfo on lists of custom resources (see
			// package shard); if a later one does, it must echo the selector.
			if info := list.ShardInfo; info != nil && info.Selector != r.Selector() {
				t.Errorf("range %d/%d: shardInfo.selector = %q, want %q", i, n, info.Selector, r.Selector())
			}
			for _, demo := range list.Items {
				if h := shard.Hash(demo.UID); !r.Contains(h) {
					t.Errorf("range %d/%d %v holds %s, whose hash is %#016x", i, n, r, demo.Name, h)
				}
				if seen[demo.UID] {
					t.Errorf("%d ranges: %s is in more than one", n, demo.Name)
				}
				seen[demo.UID] = true
			}
		}
		if len(seen) != len(all) {
			t.Errorf("%d ranges hold %d Mydemos, want all %d", n, len(seen), len(all))
		}
	}

	t.Run("watch", func(t *testing.T) { watchStreamsOnlyItsRange(t, client) })

	all = mydemoHashes(t, client)
	for _, mode := range []string{"watch-list", "list-then-watch"} {
		t.Run("informer/"+mode, func(t *testing.T) {
			r := shard.Split(3)[1]
			inf := startShardInformer(t, client, r, mode == "list-then-watch")
			inf.requireHolds(t, keysInRange(all, r))
			if calls := inf.unhonoured.Load(); calls != 0 {
				t.Errorf("unhonoured called %d times by an API server that shards", calls)
			}
		})
	}
}

// TestShardedInformerWithoutTheGate checks that an informer over
// shard.Restrict still holds only its range's objects when the API server
// ignores the selector, and says so once.
func TestShardedInformerWithoutTheGate(t *testing.T) {
	cp := testcp.StartForTest(t, shardGate(false))
	installCRD(t, cp)
	client := clientset.NewForConfigOrDie(cp.Config)
	createMydemos(t, client, "unsharded", 60)
	all := mydemoHashes(t, client)
	r := shard.Split(3)[1]
	if len(keysInRange(all, r)) == len(all) {
		t.Fatalf("every Mydemo hashes into %v; the test needs some outside it", r)
	}
	for _, mode := range []string{"watch-list", "list-then-watch"} {
		t.Run(mode, func(t *testing.T) {
			inf := startShardInformer(t, client, r, mode == "list-then-watch")
			inf.requireHolds(t, keysInRange(all, r))
			if calls := inf.unhonoured.Load(); calls != 1 {
				t.Errorf("unhonoured called %d times by an API server that ignores the selector, want once", calls)
			}
		})
	}
}

// watchStreamsOnlyItsRange creates Mydemos under a watch of the lower half
// until it has made some on each side and the last one in the half, and
// checks that the watch streams exactly those in the half: whatever else it
// would have sent comes before the last one's event.
func watchStreamsOnlyItsRange(t *testing.T, client clientset.Interface) {
	r := shard.Split(2)[0]
	demos := client.CrddemoV1().Mydemos(metav1.NamespaceDefault)
	list, err := demos.List(t.Context(), metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	w, err := demos.Watch(t.Context(), metav1.ListOptions{ShardSelector: r.Selector(), ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	var in []string
	out, lastIn := 0, false
	for i := 0; len(in) < 3 || out < 3 || !lastIn; i++ {
		if i == 100 {
			t.Fatalf("100 Mydemos made %d in %v and %d outside", len(in), r, out)
		}
		demo, err := demos.Create(t.Context(), newTestMydemo("shard-watch", i), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if lastIn = r.Contains(shard.Hash(demo.UID)); lastIn {
			in = append(in, demo.Name)
		} else {
			out++
		}
	}

	var got []string
	timeout := time.After(waitTimeout)
	for len(got) < len(in) {
		var e watch.Event
		select {
		case e = <-w.ResultChan():
		case <-timeout:
			t.Fatalf("watch of %v streamed only %v within %v, want %v", r, got, waitTimeout, in)
		}
		demo, isDemo := e.Object.(*crddemov1.Mydemo)
		if e.Type != watch.Added || !isDemo {
			t.Fatalf("watch sent %s %v, want only additions", e.Type, e.Object)
		}
		got = append(got, demo.Name)
	}
	if !slices.Equal(got, in) {
		t.Errorf("watch of %v streamed %v, want %v", r, got, in)
	}
}

// mydemoHashes lists every Mydemo in the default namespace, without a shard
// selector, and returns each one's key and hash.
func mydemoHashes(t *testing.T, client clientset.Interface) map[string]uint64 {
	t.Helper()
	list, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]uint64{}
	for _, demo := range list.Items {
		hashes[demo.Namespace+"/"+demo.Name] = shard.Hash(demo.UID)
	}
	return hashes
}

// keysInRange is the sorted keys of the Mydemos whose hash r holds.
func keysInRange(hashes map[string]uint64, r shard.Range) []string {
	var keys []string
	for key, h := range hashes {
		if r.Contains(h) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

// shardInformer is a Mydemo informer over shard.Restrict, with what it did.
type shardInformer struct {
	cache.SharedIndexInformer
	lists, unhonoured atomic.Int32
}

// startShardInformer runs an informer of r's Mydemos until the test ends and
// waits for it to sync. Like crddemo's own informer it uses watch-list
// semantics, which the reflector tries first, unless listThenWatch makes it
// list and then watch.
func startShardInformer(t *testing.T, client clientset.Interface, r shard.Range, listThenWatch bool) *shardInformer {
	t.Helper()
	inf := &shardInformer{}
	demos := client.CrddemoV1().Mydemos(metav1.NamespaceDefault)
	lw := shard.Restrict(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			inf.lists.Add(1)
			return demos.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return demos.Watch(ctx, opts)
		},
	}, r, func() { inf.unhonoured.Add(1) })
	var semantics any = client
	if listThenWatch {
		semantics = noWatchList{}
	}
	inf.SharedIndexInformer = cache.NewSharedIndexInformerWithOptions(
		cache.ToListWatcherWithWatchListSemantics(lw, semantics), &crddemov1.Mydemo{}, cache.SharedIndexInformerOptions{})

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.RunWithContext(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	syncCtx, stop := context.WithTimeout(ctx, waitTimeout)
	defer stop()
	if !cache.WaitForCacheSync(syncCtx.Done(), inf.HasSynced) {
		t.Fatalf("the informer of %v did not sync within %v", r, waitTimeout)
	}
	// The reflector lists only when it does not use watch-list.
	if lists := inf.lists.Load(); (lists > 0) != listThenWatch {
		t.Fatalf("the informer listed %d times; want lists only in list-then-watch mode", lists)
	}
	return inf
}

// requireHolds checks that the informer's cache holds exactly the keys.
func (inf *shardInformer) requireHolds(t *testing.T, keys []string) {
	t.Helper()
	got := inf.GetStore().ListKeys()
	slices.Sort(got)
	if !slices.Equal(got, keys) {
		t.Errorf("the informer holds %d Mydemos %v, want the %d in its range %v", len(got), got, len(keys), keys)
	}
}

// noWatchList is a client that, to cache.ToListWatcherWithWatchListSemantics,
// cannot watch-list, so that the reflector lists and then watches.
type noWatchList struct{}

func (noWatchList) IsWatchListSemanticsUnSupported() bool { return true }
