package main

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/domac/crddemo/internal/shard"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	"github.com/domac/crddemo/pkg/client/informers/externalversions/internalinterfaces"
)

// newMydemoInformer makes the informer that the factory shares for Mydemos:
// the generated one's list and watch, in namespace ("" for all), with every
// call guarded by health so that while the Mydemo API cannot be used the
// informer waits for it, and crddemo says why, instead of backing off.
func newMydemoInformer(health *apiHealth, namespace string) internalinterfaces.NewInformerFunc {
	return func(client clientset.Interface, resyncPeriod time.Duration) cache.SharedIndexInformer {
		return newInformer(client, mydemoListWatch(client, health, namespace), resyncPeriod)
	}
}

// newShardInformer is newMydemoInformer for the Mydemos of one shard, whose
// UIDs hash into r: the API server is asked for those only, and whatever
// else it sends is dropped before the cache. unhonoured is called once if
// the API server sends other Mydemos, as it does without the
// ShardedListAndWatch feature gate.
func newShardInformer(health *apiHealth, namespace string, r shard.Range, unhonoured func()) internalinterfaces.NewInformerFunc {
	return func(client clientset.Interface, resyncPeriod time.Duration) cache.SharedIndexInformer {
		return newInformer(client, shard.Restrict(mydemoListWatch(client, health, namespace), r, unhonoured), resyncPeriod)
	}
}

// mydemoListWatch lists and watches the Mydemos of namespace, each call
// guarded by health.
func mydemoListWatch(client clientset.Interface, health *apiHealth, namespace string) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return guard(ctx, health, func(ctx context.Context) (runtime.Object, error) {
				return client.CrddemoV1().Mydemos(namespace).List(ctx, opts)
			})
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return guard(ctx, health, func(ctx context.Context) (watch.Interface, error) {
				return client.CrddemoV1().Mydemos(namespace).Watch(ctx, opts)
			})
		},
	}
}

// newInformer is a Mydemo informer over lw that starts its watches with the
// initial list streamed (watch-list), as client-go does by default.
func newInformer(client clientset.Interface, lw *cache.ListWatch, resyncPeriod time.Duration) cache.SharedIndexInformer {
	return cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client),
		&crddemov1.Mydemo{}, cache.SharedIndexInformerOptions{
			ResyncPeriod: resyncPeriod,
			Indexers:     cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
		})
}

// lastAppliedAnnotation is where kubectl apply keeps a copy of the whole
// object it applied; crddemo never reads it.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// leanForCache is the informer's transform: it drops what the cache would
// hold for nothing, since crddemo never reads it: managedFields (often the
// largest part of an object) and kubectl's last-applied copy. crddemo writes
// its status with a patch, so it never sends the trimmed object back.
func leanForCache(obj any) (any, error) {
	if demo, ok := obj.(*crddemov1.Mydemo); ok {
		demo.ManagedFields = nil
		delete(demo.Annotations, lastAppliedAnnotation)
	}
	return obj, nil
}
