package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"github.com/domac/crddemo/internal/priorityqueue"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// failStatusUpdates makes the first n status updates fail and counts every
// attempt.
func failStatusUpdates(f *fixture, n int) *atomic.Int32 {
	var attempts atomic.Int32
	f.client.PrependReactor("patch", "mydemos", func(k8stesting.Action) (bool, runtime.Object, error) {
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
	f.controller.enqueue(demo, priorityqueue.Live)
	return f, demo, attempts
}

func TestWorkerRetriesFailedKeyWithBackoff(t *testing.T) {
	f, demo, attempts := queuedDemoFailing(t, 3)
	_, ctx := ktesting.NewTestContext(t)
	key := cache.MetaObjectToName(demo)

	for i := 1; i <= 3; i++ {
		if !f.controller.processNextWorkItem(ctx, ctx) {
			t.Fatalf("worker stopped after %d items", i)
		}
		if got := f.controller.queue.NumRequeues(key); got != i {
			t.Fatalf("after failure %d the key has %d rate-limited requeues, want %d", i, got, i)
		}
	}
	// The fourth attempt comes only after the backoff and succeeds.
	f.controller.processNextWorkItem(ctx, ctx)

	if got := attempts.Load(); got != 4 {
		t.Errorf("status update attempts = %d, want 4", got)
	}
	if got := f.controller.queue.NumRequeues(key); got != 0 {
		t.Errorf("key still has %d requeues after success, want it forgotten", got)
	}
	// The event comes before the status write; the retries of a failed
	// status write do not write it again.
	if len(f.recorder.recorded()) != 1 {
		t.Errorf("events = %+v, want one Synced event across the 4 attempts", f.recorder.recorded())
	}
}

func TestWorkerNeverGivesUp(t *testing.T) {
	const failures = 40
	f, demo, attempts := queuedDemoFailing(t, failures)
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
	ctx := klog.NewContext(context.Background(), logger)
	buffer := logger.GetSink().(ktesting.Underlier).GetBuffer()
	key := cache.MetaObjectToName(demo)

	for i := 1; i <= failures; i++ {
		f.controller.processNextWorkItem(ctx, ctx)
		if got := f.controller.queue.NumRequeues(key); got != i {
			t.Fatalf("after failure %d the key has %d requeues, want %d: it must be retried", i, got, i)
		}
	}
	// The retry after the failures succeeds, however many there were.
	f.controller.processNextWorkItem(ctx, ctx)

	if got := attempts.Load(); got != failures+1 {
		t.Errorf("status update attempts = %d, want %d", got, failures+1)
	}
	if got := f.controller.queue.NumRequeues(key); got != 0 {
		t.Errorf("key still has %d requeues after success, want it forgotten", got)
	}
	// Failures 0, 1, 2, 10, 20 and 30 are logged as errors; the rest only
	// at -v=2.
	if got := strings.Count(buffer.String(), "ERROR Error syncing mydemo; will retry"); got != 6 {
		t.Errorf("%d failures logged as errors, want 6 of %d:\n%s", got, failures, buffer.String())
	}
}

func TestRetryRateLimiterCapsTheBackoff(t *testing.T) {
	limiter := NewRetryRateLimiter(time.Minute)
	key := cache.ObjectName{Namespace: "default", Name: "x"}
	var delays []time.Duration
	for range 20 {
		delays = append(delays, limiter.When(key))
	}
	if delays[0] != firstRetryDelay || delays[1] != 2*firstRetryDelay {
		t.Errorf("first delays = %v, want %v doubling", delays[:2], firstRetryDelay)
	}
	if last := delays[len(delays)-1]; last != time.Minute {
		t.Errorf("delay after 20 failures = %v, want the cap of 1m", last)
	}
	// Another key is not slowed down by the first one's failures: there is
	// no overall bucket.
	if d := limiter.When(cache.ObjectName{Namespace: "default", Name: "y"}); d != firstRetryDelay {
		t.Errorf("first delay of another key = %v, want %v", d, firstRetryDelay)
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
		f.controller.Run(ctx, context.WithoutCancel(ctx), 3)
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
	// The first event blocks until the test releases it, so that shutdown
	// begins while a sync is in flight; its status write comes after.
	started, release := make(chan struct{}), make(chan struct{})
	var events atomic.Int32
	f.recorder.before = func() error {
		if events.Add(1) == 1 {
			close(started)
			<-release
		}
		return nil
	}
	var updates atomic.Int32
	f.client.PrependReactor("patch", "mydemos", func(k8stesting.Action) (bool, runtime.Object, error) {
		updates.Add(1)
		return false, nil, nil
	})
	f.controller.enqueue(first, priorityqueue.Live)
	f.controller.enqueue(second, priorityqueue.Live)

	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	f.factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() {
		f.controller.Run(ctx, context.WithoutCancel(ctx), 1)
		close(done)
	}()

	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the first sync never reached its event")
	}
	cancel()
	close(release)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after shutdown")
	}

	recorded := f.recorder.recorded()
	if len(recorded) != 1 || recorded[0].object != "default/first" {
		t.Fatalf("events when Run returned = %+v, want only the in-flight sync's event for default/first", recorded)
	}
	if recorded[0].ctxErr != nil {
		t.Errorf("the in-flight sync's context was cancelled by shutdown: %v", recorded[0].ctxErr)
	}
	if got := updates.Load(); got != 1 {
		t.Errorf("status updates = %d, want 1: the in-flight sync finishes, and no new key may be taken after shutdown began", got)
	}
}

func TestWorkerStopsWhenWritesAreCutOff(t *testing.T) {
	demo := newMydemo("example-mydemo", 1)
	f := newFixture(t, demo)
	f.fillCache(demo)
	f.controller.enqueue(demo, priorityqueue.Live)
	_, ctx := ktesting.NewTestContext(t)
	writeCtx, cutOff := context.WithCancelCause(ctx)
	f.recorder.before = func() error {
		lost := errors.New("the lease may have moved")
		cutOff(lost)
		return context.Cause(writeCtx)
	}

	if f.controller.processNextWorkItem(ctx, writeCtx) {
		t.Error("the worker goes on after its writes were cut off")
	}
	if n := f.controller.queue.NumRequeues(cache.MetaObjectToName(demo)); n != 0 {
		t.Errorf("the cut-off key was requeued %d times, want none: it is the next leader's", n)
	}
}
