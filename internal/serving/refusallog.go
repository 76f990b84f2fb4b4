package serving

import (
	"sync"
	"time"
)

const (
	// refusalLogInterval is how often a caller that keeps being refused is
	// logged again: a scraper without the role, every 15 s, would otherwise
	// fill the log with the same line.
	refusalLogInterval = 5 * time.Minute
	// maxRefusalLogKeys bounds the callers remembered; past it, callers
	// never seen before share one line per interval, so that a flood of
	// strangers cannot flood the log.
	maxRefusalLogKeys = 1024
	// othersKey is the key those callers share.
	othersKey = "\x00others"
)

// refusalLog decides which refusals are logged: the first of each caller,
// then one per refusalLogInterval, which says how many were not logged.
type refusalLog struct {
	now func() time.Time

	mu   sync.Mutex
	seen map[string]*refusals
}

// refusals is what refusalLog knows of one caller.
type refusals struct {
	logged time.Time
	// unlogged counts the refusals since the last line.
	unlogged int
}

func newRefusalLog(now func() time.Time) *refusalLog {
	return &refusalLog{now: now, seen: map[string]*refusals{}}
}

// record counts a refusal of the caller key, and reports whether it is to
// be logged, with the number of this caller's refusals since the last line
// that were not.
func (l *refusalLog) record(key string) (log bool, unlogged int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if _, known := l.seen[key]; !known && len(l.seen) >= maxRefusalLogKeys {
		l.forgetQuiet(now)
		if len(l.seen) >= maxRefusalLogKeys {
			key = othersKey
		}
	}
	r, known := l.seen[key]
	if !known {
		l.seen[key] = &refusals{logged: now}
		return true, 0
	}
	if now.Sub(r.logged) < refusalLogInterval {
		r.unlogged++
		return false, 0
	}
	unlogged = r.unlogged
	r.logged, r.unlogged = now, 0
	return true, unlogged
}

// forgetQuiet drops the callers not logged within the interval, whose next
// refusal is logged anyway. l.mu must be held.
func (l *refusalLog) forgetQuiet(now time.Time) {
	for key, r := range l.seen {
		if key != othersKey && now.Sub(r.logged) >= refusalLogInterval {
			delete(l.seen, key)
		}
	}
}
