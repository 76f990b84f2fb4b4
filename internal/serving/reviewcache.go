package serving

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/klog/v2"
)

// maxCachedReviews bounds the answers a reviewCache keeps, so that callers
// sending endless new tokens or paths cannot grow crddemo's memory without
// end. A scraper needs one entry per token and path.
const maxCachedReviews = 4096

// reviewTimeout bounds one review, as Prometheus bounds a scrape by default:
// past it, the scraper has given up anyway.
const reviewTimeout = 10 * time.Second

// ErrTooManyReviews is the error of a question that would need a review
// while the budget for new questions is spent; the guard answers it with
// 429, at once, instead of queueing the caller behind a flood.
var ErrTooManyReviews = errors.New("too many reviews of new callers; try again in a second")

// lifetime is how long an answer holds: it is used as it is until refresh,
// then used while a review refreshes it in the background, until expire,
// and never at or past notAfter, unless that is zero. An answer with expire
// no later than refresh is asked about again once it is due.
type lifetime struct {
	refresh, expire time.Duration
	notAfter        time.Time
}

// reviewCache remembers the API server's answers to reviews, each for a
// lifetime that depends on the answer, and makes concurrent askers of one
// question share a single review: a burst of scrapes with one token costs
// one call, not one per scrape.
//
// Reviews are spent from two budgets. ask admits the reviews of questions
// without a usable answer, which is all that callers unknown to the API
// server can cause: when it is spent, get fails with ErrTooManyReviews at
// once. refresh admits the background reviews of answers due again, which
// only callers that were answered, and so are known, can cause: a flood of
// strangers cannot take it from them, and a known caller keeps its answer
// while the refresh waits for the budget.
type reviewCache[V any] struct {
	now            func() time.Time
	ask, refresher flowcontrol.RateLimiter

	mu      sync.Mutex
	entries map[string]*reviewEntry[V]
}

// reviewEntry is one question's answer, or the review under way for it.
type reviewEntry[V any] struct {
	// done is closed once value, err, refreshAt and expires are set.
	done      chan struct{}
	value     V
	err       error
	refreshAt time.Time
	expires   time.Time
	// refreshing is set while a background review refreshes the entry;
	// c.mu guards it.
	refreshing bool
}

func newReviewCache[V any](now func() time.Time, ask, refresh flowcontrol.RateLimiter) *reviewCache[V] {
	return &reviewCache[V]{now: now, ask: ask, refresher: refresh, entries: map[string]*reviewEntry[V]{}}
}

// get returns the cached answer for key, or asks review and caches its
// answer for the lifetime review returns. An answer due for a refresh is
// returned while review refreshes it in the background. A failed review is
// not cached: the next request asks again, and a failed refresh leaves the
// answer as it was until it expires. Waiters on a review under way stop
// waiting when their own ctx is done; the review itself runs without ctx's
// cancellation, so that a scraper hanging up does not fail the others, but
// within reviewTimeout.
func (c *reviewCache[V]) get(ctx context.Context, key string, review func(context.Context) (V, lifetime, error)) (V, error) {
	c.mu.Lock()
	entry, found := c.entries[key]
	if found && !c.settled(entry) {
		c.mu.Unlock()
		select {
		case <-entry.done:
			return entry.value, entry.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	if found && c.now().Before(entry.expires) {
		c.refreshIfDue(ctx, key, entry, review)
		c.mu.Unlock()
		return entry.value, entry.err
	}
	if !c.ask.TryAccept() {
		c.mu.Unlock()
		var zero V
		return zero, ErrTooManyReviews
	}
	entry = &reviewEntry[V]{done: make(chan struct{})}
	cached := c.makeRoom()
	if cached {
		c.entries[key] = entry
	}
	c.mu.Unlock()

	value, life, err := runReview(ctx, review)

	c.mu.Lock()
	c.settle(entry, value, life, err)
	if err != nil && cached && c.entries[key] == entry {
		delete(c.entries, key)
	}
	c.mu.Unlock()
	return value, err
}

// refreshIfDue starts a background review of entry's question if its answer
// is due, none is under way, and the refresh budget allows. c.mu must be
// held.
func (c *reviewCache[V]) refreshIfDue(ctx context.Context, key string, entry *reviewEntry[V], review func(context.Context) (V, lifetime, error)) {
	if c.now().Before(entry.refreshAt) || entry.refreshing || !c.refresher.TryAccept() {
		return
	}
	entry.refreshing = true
	go func() {
		value, life, err := runReview(ctx, review)
		c.mu.Lock()
		defer c.mu.Unlock()
		entry.refreshing = false
		if err != nil {
			klog.FromContext(ctx).V(2).Info("Refreshing a cached review failed; its answer stays until it expires",
				"expires", entry.expires, "err", err)
			return
		}
		if c.entries[key] != entry {
			return
		}
		// A new entry, since waiters read a settled one without c.mu.
		refreshed := &reviewEntry[V]{done: make(chan struct{})}
		c.settle(refreshed, value, life, nil)
		c.entries[key] = refreshed
	}()
}

// runReview runs review without ctx's cancellation, within reviewTimeout.
func runReview[V any](ctx context.Context, review func(context.Context) (V, lifetime, error)) (V, lifetime, error) {
	reviewCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reviewTimeout)
	defer cancel()
	return review(reviewCtx)
}

// settle sets entry's answer and closes done. c.mu must be held.
func (c *reviewCache[V]) settle(entry *reviewEntry[V], value V, life lifetime, err error) {
	now := c.now()
	entry.value, entry.err = value, err
	entry.refreshAt, entry.expires = now.Add(life.refresh), now.Add(life.expire)
	if !life.notAfter.IsZero() && life.notAfter.Before(entry.expires) {
		entry.expires = life.notAfter
	}
	close(entry.done)
}

// settled reports whether entry has its answer, rather than a review under
// way. c.mu must be held.
func (c *reviewCache[V]) settled(entry *reviewEntry[V]) bool {
	select {
	case <-entry.done:
		return true
	default:
		return false
	}
}

// expired reports whether entry is an answer past its time; a review under
// way has not expired. c.mu must be held.
func (c *reviewCache[V]) expired(entry *reviewEntry[V]) bool {
	return c.settled(entry) && !c.now().Before(entry.expires)
}

// makeRoom drops expired answers once the cache is full, and reports
// whether there is room for one more. c.mu must be held.
func (c *reviewCache[V]) makeRoom() bool {
	if len(c.entries) < maxCachedReviews {
		return true
	}
	for key, entry := range c.entries {
		if c.expired(entry) {
			delete(c.entries, key)
		}
	}
	return len(c.entries) < maxCachedReviews
}
