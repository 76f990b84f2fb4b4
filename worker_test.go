package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2/ktesting"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// failStatusUpdates makes the first n status updates fail and counts every
// attempt.
func failStatusUpdates(f *fixture, n int) *atomic.Int32 {
	var attempts atomic.Int32
	f.client.PrependReactor("update", "mydemos", func(k8stesting.Action) (bool, runtime.Object, error) {
		if int(attempts.Add(1)) <= n {
			return true, nil, errors.New("apiserver unavailable")
		}
		return false, nil, nil
	})
	return &attempts
}

// queuedDemoFailing returns a fixture whose queue holds one cached Mydemo
// whose first failures status updates fail, and the counter of attempts.
func queuedDemoFailing(t *testing.T, failures int) (*fixture, *crddemov1.Mydemo, *atomic.Int32) {
	t.Helper()
	demo := newMydemo("example-mydemo", 1)
	f := newFixture(t, demo)
	f.fillCache(demo)
	attempts := failStatusUpdates(f, failures)
	f.controller.enqueue(demo)
	return f, demo, attempts
}

func TestWorkerRetriesFailedKeyWithBackoff(t *testing.T) {
	f, demo, attempts := queuedDemoFailing(t, 3)
	_, ctx := ktesting.NewTestContext(t)
	key := cache.MetaObjectToName(demo)

	for i := 1; i <= 3; i++ {
		if !f.controller.processNextWorkItem(ctx) {
			t.Fatalf("worker stopped after %d items", i)
		}
		if got := f.controller.queue.NumRequeues(key); got != i {
			t.Fatalf("after failure %d the key has %d rate-limited requeues, want %d", i, got, i)
		}
	}
	// The fourth attempt comes only after the backoff and succeeds.
	f.controller.processNextWorkItem(ctx)

	if got := attempts.Load(); got != 4 {
		t.Errorf("status update attempts = %d, want 4", got)
	}
	if got := f.controller.queue.NumRequeues(key); got != 0 {
		t.Errorf("key still has %d requeues after success, want it forgotten", got)
	}
	if len(f.recorder.recorded()) != 1 {
		t.Errorf("events = %+v, want one Synced event after the successful attempt", f.recorder.recorded())
	}
}

func TestWorkerGivesUpAfterMaxRetries(t *testing.T) {
	f, demo, attempts := queuedDemoFailing(t, 1000)
	_, ctx := ktesting.NewTestContext(t)

	for range maxRetries + 1 {
		f.controller.processNextWorkItem(ctx)
	}

	if got := attempts.Load(); got != maxRetries+1 {
		t.Errorf("status update attempts = %d, want %d (the first try and %d retries)", got, maxRetries+1, maxRetries)
	}
	if n := f.controller.queue.Len(); n != 0 {
		t.Errorf("queue holds %d keys after giving up, want none", n)
	}
	if got := f.controller.queue.NumRequeues(cache.MetaObjectToName(demo)); got != 0 {
		t.Errorf("given-up key has %d requeues, want it forgotten so a later change starts afresh", got)
	}
	if len(f.recorder.recorded()) != 0 {
		t.Errorf("events = %+v, want none for a failed sync", f.recorder.recorded())
	}
}

func TestRunSyncsEveryObject(t *testing.T) {
	var demos []*crddemov1.Mydemo
	for i := range 20 {
		demos = append(demos, newMydemo(fmt.Sprintf("demo-%02d", i), 1))
	}
	f := newFixture(t, demos...)
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f.factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		f.controller.Run(ctx, 3)
		close(done)
	}()

	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return len(f.recorder.recorded()) >= len(demos), nil
	})
	if err != nil {
		t.Fatalf("waiting for %d Synced events, got %d: %v", len(demos), len(f.recorder.recorded()), err)
	}
	cancel()
	<-done

	synced := map[string]bool{}
	for _, e := range f.recorder.recorded() {
		synced[e.object] = true
	}
	for _, demo := range demos {
		stored, err := f.client.CrddemoV1().Mydemos(demo.Namespace).Get(context.Background(), demo.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("getting %s: %v", demo.Name, err)
		}
		if stored.Status.ObservedGeneration != 1 || !synced["default/"+demo.Name] {
			t.Errorf("%s: observedGeneration=%d, event recorded=%v; want 1 and true",
				demo.Name, stored.Status.ObservedGeneration, synced["default/"+demo.Name])
		}
	}
}

func TestShutdownFinishesInFlightSyncAndTakesNoNewKey(t *testing.T) {
	first, second := newMydemo("first", 1), newMydemo("second", 1)
	f := newFixture(t, first, second)
	// The first status update blocks until the test releases it, so that
	// shutdown begins while a sync is in flight.
	started, release := make(chan struct{}), make(chan struct{})
	var updates atomic.Int32
	f.client.PrependReactor("update", "mydemos", func(k8stesting.Action) (bool, runtime.Object, error) {
		if updates.Add(1) == 1 {
			close(started)
			<-release
		}
		return false, nil, nil
	})
	f.controller.enqueue(first)
	f.controller.enqueue(second)

	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	f.factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		f.controller.Run(ctx, 1)
		close(done)
	}()

	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the first sync never reached its status update")
	}
	cancel()
	close(release)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after shutdown")
	}

	events := f.recorder.recorded()
	if len(events) != 1 || events[0].object != "default/first" {
		t.Fatalf("events when Run returned = %+v, want only the in-flight sync's event for default/first", events)
	}
	if events[0].ctxErr != nil {
		t.Errorf("the in-flight sync's context was cancelled by shutdown: %v", events[0].ctxErr)
	}
	if got := updates.Load(); got != 1 {
		t.Errorf("status updates = %d, want 1: no new key may be taken after shutdown began", got)
	}
}
