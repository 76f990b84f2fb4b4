package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2/ktesting"

	"github.com/domac/crddemo/internal/synced"
	"github.com/domac/crddemo/internal/synced/syncedtest"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// FuzzEventHandlersKeys sends Mydemos with any namespace and name, and
// objects of other kinds, through the informer's event handlers. A Mydemo
// queues exactly its own namespace/name, whatever a tombstone's key says; a
// resync of a current Mydemo queues nothing; anything else queues nothing
// and does not panic.
func FuzzEventHandlersKeys(f *testing.F) {
	for _, seed := range []struct {
		namespace, name, tombstoneKey, oldRV, newRV string
		current                                     bool
		other                                       uint8
	}{
		{"default", "example-mydemo", "default/example-mydemo", "1", "1", true, 0},
		{"default", "example-mydemo", "default/example-mydemo", "1", "2", true, 1},
		{"team-a", "demo.v2", "team-a/demo.v2", "7", "7", false, 2},
		{"", "cluster-scoped", "cluster-scoped", "", "", false, 3},
		{"a/b", "c/d", "a/b/c/d", "1", "1", true, 4},
		{"", "", "", "", "", false, 5},
		{"default", "x", "elsewhere/y", "1", "1", true, 6},
		{"NS", "Name With Spaces", "\x00", "1", "01", false, 7},
	} {
		f.Add(seed.namespace, seed.name, seed.tombstoneKey, seed.oldRV, seed.newRV, seed.current, seed.other)
	}
	f.Fuzz(func(t *testing.T, namespace, name, tombstoneKey, oldRV, newRV string, current bool, other uint8) {
		c := newFixture(t).controller
		demo := &crddemov1.Mydemo{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, ResourceVersion: newRV, Generation: 1}}
		if current {
			demo = withSyncedStatus(demo, 1, time.Unix(1, 0))
		}
		key := cache.ObjectName{Namespace: namespace, Name: name}
		old := demo.DeepCopy()
		old.ResourceVersion = oldRV

		expectQueued(t, c, "add", func() { c.handleAdd(demo, false) }, &key)
		// old and demo differ at most in their resourceVersion, as a resync
		// or crddemo's own status write leaves them: queued only to heal a
		// status that is behind.
		var wantUpdate *cache.ObjectName
		if !current {
			wantUpdate = &key
		}
		expectQueued(t, c, "update", func() { c.handleUpdate(old, demo) }, wantUpdate)
		expectQueued(t, c, "delete", func() { c.handleDelete(demo) }, &key)
		expectQueued(t, c, "delete of a tombstone", func() {
			c.handleDelete(cache.DeletedFinalStateUnknown{Key: tombstoneKey, Obj: demo})
		}, &key)

		// The key names the object on its own, so that a worker finds it
		// in the lister: with valid names, it parses back to itself.
		if (namespace == "" || len(validation.IsDNS1123Label(namespace)) == 0) && len(validation.IsDNS1123Subdomain(name)) == 0 {
			if parsed, err := cache.ParseObjectName(key.String()); err != nil || parsed != key {
				t.Errorf("the key %q parses as %+v, %v; want %+v", key.String(), parsed, err, key)
			}
		}

		// What the informer of Mydemos never hands over, but a handler
		// must survive.
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
		others := []any{
			nil,
			pod,
			key.String(),
			*demo,
			&crddemov1.MydemoList{Items: []crddemov1.Mydemo{*demo}},
			cache.DeletedFinalStateUnknown{Key: tombstoneKey, Obj: pod},
			cache.DeletedFinalStateUnknown{Key: tombstoneKey},
			cache.DeletedFinalStateUnknown{Key: tombstoneKey, Obj: cache.DeletedFinalStateUnknown{Key: tombstoneKey, Obj: demo}},
		}
		obj := others[int(other)%len(others)]
		expectQueued(t, c, "add of another kind", func() { c.handleAdd(obj, false) }, nil)
		expectQueued(t, c, "update to another kind", func() { c.handleUpdate(demo, obj) }, nil)
		expectQueued(t, c, "delete of another kind", func() { c.handleDelete(obj) }, nil)
	})
}

// expectQueued runs handle and asserts that it queued want, or nothing if
// want is nil, then empties the queue.
func expectQueued(t *testing.T, c *Controller, what string, handle func(), want *cache.ObjectName) {
	t.Helper()
	handle()
	if want == nil {
		if n := c.queue.Len(); n != 0 {
			t.Fatalf("%s: queue holds %d keys, want none", what, n)
		}
		return
	}
	// Get would block on an empty queue.
	if n := c.queue.Len(); n != 1 {
		t.Fatalf("%s: queue holds %d keys, want 1", what, n)
	}
	got, _ := c.queue.Get()
	c.queue.Done(got)
	c.queue.Forget(got)
	if got != *want {
		t.Fatalf("%s: queued %#v, want %#v", what, got, *want)
	}
}

// errEventRefused and errStatusRefused are the API server's refusals in
// FuzzSyncDecision.
var (
	errEventRefused  = errors.New("events are forbidden")
	errStatusRefused = errors.New("etcd is on fire")
)

// FuzzSyncDecision syncs a cached Mydemo with any status. A sync writes an
// event and then the status exactly when the status is not current; when
// the event fails, the status is not written, so that a current status
// proves its event was written.
func FuzzSyncDecision(f *testing.F) {
	syncedtest.AddSeeds(f, false, false)
	syncedtest.AddSeeds(f, true, false)
	syncedtest.AddSeeds(f, false, true)
	f.Fuzz(func(t *testing.T, generation, observed int64, hasSynced bool, status, reason, message string,
		conditionObserved, transitionUnixNano int64, otherType, otherCondition string, failEvent, failStatus bool) {
		// As the API server stores it: times in whole seconds.
		demo := asStored(t, syncedtest.Fuzzed(generation, syncedtest.FuzzedStatus{Observed: observed, Synced: hasSynced,
			Status: status, Reason: reason, Message: message, ConditionObserved: conditionObserved,
			TransitionUnixNano: transitionUnixNano, OtherType: otherType, OtherCondition: otherCondition}))
		fx := newFixture(t, demo)
		fx.fillCache(demo)
		if failEvent {
			fx.recorder.before = func() error { return errEventRefused }
		}
		if failStatus {
			fx.client.PrependReactor("patch", "mydemos", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, errStatusRefused
			})
		}
		wasCurrent := synced.IsCurrent(demo)
		// The cache holds demo itself; input is what it held before.
		input := demo.DeepCopy()
		_, ctx := ktesting.NewTestContext(t)

		// The status patch carries times in whole seconds.
		before := time.Now().Truncate(time.Second)
		err := fx.controller.syncMydemo(ctx, cache.MetaObjectToName(demo))
		after := time.Now()

		events, updates := fx.recorder.recorded(), fx.statusUpdates()
		switch {
		case wasCurrent:
			if err != nil || len(events) != 0 || len(fx.client.Actions()) != 0 {
				t.Fatalf("a current Mydemo: error %v, events %+v, API calls %v; want nothing done", err, events, fx.client.Actions())
			}
		case failEvent:
			if !errors.Is(err, errEventRefused) || len(events) != 0 || len(updates) != 0 {
				t.Fatalf("a refused event: error %v, events %+v, %d status writes; want the refusal and no status write",
					err, events, len(updates))
			}
		default:
			wantEvent := recordedEvent{object: "default/example-mydemo", eventType: corev1.EventTypeNormal, reason: synced.Reason, message: synced.Message}
			if len(events) != 1 || events[0] != wantEvent {
				t.Fatalf("events = %+v, want one %+v", events, wantEvent)
			}
			if len(updates) != 1 {
				t.Fatalf("status written %d times, want once", len(updates))
			}
			// The apply names the object at the resourceVersion the cache
			// saw, as a precondition, and sets only what crddemo owns: the
			// generation observed and the Synced condition of the status
			// that a sync writes. Other conditions are not in it, so that
			// the API server leaves them as they are.
			var written crddemov1.MydemoStatus
			if len(updates[0].Status.Conditions) == 1 {
				written = *input.Status.DeepCopy()
				written.ObservedGeneration = updates[0].Status.ObservedGeneration
				meta.RemoveStatusCondition(&written.Conditions, synced.ConditionType)
				written.Conditions = append(written.Conditions, updates[0].Status.Conditions[0])
			}
			syncedtest.CheckStatus(t, input, written, before, after)
			want := &crddemov1.Mydemo{
				TypeMeta: metav1.TypeMeta{APIVersion: crddemov1.SchemeGroupVersion.String(), Kind: "Mydemo"},
				ObjectMeta: metav1.ObjectMeta{Name: input.Name, Namespace: input.Namespace,
					ResourceVersion: input.ResourceVersion},
				Status: crddemov1.MydemoStatus{
					ObservedGeneration: input.Generation,
					Conditions:         []metav1.Condition{*meta.FindStatusCondition(written.Conditions, synced.ConditionType)},
				},
			}
			if !reflect.DeepEqual(updates[0], want) {
				t.Errorf("the status apply wrote\n%+v\nwant\n%+v", updates[0], want)
			}
			if failStatus != errors.Is(err, errStatusRefused) || (!failStatus && err != nil) {
				t.Errorf("error = %v, want the status write's refusal: %v", err, failStatus)
			}
		}

		// The lister's object is the cache's own: a sync changes a copy.
		cached, getErr := fx.controller.lister.Mydemos(demo.Namespace).Get(demo.Name)
		if getErr != nil || !reflect.DeepEqual(cached, input) {
			t.Errorf("the cached Mydemo changed: %+v, %v", cached, getErr)
		}
	})
}

// asStored returns demo as it comes back from the API server, through JSON:
// metav1.Time keeps whole seconds there.
func asStored(t *testing.T, demo *crddemov1.Mydemo) *crddemov1.Mydemo {
	t.Helper()
	data, err := json.Marshal(demo)
	if err != nil {
		t.Fatal(err)
	}
	stored := &crddemov1.Mydemo{}
	if err := json.Unmarshal(data, stored); err != nil {
		t.Fatal(err)
	}
	return stored
}
