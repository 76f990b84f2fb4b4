package serving

import (
	"context"
	"sync"
	"time"
)

// maxCachedReviews bounds the answers a reviewCache keeps, so that callers
// sending endless new tokens or paths cannot grow crddemo's memory without
// end. A scraper needs one entry per token and path.
const maxCachedReviews = 4096

// reviewTimeout bounds one review, as Prometheus bounds a scrape by default:
// past it, the scraper has given up anyway.
const reviewTimeout = 10 * time.Second

// reviewCache remembers the API server's answers to reviews, each for a
// time that depends on the answer, and makes concurrent askers of one
// question share a single review: a burst of scrapes with one token costs
// one call, not one per scrape.
type reviewCache[V any] struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*reviewEntry[V]
}

// reviewEntry is one question's answer, or the review under way for it.
type reviewEntry[V any] struct {
	// done is closed once value and err are set.
	done    chan struct{}
	value   V
	err     error
	expires time.Time
}

func newReviewCache[V any](now func() time.Time) *reviewCache[V] {
	return &reviewCache[V]{now: now, entries: map[string]*reviewEntry[V]{}}
}

// get returns the cached answer for key, or asks review and caches its
// answer for the time review returns. A failed review is not cached: the
// next request asks again. Waiters on a review under way stop waiting when
// their own ctx is done; the review itself runs without ctx's cancellation,
// so that a scraper hanging up does not fail the others, but within
// reviewTimeout.
func (c *reviewCache[V]) get(ctx context.Context, key string, review func(context.Context) (V, time.Duration, error)) (V, error) {
	c.mu.Lock()
	entry, found := c.entries[key]
	if found && !c.expired(entry) {
		c.mu.Unlock()
		select {
		case <-entry.done:
			return entry.value, entry.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	entry = &reviewEntry[V]{done: make(chan struct{})}
	cached := c.makeRoom()
	if cached {
		c.entries[key] = entry
	}
	c.mu.Unlock()

	reviewCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reviewTimeout)
	value, ttl, err := review(reviewCtx)
	cancel()

	c.mu.Lock()
	entry.value, entry.err, entry.expires = value, err, c.now().Add(ttl)
	if err != nil && cached && c.entries[key] == entry {
		delete(c.entries, key)
	}
	close(entry.done)
	c.mu.Unlock()
	return value, err
}

// expired reports whether entry is an answer past its time; a review under
// way has not expired. c.mu must be held.
func (c *reviewCache[V]) expired(entry *reviewEntry[V]) bool {
	select {
	case <-entry.done:
		return !c.now().Before(entry.expires)
	default:
		return false
	}
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
