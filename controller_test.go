package main

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"github.com/domac/crddemo/internal/priorityqueue"
	"github.com/domac/crddemo/internal/synced"
	"github.com/domac/crddemo/internal/synced/syncedtest"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	"github.com/domac/crddemo/pkg/client/clientset/versioned/fake"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions"
)

// recordedEvent is one call to fakeRecorder.Event.
type recordedEvent struct {
	object    string
	eventType string
	reason    string
	message   string
	// ctxErr is the sync context's error when the event was recorded: an
	// event recorded during shutdown must not see a cancelled context.
	ctxErr error
}

// fakeRecorder captures events instead of writing them to an API server.
type fakeRecorder struct {
	// before, if set, runs first in every Event call; an error from it
	// fails the write, as the API server's refusal would.
	before func() error

	mu     sync.Mutex
	events []recordedEvent
}

func (r *fakeRecorder) Event(ctx context.Context, demo *crddemov1.Mydemo, eventType, reason, message string) error {
	if r.before != nil {
		if err := r.before(); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, recordedEvent{
		object: demo.Namespace + "/" + demo.Name, eventType: eventType, reason: reason, message: message, ctxErr: ctx.Err(),
	})
	return nil
}

func (r *fakeRecorder) recorded() []recordedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedEvent(nil), r.events...)
}

// fixture is a controller wired to a fake clientset, with an informer cache
// that the test fills by hand unless it starts the informer.
type fixture struct {
	t          testing.TB
	client     *fake.Clientset
	factory    informers.SharedInformerFactory
	recorder   *fakeRecorder
	controller *Controller
}

// fastRateLimiter retries within milliseconds, so that retry tests run fast
// while still going through the queue's per-key backoff.
func fastRateLimiter() workqueue.TypedRateLimiter[cache.ObjectName] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[cache.ObjectName](time.Millisecond, 10*time.Millisecond)
}

func newFixture(t testing.TB, objects ...*crddemov1.Mydemo) *fixture {
	t.Helper()
	var runtimeObjects []runtime.Object
	for _, obj := range objects {
		runtimeObjects = append(runtimeObjects, obj)
	}
	f := &fixture{t: t, client: fake.NewSimpleClientset(runtimeObjects...), recorder: &fakeRecorder{}}
	f.client.PrependReactor("patch", "mydemos", applyStatus(f.client.Tracker()))
	f.factory = informers.NewSharedInformerFactory(f.client, 0)
	_, ctx := ktesting.NewTestContext(t)
	controller, err := NewController(ctx, f.client, f.factory.Crddemo().V1().Mydemos(), f.recorder, fastRateLimiter(), "")
	if err != nil {
		t.Fatalf("NewController: %v", err)
	}
	f.controller = controller
	t.Cleanup(controller.queue.ShutDown)
	t.Cleanup(f.factory.Shutdown)
	return f
}

// applyStatus is a reactor that does what the API server does with
// crddemo's server-side apply of the status, which the fake's tracker cannot:
// it refuses a resourceVersion other than the stored one with a Conflict, and
// sets observedGeneration and the conditions applied, leaving the others,
// under the next resourceVersion.
func applyStatus(tracker k8stesting.ObjectTracker) k8stesting.ReactionFunc {
	return func(action k8stesting.Action) (bool, runtime.Object, error) {
		patch, ok := action.(k8stesting.PatchAction)
		if !ok || patch.GetSubresource() != "status" || patch.GetPatchType() != types.ApplyPatchType {
			return false, nil, nil
		}
		applied := &crddemov1.Mydemo{}
		if err := json.Unmarshal(patch.GetPatch(), applied); err != nil {
			return true, nil, apierrors.NewBadRequest(err.Error())
		}
		obj, err := tracker.Get(action.GetResource(), action.GetNamespace(), patch.GetName())
		if err != nil {
			return true, nil, err
		}
		stored := obj.(*crddemov1.Mydemo).DeepCopy()
		if applied.ResourceVersion != "" && applied.ResourceVersion != stored.ResourceVersion {
			return true, nil, apierrors.NewConflict(action.GetResource().GroupResource(), stored.Name,
				errors.New("the object has been modified"))
		}
		stored.ResourceVersion = nextResourceVersion(stored.ResourceVersion)
		stored.Status.ObservedGeneration = applied.Status.ObservedGeneration
		for _, cond := range applied.Status.Conditions {
			meta.RemoveStatusCondition(&stored.Status.Conditions, cond.Type)
			stored.Status.Conditions = append(stored.Status.Conditions, cond)
		}
		return true, stored, tracker.Update(action.GetResource(), stored, action.GetNamespace())
	}
}

// nextResourceVersion is the resourceVersion after rv, as the API server's
// resourceVersions grow; "" for one that is not a number.
func nextResourceVersion(rv string) string {
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil {
		return ""
	}
	return strconv.FormatInt(n+1, 10)
}

// fillCache puts objects straight into the informer's cache, as if the
// informer had listed them, without starting it.
func (f *fixture) fillCache(objects ...*crddemov1.Mydemo) {
	f.t.Helper()
	indexer := f.factory.Crddemo().V1().Mydemos().Informer().GetIndexer()
	for _, obj := range objects {
		if err := indexer.Add(obj); err != nil {
			f.t.Fatalf("adding %s to the cache: %v", obj.Name, err)
		}
	}
}

// statusUpdates returns the server-side applies that the controller sent to the
// status subresource, in order, decoded into Mydemos. Any other kind of
// write of the status fails the test.
func (f *fixture) statusUpdates() []*crddemov1.Mydemo {
	f.t.Helper()
	var updates []*crddemov1.Mydemo
	for _, action := range f.client.Actions() {
		if action.GetSubresource() != "status" {
			continue
		}
		patch, ok := action.(k8stesting.PatchAction)
		if !ok || patch.GetPatchType() != types.ApplyPatchType {
			f.t.Fatalf("status written by %s, want a server-side apply", action.GetVerb())
		}
		demo := &crddemov1.Mydemo{}
		if err := json.Unmarshal(patch.GetPatch(), demo); err != nil {
			f.t.Fatalf("decoding the status patch %s: %v", patch.GetPatch(), err)
		}
		updates = append(updates, demo)
	}
	return updates
}

func newMydemo(name string, generation int64) *crddemov1.Mydemo {
	return &crddemov1.Mydemo{
		TypeMeta: metav1.TypeMeta{APIVersion: crddemov1.SchemeGroupVersion.String(), Kind: "Mydemo"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: metav1.NamespaceDefault, Generation: generation, ResourceVersion: "1",
		},
		Spec: crddemov1.MydemoSpec{IP: "127.0.0.1", Port: 8080},
	}
}

// withSyncedStatus returns demo as the controller leaves it after syncing
// generation observed.
func withSyncedStatus(demo *crddemov1.Mydemo, observed int64, transition time.Time) *crddemov1.Mydemo {
	demo = demo.DeepCopy()
	demo.Status = crddemov1.MydemoStatus{
		ObservedGeneration: observed,
		Conditions: []metav1.Condition{{
			Type: synced.ConditionType, Status: metav1.ConditionTrue, Reason: synced.Reason, Message: synced.Message,
			ObservedGeneration: observed, LastTransitionTime: metav1.NewTime(transition),
		}},
	}
	return demo
}

func TestSyncMydemo(t *testing.T) {
	yesterday := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	syncedEvent := recordedEvent{object: "default/example-mydemo", eventType: corev1.EventTypeNormal, reason: synced.Reason, message: synced.Message}

	tests := []struct {
		name          string
		cached        *crddemov1.Mydemo // nil: not in the cache
		failingStatus bool              // the API server rejects status updates
		failingEvent  bool              // the API server rejects events
		// wantObserved is the observedGeneration written, 0 for no write.
		wantObserved int64
		// wantTransition, when set, is the lastTransitionTime the write must keep.
		wantTransition time.Time
		wantEvents     []recordedEvent
		wantErr        string
		wantLog        []string
	}{
		{
			name:         "new object gets a status and a Synced event",
			cached:       newMydemo("example-mydemo", 1),
			wantObserved: 1,
			wantEvents:   []recordedEvent{syncedEvent},
			wantLog:      []string{`Try to process mydemo`, `resourceVersion="1"`, `generation=1`, `ip="127.0.0.1"`, `port=8080`},
		},
		{
			name:           "changed spec is observed again and keeps the transition time",
			cached:         withSyncedStatus(newMydemo("example-mydemo", 2), 1, yesterday),
			wantObserved:   2,
			wantTransition: yesterday,
			wantEvents:     []recordedEvent{syncedEvent},
		},
		{
			name:    "up-to-date status is not written again and records no event",
			cached:  withSyncedStatus(newMydemo("example-mydemo", 3), 3, yesterday),
			wantLog: []string{`Try to process mydemo`},
		},
		{
			name:    "object gone from the cache takes the deletion path",
			cached:  nil,
			wantLog: []string{`Mydemo does not exist in local cache, will delete it`, `Deleting mydemo`},
		},
		{
			name:          "status update rejected by the API server is an error, after the event",
			cached:        newMydemo("example-mydemo", 1),
			failingStatus: true,
			wantObserved:  1,
			wantEvents:    []recordedEvent{syncedEvent},
			wantErr:       "updating status of mydemo default/example-mydemo: etcd is on fire",
		},
		{
			name:         "event rejected by the API server is an error, and the status is left behind",
			cached:       newMydemo("example-mydemo", 1),
			failingEvent: true,
			wantErr:      "events are forbidden",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *fixture
			if tt.cached != nil {
				f = newFixture(t, tt.cached)
				f.fillCache(tt.cached)
			} else {
				f = newFixture(t)
			}
			if tt.failingEvent {
				f.recorder.before = func() error { return errors.New("events are forbidden") }
			}
			if tt.failingStatus {
				f.client.PrependReactor("patch", "mydemos", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, errors.New("etcd is on fire")
				})
			}
			logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
			ctx := klog.NewContext(context.Background(), logger)

			err := f.controller.syncMydemo(ctx, cache.ObjectName{Namespace: "default", Name: "example-mydemo"})

			if tt.wantErr == "" && err != nil {
				t.Fatalf("syncMydemo: unexpected error %v", err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("syncMydemo error = %v, want %q", err, tt.wantErr)
			}
			checkStatusWrite(t, f.statusUpdates(), tt.wantObserved, tt.wantTransition)
			if got := f.recorder.recorded(); !equalEvents(got, tt.wantEvents) {
				t.Errorf("events = %+v, want %+v", got, tt.wantEvents)
			}
			logs := logger.GetSink().(ktesting.Underlier).GetBuffer().String()
			for _, want := range tt.wantLog {
				if !strings.Contains(logs, want) {
					t.Errorf("log does not contain %s; log:\n%s", want, logs)
				}
			}
		})
	}
}

// checkStatusWrite asserts that exactly one status write reported observed,
// or that none happened when observed is 0.
func checkStatusWrite(t *testing.T, updates []*crddemov1.Mydemo, observed int64, transition time.Time) {
	t.Helper()
	if observed == 0 {
		if len(updates) != 0 {
			t.Fatalf("status written %d times, want no write: %+v", len(updates), updates[0].Status)
		}
		return
	}
	if len(updates) != 1 {
		t.Fatalf("status written %d times, want once", len(updates))
	}
	status := updates[0].Status
	if status.ObservedGeneration != observed {
		t.Errorf("status.observedGeneration = %d, want %d", status.ObservedGeneration, observed)
	}
	cond := meta.FindStatusCondition(status.Conditions, synced.ConditionType)
	if cond == nil {
		t.Fatalf("status has no %s condition: %+v", synced.ConditionType, status)
	}
	if cond.Status != metav1.ConditionTrue || cond.Reason != synced.Reason || cond.Message != synced.Message ||
		cond.ObservedGeneration != observed {
		t.Errorf("condition = %+v, want True/%s/%q at generation %d", cond, synced.Reason, synced.Message, observed)
	}
	if !transition.IsZero() && !cond.LastTransitionTime.Time.Equal(transition) {
		t.Errorf("lastTransitionTime = %v, want it kept at %v", cond.LastTransitionTime, transition)
	}
	if cond.LastTransitionTime.IsZero() {
		t.Errorf("lastTransitionTime is not set")
	}
}

func equalEvents(got, want []recordedEvent) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func TestEventHandlersQueueKeys(t *testing.T) {
	demo := withSyncedStatus(newMydemo("example-mydemo", 1), 1, time.Now())
	behind := newMydemo("example-mydemo", 1)
	// changed returns demo at a new resourceVersion, changed by change.
	changed := func(from *crddemov1.Mydemo, change func(*crddemov1.Mydemo)) *crddemov1.Mydemo {
		to := from.DeepCopy()
		to.ResourceVersion = "2"
		change(to)
		return to
	}
	newSpec := changed(demo, func(d *crddemov1.Mydemo) { d.Generation, d.Spec.Port = 2, 9090 })
	newLabel := changed(demo, func(d *crddemov1.Mydemo) { d.Labels = map[string]string{"team": "a"} })
	newAnnotation := changed(demo, func(d *crddemov1.Mydemo) { d.Annotations = map[string]string{"note": "x"} })
	ownStatusWrite := changed(behind, func(d *crddemov1.Mydemo) { d.Status = syncedtest.Status(d) })
	statusWiped := changed(demo, func(d *crddemov1.Mydemo) { d.Status = crddemov1.MydemoStatus{} })
	key := cache.ObjectName{Namespace: "default", Name: "example-mydemo"}

	// none marks a handler that queues nothing.
	const none priorityqueue.Priority = -1
	tests := []struct {
		name   string
		handle func(c *Controller)
		want   priorityqueue.Priority
	}{
		{"add from the informer's initial list", func(c *Controller) { c.handleAdd(demo, true) }, priorityqueue.Backlog},
		{"add of a Mydemo created since", func(c *Controller) { c.handleAdd(demo, false) }, priorityqueue.Live},
		{"spec changed", func(c *Controller) { c.handleUpdate(demo, newSpec) }, priorityqueue.Live},
		{"labels changed", func(c *Controller) { c.handleUpdate(demo, newLabel) }, priorityqueue.Live},
		{"annotations changed", func(c *Controller) { c.handleUpdate(demo, newAnnotation) }, priorityqueue.Live},
		{"crddemo's own status write coming back", func(c *Controller) { c.handleUpdate(behind, ownStatusWrite) }, none},
		{"status wiped by another writer", func(c *Controller) { c.handleUpdate(demo, statusWiped) }, priorityqueue.Live},
		{"resync of a Mydemo whose status is current", func(c *Controller) { c.handleUpdate(demo, demo.DeepCopy()) }, none},
		{"resync of a Mydemo whose status is behind", func(c *Controller) { c.handleUpdate(behind, behind.DeepCopy()) },
			priorityqueue.Backlog},
		{"delete", func(c *Controller) { c.handleDelete(demo) }, priorityqueue.Live},
		{"delete seen only as a tombstone", func(c *Controller) {
			c.handleDelete(cache.DeletedFinalStateUnknown{Key: "default/example-mydemo", Obj: demo})
		}, priorityqueue.Live},
		{"object of an unexpected type", func(c *Controller) { c.handleAdd(&corev1.Pod{}, false) }, none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			// A backlog key queued first shows the priority: a live key
			// overtakes it, a backlog key waits behind it.
			marker := cache.ObjectName{Namespace: "default", Name: "queued-before"}
			f.controller.queue.AddWithPriority(marker, priorityqueue.Backlog)
			tt.handle(f.controller)

			if tt.want == none {
				if n := f.controller.queue.Len(); n != 1 {
					t.Fatalf("queue holds %d keys besides the one queued before, want none", n-1)
				}
				return
			}
			if n := f.controller.queue.Len(); n != 2 {
				t.Fatalf("queue holds %d keys besides the one queued before, want 1", n-1)
			}
			first, _ := f.controller.queue.Get()
			second, _ := f.controller.queue.Get()
			var got priorityqueue.Priority
			switch {
			case first == key && second == marker:
				got = priorityqueue.Live
			case first == marker && second == key:
				got = priorityqueue.Backlog
			default:
				t.Fatalf("handed out %q and %q, want %q and %q in some order", first, second, marker, key)
			}
			if got != tt.want || key.String() != "default/example-mydemo" {
				t.Errorf("%q was queued as %s, want %q as %s", key, got, "default/example-mydemo", tt.want)
			}
		})
	}
}

func TestSyncSkipsACacheBehindItsOwnStatusWrite(t *testing.T) {
	demo := newMydemo("example-mydemo", 1)
	f := newFixture(t, demo)
	f.fillCache(demo)
	_, ctx := ktesting.NewTestContext(t)
	key := cache.MetaObjectToName(demo)

	if err := f.controller.syncMydemo(ctx, key); err != nil {
		t.Fatal(err)
	}
	// Another writer's change queued the key again during that sync, and
	// the cache still holds the object from before the status write.
	if err := f.controller.syncMydemo(ctx, key); err != nil {
		t.Fatal(err)
	}
	if events, updates := f.recorder.recorded(), f.statusUpdates(); len(events) != 1 || len(updates) != 1 {
		t.Errorf("%d events and %d status writes, want 1 each: the second sync read a cache behind the first's write",
			len(events), len(updates))
	}
}

func TestSyncRetriedAfterAConflictWritesTheEventOnce(t *testing.T) {
	cached := newMydemo("example-mydemo", 1)
	// Another writer changed the object after the cache saw it.
	stored := cached.DeepCopy()
	stored.ResourceVersion = "2"
	stored.Labels = map[string]string{"team": "a"}
	f := newFixture(t, stored)
	f.fillCache(cached)
	_, ctx := ktesting.NewTestContext(t)
	key := cache.MetaObjectToName(cached)

	err := f.controller.syncMydemo(ctx, key)
	if !apierrors.IsConflict(err) {
		t.Fatalf("a status write based on a stale cache = %v, want a Conflict", err)
	}
	// The cache catches up, and the retry writes the status only.
	f.fillCache(stored)
	if err := f.controller.syncMydemo(ctx, key); err != nil {
		t.Fatal(err)
	}
	if events := f.recorder.recorded(); len(events) != 1 {
		t.Errorf("events = %+v, want the one Synced event of generation 1", events)
	}
	demo, err := f.client.CrddemoV1().Mydemos(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{})
	if err != nil || !synced.IsCurrent(demo) || demo.Labels["team"] != "a" {
		t.Errorf("after the retry: %+v, %v; want the other writer's label and a current status", demo, err)
	}
}

func TestSyncLeavesAMydemoBeingDeleted(t *testing.T) {
	demo := newMydemo("example-mydemo", 1)
	demo.Finalizers = []string{"example.com/cleanup"}
	demo.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	f := newFixture(t, demo)
	f.fillCache(demo)
	_, ctx := ktesting.NewTestContext(t)

	if err := f.controller.syncMydemo(ctx, cache.MetaObjectToName(demo)); err != nil {
		t.Fatal(err)
	}
	if events, updates := f.recorder.recorded(), f.statusUpdates(); len(events) != 0 || len(updates) != 0 {
		t.Errorf("a Mydemo being deleted got events %+v and %d status writes, want none", events, len(updates))
	}
}

func TestSyncEndsInANamespaceBeingDeleted(t *testing.T) {
	demo := newMydemo("example-mydemo", 1)
	f := newFixture(t, demo)
	f.fillCache(demo)
	// What the API server's NamespaceLifecycle admission answers.
	terminating := apierrors.NewForbidden(corev1.Resource("events"), "",
		errors.New("unable to create new content in namespace default because it is being terminated"))
	terminating.ErrStatus.Details.Causes = []metav1.StatusCause{{Type: corev1.NamespaceTerminatingCause, Field: "default"}}
	f.recorder.before = func() error { return terminating }
	_, ctx := ktesting.NewTestContext(t)

	if err := f.controller.syncMydemo(ctx, cache.MetaObjectToName(demo)); err != nil {
		t.Errorf("a sync whose event a terminating namespace refuses = %v, want nil: retrying cannot help", err)
	}
	if updates := f.statusUpdates(); len(updates) != 0 {
		t.Errorf("%d status writes without an event, want none", len(updates))
	}
}
