package priorityqueue

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// noDelay retries at once, so that a retry is queued before the test looks.
func noDelay() workqueue.TypedRateLimiter[string] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[string](0, 0)
}

func newTestQueue(t *testing.T, limiter workqueue.TypedRateLimiter[string]) *Queue[string] {
	t.Helper()
	q := New(t.Name(), limiter)
	t.Cleanup(q.ShutDown)
	return q
}

// take gets n keys, marking each done at once.
func take(t *testing.T, q *Queue[string], n int) []string {
	t.Helper()
	var keys []string
	for range n {
		key, shutdown := q.Get()
		if shutdown {
			t.Fatalf("the queue shut down after handing out %v", keys)
		}
		q.Done(key)
		keys = append(keys, key)
	}
	return keys
}

func TestQueueDeduplicatesWaitingKeys(t *testing.T) {
	q := newTestQueue(t, noDelay())
	q.AddWithPriority("a", Backlog)
	q.AddWithPriority("a", Backlog)
	q.Add("a")
	q.Add("b")
	if n := q.Len(); n != 2 {
		t.Fatalf("Len() = %d after adding a three times and b once, want 2", n)
	}
	if got, want := take(t, q, 2), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v: a, added live while it waited, moves up to the live line first", got, want)
	}
}

func TestQueueRequeuesAKeyAddedDuringItsSyncAfterDone(t *testing.T) {
	q := newTestQueue(t, noDelay())
	q.AddWithPriority("a", Backlog)
	q.AddWithPriority("b", Backlog)
	key, _ := q.Get()
	q.Add("a") // a live change while a is being synced
	if n := q.Len(); n != 1 {
		t.Fatalf("Len() = %d while a is being synced, want 1: a may not wait while a worker has it", n)
	}
	q.Done(key)
	if got, want := take(t, q, 2), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v after Done, want %v: a is queued again, at the live priority asked for during its sync", got, want)
	}
}

func TestQueueRetriesAtThePriorityHandedOut(t *testing.T) {
	q := newTestQueue(t, noDelay())
	q.AddWithPriority("backlog-failing", Backlog)
	q.AddWithPriority("b1", Backlog)
	key, _ := q.Get()
	q.AddRateLimited(key)
	q.Done(key)
	q.Add("live")
	if got, want := take(t, q, 3), []string{"live", "b1", "backlog-failing"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v: a failed backlog key is retried at the back of the backlog", got, want)
	}

	q.Add("live-failing")
	q.AddWithPriority("b2", Backlog)
	key, _ = q.Get()
	q.AddRateLimited(key)
	q.Done(key)
	if got, want := take(t, q, 2), []string{"live-failing", "b2"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v: a failed live key is retried ahead of the backlog", got, want)
	}
	if n := q.NumRequeues("live-failing"); n != 1 {
		t.Errorf("NumRequeues = %d after one retry, want 1", n)
	}
	q.Forget("live-failing")
	if n := q.NumRequeues("live-failing"); n != 0 {
		t.Errorf("NumRequeues = %d after Forget, want 0", n)
	}
}

func TestQueueSpacesRetriesWithTheRateLimiter(t *testing.T) {
	const delay = 200 * time.Millisecond
	q := newTestQueue(t, workqueue.NewTypedItemExponentialFailureRateLimiter[string](delay, delay))
	q.Add("a")
	key, _ := q.Get()
	failed := time.Now()
	q.AddRateLimited(key)
	q.Done(key)
	if n := q.Len(); n != 0 {
		t.Errorf("Len() = %d right after AddRateLimited, want 0: the retry waits for the rate limiter", n)
	}
	key, _ = q.Get()
	q.Done(key)
	if waited := time.Since(failed); waited < delay {
		t.Errorf("the retry came after %v, want at least the rate limiter's %v", waited, delay)
	}
}

func TestQueueDemoteWaiting(t *testing.T) {
	q := newTestQueue(t, noDelay())
	q.Add("seen-while-standing-by")
	q.AddWithPriority("initial-list", Backlog)
	q.DemoteWaiting()
	q.Add("after-takeover")
	want := []string{"after-takeover", "initial-list", "seen-while-standing-by"}
	if got := take(t, q, 3); !slices.Equal(got, want) {
		t.Errorf("handed out %v, want %v", got, want)
	}
}

func TestQueueShutDownHandsOutWhatWaitsThenStops(t *testing.T) {
	q := New(t.Name(), noDelay())
	q.AddWithPriority("b", Backlog)
	q.Add("l")
	q.ShutDown()
	q.Add("after-shutdown")
	if got, want := take(t, q, 2), []string{"l", "b"}; !slices.Equal(got, want) {
		t.Errorf("handed out %v after ShutDown, want %v", got, want)
	}
	if key, shutdown := q.Get(); !shutdown {
		t.Errorf("Get() = %q once the queue is empty after ShutDown, want shutdown", key)
	}
}

func TestQueueShutDownWithDrainWaitsForSyncs(t *testing.T) {
	q := New(t.Name(), noDelay())
	q.Add("a")
	key, _ := q.Get()
	drained := make(chan struct{})
	go func() {
		q.ShutDownWithDrain()
		close(drained)
	}()
	select {
	case <-drained:
		t.Fatal("ShutDownWithDrain returned while a key was being synced")
	case <-time.After(100 * time.Millisecond):
	}
	q.Done(key)
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("ShutDownWithDrain did not return within 10 s of the last Done")
	}
}

// TestQueueNeverStarvesTheBacklog keeps a live key waiting at every turn,
// the way a steady stream of changes would, and counts the turns the
// backlog needs to drain.
func TestQueueNeverStarvesTheBacklog(t *testing.T) {
	const backlog = 100
	q := newTestQueue(t, noDelay())
	for i := range backlog {
		q.AddWithPriority(fmt.Sprintf("backlog-%d", i), Backlog)
	}
	q.Add("live-0")
	left, turns := backlog, 0
	for left > 0 {
		if turns > backlog*backlogEvery {
			t.Fatalf("%d backlog keys still wait after %d turns under a stream of live keys; want one turn in %d for the backlog",
				left, turns, backlogEvery)
		}
		turns++
		q.Add(fmt.Sprintf("live-%d", turns))
		key, _ := q.Get()
		q.Done(key)
		if strings.HasPrefix(key, "backlog-") {
			left--
		}
	}
	t.Logf("the backlog of %d drained in %d turns under a stream of live keys", backlog, turns)
}

// TestQueueConcurrentUse runs producers, retries and workers at once (run it
// with -race): no key is synced by two workers at once, and every key's last
// sync starts after its last add.
func TestQueueConcurrentUse(t *testing.T) {
	const (
		keys      = 20
		producers = 4
		adds      = 2000
		workers   = 8
	)
	q := New(t.Name(), workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Microsecond, time.Millisecond))
	var (
		added     [keys]atomic.Int64 // how many times each key was added
		seen      [keys]atomic.Int64 // what its latest sync saw of added
		inSync    [keys]atomic.Int32
		overlaps  atomic.Int32
		producing sync.WaitGroup
		working   sync.WaitGroup
	)
	for range workers {
		working.Go(func() {
			for {
				key, shutdown := q.Get()
				if shutdown {
					return
				}
				var i int
				fmt.Sscanf(key, "k%d", &i)
				if inSync[i].Add(1) != 1 {
					overlaps.Add(1)
				}
				seen[i].Store(added[i].Load())
				if rand.IntN(10) == 0 {
					q.AddRateLimited(key)
				} else {
					q.Forget(key)
				}
				inSync[i].Add(-1)
				q.Done(key)
			}
		})
	}
	for range producers {
		producing.Go(func() {
			for range adds {
				i := rand.IntN(keys)
				added[i].Add(1)
				q.AddWithPriority(fmt.Sprintf("k%d", i), Priority(rand.IntN(2)))
			}
		})
	}
	producing.Wait()
	// The retries that are still waiting for the rate limiter add nothing
	// new, so the queue can be shut down as soon as the adds are done.
	q.ShutDown()
	working.Wait()
	if n := overlaps.Load(); n > 0 {
		t.Errorf("a key was synced by two workers at once %d times", n)
	}
	for i := range keys {
		if added[i].Load() > 0 && seen[i].Load() != added[i].Load() {
			t.Errorf("key k%d was added %d times, but its last sync saw only %d adds", i, added[i].Load(), seen[i].Load())
		}
	}
}
