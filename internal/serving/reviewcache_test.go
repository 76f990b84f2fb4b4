package serving

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/flowcontrol"
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

// minute is the lifetime of an answer used for a minute and then asked
// about again.
var minute = lifetime{refresh: time.Minute, expire: time.Minute}

// newUnlimitedReviewCache is a reviewCache whose budgets admit every review.
func newUnlimitedReviewCache[V any](now func() time.Time) *reviewCache[V] {
	return newReviewCache[V](now, flowcontrol.NewFakeAlwaysRateLimiter(), flowcontrol.NewFakeAlwaysRateLimiter())
}

func TestReviewCacheKeepsAnAnswerForItsTTL(t *testing.T) {
	clock := newFakeClock()
	cache := newUnlimitedReviewCache[string](clock.Now)
	var reviews int
	review := func(ttl time.Duration) func(context.Context) (string, lifetime, error) {
		return func(context.Context) (string, lifetime, error) {
			reviews++
			return fmt.Sprintf("answer %d", reviews), lifetime{refresh: ttl, expire: ttl}, nil
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
	cache := newUnlimitedReviewCache[string](newFakeClock().Now)
	failure := errors.New("connection refused")
	if _, err := cache.get(t.Context(), "k", func(context.Context) (string, lifetime, error) {
		return "", minute, failure
	}); !errors.Is(err, failure) {
		t.Fatalf("get = %v, want the review's error", err)
	}
	got, err := cache.get(t.Context(), "k", func(context.Context) (string, lifetime, error) {
		return "fresh", minute, nil
	})
	if err != nil || got != "fresh" {
		t.Errorf("get after a failed review = %q, %v; want a new review's answer", got, err)
	}
}

// TestReviewCacheSharesAReviewUnderWay asks one question 100 times at once:
// one review answers them all.
func TestReviewCacheSharesAReviewUnderWay(t *testing.T) {
	cache := newUnlimitedReviewCache[string](newFakeClock().Now)
	var reviews atomic.Int32
	release := make(chan struct{})
	review := func(context.Context) (string, lifetime, error) {
		reviews.Add(1)
		<-release
		return "yes", minute, nil
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
	cache := newUnlimitedReviewCache[string](newFakeClock().Now)
	entered := make(chan struct{})
	release := make(chan struct{})
	defer close(release)
	go cache.get(context.Background(), "k", func(context.Context) (string, lifetime, error) {
		close(entered)
		<-release
		return "late", minute, nil
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
	cache := newUnlimitedReviewCache[int](clock.Now)
	answer := func(n int) func(context.Context) (int, lifetime, error) {
		return func(context.Context) (int, lifetime, error) { return n, minute, nil }
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

// countedBudget admits a given number of reviews, then none; the cache
// only ever calls TryAccept.
type countedBudget struct {
	flowcontrol.RateLimiter
	mu   sync.Mutex
	left int
}

func (b *countedBudget) TryAccept() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == 0 {
		return false
	}
	b.left--
	return true
}

// versionedReview answers "answer N" for its Nth review, with life, and
// fails with err while err is set.
type versionedReview struct {
	mu      sync.Mutex
	reviews int
	life    lifetime
	err     error
}

func (r *versionedReview) review(context.Context) (string, lifetime, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reviews++
	if r.err != nil {
		return "", r.life, r.err
	}
	return fmt.Sprintf("answer %d", r.reviews), r.life, nil
}

func (r *versionedReview) setErr(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

func (r *versionedReview) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reviews
}

// getEventually calls get until it returns want, as it does once a
// background refresh has landed.
func getEventually(t *testing.T, cache *reviewCache[string], key string, review *versionedReview, want string) {
	t.Helper()
	var got string
	var err error
	waitErr := wait.PollUntilContextTimeout(t.Context(), time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err = cache.get(ctx, key, review.review)
		return got == want, nil
	})
	if waitErr != nil {
		t.Fatalf("get(%q) = %q, %v; want %q within 5s", key, got, err, want)
	}
}

// TestReviewCacheServesAnAnswerWhileItRefreshes: past its refresh time an
// answer is still returned at once, while one review, in the background,
// replaces it.
func TestReviewCacheServesAnAnswerWhileItRefreshes(t *testing.T) {
	clock := newFakeClock()
	cache := newUnlimitedReviewCache[string](clock.Now)
	review := &versionedReview{life: lifetime{refresh: time.Minute, expire: 5 * time.Minute}}
	if got, err := cache.get(t.Context(), "k", review.review); err != nil || got != "answer 1" {
		t.Fatalf("get = %q, %v; want answer 1", got, err)
	}

	clock.step(time.Minute)
	blocked := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	slowReview := func(ctx context.Context) (string, lifetime, error) {
		once.Do(func() { close(blocked) })
		<-release
		return review.review(ctx)
	}
	for range 10 {
		if got, err := cache.get(t.Context(), "k", slowReview); err != nil || got != "answer 1" {
			t.Fatalf("get while its refresh is under way = %q, %v; want answer 1 at once", got, err)
		}
	}
	<-blocked
	close(release)
	getEventually(t, cache, "k", review, "answer 2")
	if n := review.count(); n != 2 {
		t.Errorf("10 gets of an answer due for refresh caused %d reviews in all, want 2", n)
	}
}

// TestReviewCacheKeepsAnAnswerWhoseRefreshFails: a refresh that fails
// leaves the answer in use until it expires; then get asks, and fails.
func TestReviewCacheKeepsAnAnswerWhoseRefreshFails(t *testing.T) {
	clock := newFakeClock()
	cache := newUnlimitedReviewCache[string](clock.Now)
	review := &versionedReview{life: lifetime{refresh: time.Minute, expire: 5 * time.Minute}}
	if _, err := cache.get(t.Context(), "k", review.review); err != nil {
		t.Fatal(err)
	}
	failure := errors.New("connection refused")
	review.setErr(failure)
	for range 4 {
		clock.step(time.Minute)
		if got, err := cache.get(t.Context(), "k", review.review); err != nil || got != "answer 1" {
			t.Fatalf("get with failing refreshes, %v after the answer = %q, %v; want answer 1",
				clock.Now().Sub(newFakeClock().Now()), got, err)
		}
	}
	clock.step(time.Minute)
	if _, err := cache.get(t.Context(), "k", review.review); !errors.Is(err, failure) {
		t.Errorf("get once the answer expired = %v, want the review's error", err)
	}
}

// TestReviewCacheRefusesNewQuestionsPastItsBudget spends the budget for
// new questions: a new key fails with ErrTooManyReviews without a review,
// while a known key is served, and refreshed from the other budget.
func TestReviewCacheRefusesNewQuestionsPastItsBudget(t *testing.T) {
	clock := newFakeClock()
	ask, refresh := &countedBudget{left: 1}, &countedBudget{left: 1}
	cache := newReviewCache[string](clock.Now, ask, refresh)
	review := &versionedReview{life: lifetime{refresh: time.Minute, expire: 5 * time.Minute}}
	if got, err := cache.get(t.Context(), "known", review.review); err != nil || got != "answer 1" {
		t.Fatalf("get(known) = %q, %v; want answer 1", got, err)
	}
	for i := range 100 {
		if _, err := cache.get(t.Context(), fmt.Sprint("stranger ", i), review.review); !errors.Is(err, ErrTooManyReviews) {
			t.Fatalf("get of a new key past the budget = %v, want ErrTooManyReviews", err)
		}
	}
	if n := review.count(); n != 1 {
		t.Errorf("100 new keys past the budget caused %d reviews, want none", n-1)
	}

	clock.step(time.Minute)
	if got, err := cache.get(t.Context(), "known", review.review); err != nil || got != "answer 1" {
		t.Fatalf("get(known), due for refresh = %q, %v; want answer 1", got, err)
	}
	getEventually(t, cache, "known", review, "answer 2")

	// With both budgets spent, the known key is served until it expires.
	clock.step(time.Minute)
	for range 4 {
		if got, err := cache.get(t.Context(), "known", review.review); err != nil || got != "answer 2" {
			t.Fatalf("get(known) with its refresh budget spent = %q, %v; want answer 2", got, err)
		}
		clock.step(time.Minute)
	}
	if _, err := cache.get(t.Context(), "known", review.review); !errors.Is(err, ErrTooManyReviews) {
		t.Errorf("get(known) once expired, with the budget spent = %v, want ErrTooManyReviews", err)
	}
}

// TestReviewCacheNeverUsesAnAnswerPastNotAfter: an answer whose notAfter
// comes before its expiry, as a token's own expiry can, is asked about
// again at notAfter.
func TestReviewCacheNeverUsesAnAnswerPastNotAfter(t *testing.T) {
	clock := newFakeClock()
	cache := newReviewCache[string](clock.Now, flowcontrol.NewFakeAlwaysRateLimiter(), flowcontrol.NewFakeNeverRateLimiter())
	review := &versionedReview{life: lifetime{refresh: time.Minute, expire: 5 * time.Minute, notAfter: clock.Now().Add(90 * time.Second)}}
	if _, err := cache.get(t.Context(), "k", review.review); err != nil {
		t.Fatal(err)
	}
	clock.step(89 * time.Second)
	if got, _ := cache.get(t.Context(), "k", review.review); got != "answer 1" {
		t.Errorf("get before notAfter = %q, want answer 1", got)
	}
	clock.step(time.Second)
	if got, _ := cache.get(t.Context(), "k", review.review); got != "answer 2" {
		t.Errorf("get at notAfter = %q, want answer 2, a new review", got)
	}
}
