package controlplane_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// TestCompactEtcdExpiresOldResourceVersions proves the recipe that
// CompactEtcd documents: with the API server's watch cache off, compaction
// makes an older resourceVersion 410 Gone, and a reflector that was cut off
// meanwhile relists, where it would otherwise resume its watch.
func TestCompactEtcdExpiresOldResourceVersions(t *testing.T) {
	cp := testcontrolplane.StartForTest(t, controlplane.APIServerFlag("watch-cache", "false"))
	kube := kubernetes.NewForConfigOrDie(cp.Config)

	t.Run("a watch or a list from before the compaction gets 410", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		first := createConfigMap(ctx, t, kube, "first")
		second := createConfigMap(ctx, t, kube, "second")
		if err := watchFrom(ctx, kube, first.ResourceVersion); err != nil {
			t.Fatalf("watch from %s before the compaction: %v, want the events since", first.ResourceVersion, err)
		}

		compacting := time.Now()
		revision, err := cp.CompactEtcd(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("CompactEtcd took %v", time.Since(compacting).Round(time.Millisecond))
		if last := resourceVersion(t, second); revision <= last+1 {
			t.Errorf("CompactEtcd compacted at revision %d, which keeps the changes after the last write (%d)", revision, last)
		}

		// Even the latest resourceVersion that a client had seen is gone.
		if err := watchFrom(ctx, kube, second.ResourceVersion); !apierrors.IsResourceExpired(err) {
			t.Errorf("watch from %s, the latest write, after the compaction: %v, want 410 Expired", second.ResourceVersion, err)
		}
		_, err = kube.CoreV1().ConfigMaps(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{
			ResourceVersion:      first.ResourceVersion,
			ResourceVersionMatch: metav1.ResourceVersionMatchExact,
		})
		if !apierrors.IsResourceExpired(err) {
			t.Errorf("list at %s after the compaction: %v, want 410 Expired", first.ResourceVersion, err)
		}

		// At once again, with nothing written since but its own writes.
		again, err := cp.CompactEtcd(ctx)
		if err != nil || again <= revision {
			t.Errorf("second CompactEtcd = %d, %v; want no error and a revision after %d", again, err, revision)
		}
	})

	// A control first: without compaction, a reflector cut off resumes its
	// watch where it was, so that the relist below is the compaction's doing.
	t.Run("a reflector cut off resumes its watch", func(t *testing.T) {
		if lists := reflectorAcrossACut(t, cp, "resumed", nil); lists != 1 {
			t.Errorf("the reflector listed %d times, want once: its watch should have resumed", lists)
		}
	})
	t.Run("a reflector cut off while etcd compacts relists", func(t *testing.T) {
		compact := func(ctx context.Context) error {
			_, err := cp.CompactEtcd(ctx)
			return err
		}
		if lists := reflectorAcrossACut(t, cp, "relisted", compact); lists != 2 {
			t.Errorf("the reflector listed %d times, want twice: its watch should have got 410 after the compaction", lists)
		}
	})
}

// reflectorAcrossACut runs a reflector on the default namespace's ConfigMaps
// through a proxy, as crddemo runs its informer, cuts the proxy, creates a
// ConfigMap named prefix-while-cut, calls during (if not nil), restores the
// proxy, and returns how many times the reflector has listed once the new
// ConfigMap reached it.
func reflectorAcrossACut(t *testing.T, cp *controlplane.ControlPlane, prefix string, during func(context.Context) error) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	proxy, err := harness.StartProxy(ctx, cp.APIServerAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	// The reflector connects as crddemo would, through a kubeconfig whose
	// server is the proxy, and verifies the API server's certificate
	// through it.
	kubeconfig, err := cp.KubeconfigFor("https://" + proxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	proxied := kubernetes.NewForConfigOrDie(config)

	store := &replaceCounter{Store: cache.NewStore(cache.MetaNamespaceKeyFunc)}
	listWatch := cache.NewListWatchFromClient(proxied.CoreV1().RESTClient(), "configmaps", metav1.NamespaceDefault, fields.Everything())
	reflector := cache.NewReflector(listWatch, &corev1.ConfigMap{}, store, 0)
	reflectorCtx, stopReflector := context.WithCancel(ctx)
	var running sync.WaitGroup
	running.Go(func() { reflector.RunWithContext(reflectorCtx) })
	defer running.Wait()
	defer stopReflector()
	has := func(name string) bool {
		_, found, _ := store.GetByKey(metav1.NamespaceDefault + "/" + name)
		return found
	}

	// An event through its watch first: a reflector relists anyway when a
	// watch breaks within a second of its start with no event received.
	waitFor(ctx, t, "the reflector's first list", func() bool { return store.replaces.Load() == 1 })
	createConfigMap(ctx, t, kube, prefix+"-watched")
	waitFor(ctx, t, "the reflector to watch "+prefix+"-watched", func() bool { return has(prefix + "-watched") })

	if err := proxy.Cut(); err != nil {
		t.Fatal(err)
	}
	createConfigMap(ctx, t, kube, prefix+"-while-cut")
	if during != nil {
		if err := during(ctx); err != nil {
			t.Fatal(err)
		}
	}
	restored := time.Now()
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the reflector to get "+prefix+"-while-cut", func() bool { return has(prefix + "-while-cut") })
	t.Logf("the reflector got %s-while-cut %v after the proxy was restored", prefix, time.Since(restored).Round(time.Millisecond))
	return store.replaces.Load()
}

// replaceCounter counts the reflector's lists: each one replaces the whole
// store, where a watch event adds, updates or deletes one object.
type replaceCounter struct {
	cache.Store
	replaces atomic.Int32
}

func (s *replaceCounter) Replace(list []any, resourceVersion string) error {
	s.replaces.Add(1)
	return s.Store.Replace(list, resourceVersion)
}

// resourceVersion returns obj's resourceVersion as the etcd revision it is.
func resourceVersion(t *testing.T, obj metav1.Object) int64 {
	t.Helper()
	revision, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", obj.GetResourceVersion(), err)
	}
	return revision
}

// waitFor polls condition until it holds, failing the test at ctx's end.
func waitFor(ctx context.Context, t *testing.T, what string, condition func() bool) {
	t.Helper()
	err := wait.PollUntilContextCancel(ctx, 20*time.Millisecond, true, func(context.Context) (bool, error) {
		return condition(), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
