package serving

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestReviewCacheKeepsAnAnswerForItsTTL(t *testing.T) {
	clock := newFakeClock()
	cache := newReviewCache[string](clock.Now)
	var reviews int
	review := func(ttl time.Duration) func(context.Context) (string, time.Duration, error) {
		return func(context.Context) (string, time.Duration, error) {
			reviews++
			return fmt.Sprintf("answer %d", reviews), ttl, nil
		}
	}

	steps := []struct {
		key     string
		ttl     time.Duration
		advance time.Duration
		want    string
	}{
		{"long", time.Minute, 0, "answer 1"},
		{"long", time.Minute, 59 * time.Second, "answer 1"},
		{"short", 10 * time.Second, 0, "answer 2"},
		{"short", 10 * time.Second, 9 * time.Second, "answer 2"},
		{"short", 10 * time.Second, time.Second, "answer 3"},
		{"long", time.Minute, 0, "answer 4"}, // 60 s after the first
	}
	for i, step := range steps {
		clock.step(step.advance)
		got, err := cache.get(t.Context(), step.key, review(step.ttl))
		if err != nil || got != step.want {
			t.Errorf("step %d: get(%q) = %q, %v; want %q", i, step.key, got, err, step.want)
		}
	}
}

func TestReviewCacheDoesNotKeepAFailure(t *testing.T) {
	cache := newReviewCache[string](newFakeClock().Now)
	failure := errors.New("connection refused")
	if _, err := cache.get(t.Context(), "k", func(context.Context) (string, time.Duration, error) {
		return "", time.Minute, failure
	}); !errors.Is(err, failure) {
		t.Fatalf("get = %v, want the review's error", err)
	}
	got, err := cache.get(t.Context(), "k", func(context.Context) (string, time.Duration, error) {
		return "fresh", time.Minute, nil
	})
	if err != nil || got != "fresh" {
		t.Errorf("get after a failed review = %q, %v; want a new review's answer", got, err)
	}
}

// TestReviewCacheSharesAReviewUnderWay asks one question 100 times at once:
// one review answers them all.
func TestReviewCacheSharesAReviewUnderWay(t *testing.T) {
	cache := newReviewCache[string](newFakeClock().Now)
	var reviews atomic.Int32
	release := make(chan struct{})
	review := func(context.Context) (string, time.Duration, error) {
		reviews.Add(1)
		<-release
		return "yes", time.Minute, nil
	}

	const askers = 100
	var started, done sync.WaitGroup
	answers := make(chan string, askers)
	for range askers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			answer, err := cache.get(context.Background(), "k", review)
			if err != nil {
				answer = err.Error()
			}
			answers <- answer
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
	close(answers)
	for answer := range answers {
		if answer != "yes" {
			t.Errorf("an asker got %q, want yes", answer)
		}
	}
	if n := reviews.Load(); n != 1 {
		t.Errorf("%d askers at once caused %d reviews, want 1", askers, n)
	}
}

func TestReviewCacheWaiterStopsWithItsContext(t *testing.T) {
	cache := newReviewCache[string](newFakeClock().Now)
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	go cache.get(context.Background(), "k", func(context.Context) (string, time.Duration, error) {
		close(entered)
		<-release
		return "late", time.Minute, nil
	})
	<-entered

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := cache.get(ctx, "k", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("get with a cancelled context while a review is under way = %v, want context.Canceled", err)
	}
}

func TestReviewCacheIsBounded(t *testing.T) {
	clock := newFakeClock()
	cache := newReviewCache[int](clock.Now)
	answer := func(n int) func(context.Context) (int, time.Duration, error) {
		return func(context.Context) (int, time.Duration, error) { return n, time.Minute, nil }
	}
	for i := range maxCachedReviews + 10 {
		if _, err := cache.get(t.Context(), fmt.Sprint(i), answer(i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cache.entries); n != maxCachedReviews {
		t.Errorf("the cache holds %d answers, want at most %d", n, maxCachedReviews)
	}
	// Once the answers expire, new ones take their place.
	clock.step(time.Minute)
	if got, _ := cache.get(t.Context(), "new", answer(-1)); got != -1 {
		t.Fatalf("get(new) = %d, want -1", got)
	}
	if _, cached := cache.entries["new"]; !cached || len(cache.entries) != 1 {
		t.Errorf("after every answer expired, the cache holds %d answers (new cached: %t), want only the new one", len(cache.entries), cached)
	}
}
