package main

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/client-go/tools/cache"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// ownWrites remembers what crddemo's syncs wrote for each Mydemo until the
// informer's cache shows it, so that one generation of a Mydemo gets one
// Synced event, not two:
//
//   - A key can be synced again before crddemo's own status write has
//     reached the cache: another writer's change queues it during the first
//     sync, and the second sync then reads the cache from before the status
//     write. That sync is skipped: the status write, on its way, covers it,
//     and any later change brings an update of its own.
//   - When the status write fails after the event (a conflict, a refusal),
//     the retry writes only the status.
//
// It lives in memory only: after a restart an event whose status write had
// failed is written once more.
//
// client-go's Store.LastStoreSyncResourceVersion (KEP-5647) could tell
// cacheIsBehind from the store as a whole, but it answers only while
// client-go's AtomicFIFO feature gate is on (beta), remembers nothing per
// generation for hasEvent, and without observe this map would keep an
// entry for every Mydemo ever synced.
type ownWrites struct {
	mu    sync.Mutex
	byKey map[cache.ObjectName]ownWrite
}

// ownWrite is what the last sync of one Mydemo wrote.
type ownWrite struct {
	uid        types.UID
	generation int64
	// statusVersion is the resourceVersion that the status write gave the
	// object; empty until the status is written.
	statusVersion string
}

func newOwnWrites() *ownWrites {
	return &ownWrites{byKey: map[cache.ObjectName]ownWrite{}}
}

// eventWritten records that the Synced event of demo's generation is written.
func (w *ownWrites) eventWritten(demo *crddemov1.Mydemo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.byKey[cache.MetaObjectToName(demo)] = ownWrite{uid: demo.UID, generation: demo.Generation}
}

// statusWritten records that the status of demo's generation is written, as
// the object's resourceVersion written.
func (w *ownWrites) statusWritten(demo *crddemov1.Mydemo, written string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.byKey[cache.MetaObjectToName(demo)] = ownWrite{uid: demo.UID, generation: demo.Generation, statusVersion: written}
}

// hasEvent reports whether the Synced event of demo's generation is written
// already.
func (w *ownWrites) hasEvent(demo *crddemov1.Mydemo) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	write, ok := w.byKey[cache.MetaObjectToName(demo)]
	return ok && write.uid == demo.UID && write.generation == demo.Generation
}

// cacheIsBehind reports whether demo, as cached, is older than crddemo's own
// status write of it.
func (w *ownWrites) cacheIsBehind(demo *crddemov1.Mydemo) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	write, ok := w.byKey[cache.MetaObjectToName(demo)]
	return ok && write.uid == demo.UID && write.statusVersion != "" && older(demo.ResourceVersion, write.statusVersion)
}

// observe is told of each Mydemo that reaches the cache, and forgets what
// the cache now shows: crddemo's own status write, or a Mydemo created again
// under the same name.
func (w *ownWrites) observe(demo *crddemov1.Mydemo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := cache.MetaObjectToName(demo)
	write, ok := w.byKey[key]
	if ok && (write.uid != demo.UID || write.statusVersion != "" && !older(demo.ResourceVersion, write.statusVersion)) {
		delete(w.byKey, key)
	}
}

// forget drops what was written for a Mydemo that is gone.
func (w *ownWrites) forget(key cache.ObjectName) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.byKey, key)
}

// older reports whether resourceVersion a comes before b. The API server's
// resourceVersions are comparable integers; if either is not one, neither
// counts as older, which leaves a sync to its usual course.
func older(a, b string) bool {
	order, err := resourceversion.CompareResourceVersion(a, b)
	return err == nil && order < 0
}
