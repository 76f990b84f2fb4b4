package shard

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// Restrict returns a ListWatch that lists and watches what lw does, but only
// the objects whose UID hashes into r. Every request asks the API server for
// r alone (ShardSelector), and every answer is filtered by Hash as well,
// because a server without the ShardedListAndWatch gate ignores the selector
// and sends everything. unhonoured, if not nil, is called once, the first
// time an object outside r arrives: the sign that the server did not shard.
//
// Lists keep their resourceVersion and continue token, and watch bookmarks
// and errors pass, so a reflector works over it in list-then-watch and in
// watch-list mode alike.
func Restrict(lw *cache.ListWatch, r Range, unhonoured func()) *cache.ListWatch {
	f := &filter{r: r, unhonoured: unhonoured}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.ShardSelector = r.Selector()
			list, err := lw.ListWithContext(ctx, opts)
			if err != nil {
				return nil, err
			}
			return list, f.list(list)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.ShardSelector = r.Selector()
			w, err := lw.WatchWithContext(ctx, opts)
			if err != nil {
				return nil, err
			}
			return watch.Filter(w, f.event), nil
		},
		DisableChunking: lw.DisableChunking,
	}
}

// filter keeps the objects in r and reports the first one it drops.
type filter struct {
	r          Range
	unhonoured func()
	once       sync.Once
}

// list removes from list, in place, the items outside r.
func (f *filter) list(list runtime.Object) error {
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	kept := items[:0]
	for _, item := range items {
		if f.keep(item) {
			kept = append(kept, item)
		}
	}
	if len(kept) == len(items) {
		return nil
	}
	return meta.SetList(list, kept)
}

// event passes bookmarks, errors and the changes to objects in r.
func (f *filter) event(e watch.Event) (watch.Event, bool) {
	switch e.Type {
	case watch.Added, watch.Modified, watch.Deleted:
		return e, f.keep(e.Object)
	default:
		return e, true
	}
}

// keep says whether obj is in r. An object without metadata is kept, for the
// reflector to report, rather than silently lost.
func (f *filter) keep(obj runtime.Object) bool {
	m, err := meta.Accessor(obj)
	if err != nil || f.r.Contains(Hash(m.GetUID())) {
		return true
	}
	if f.unhonoured != nil {
		f.once.Do(f.unhonoured)
	}
	return false
}
