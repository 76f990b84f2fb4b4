package serving

import (
	"fmt"
	"testing"
	"time"
)

func TestRefusalLogLogsEachCallerOncePerInterval(t *testing.T) {
	clock := newFakeClock()
	l := newRefusalLog(clock.Now)
	type outcome struct {
		log      bool
		unlogged int
	}
	steps := []struct {
		advance time.Duration
		key     string
		want    outcome
	}{
		{0, "forbidden alice", outcome{true, 0}},
		{15 * time.Second, "forbidden alice", outcome{false, 0}},
		{0, "forbidden bob", outcome{true, 0}},
		{15 * time.Second, "forbidden alice", outcome{false, 0}},
		{refusalLogInterval - 30*time.Second, "forbidden alice", outcome{true, 2}},
		{time.Second, "forbidden alice", outcome{false, 0}},
	}
	for i, step := range steps {
		clock.step(step.advance)
		log, unlogged := l.record(step.key)
		if got := (outcome{log, unlogged}); got != step.want {
			t.Errorf("step %d: record(%q) = %+v, want %+v", i, step.key, got, step.want)
		}
	}
}

// TestRefusalLogIsBounded refuses more callers than it remembers: the
// strangers beyond share one line per interval.
func TestRefusalLogIsBounded(t *testing.T) {
	clock := newFakeClock()
	l := newRefusalLog(clock.Now)
	logged := 0
	for i := range maxRefusalLogKeys + 100 {
		if log, _ := l.record(fmt.Sprint("unauthenticated ", i)); log {
			logged++
		}
	}
	if want := maxRefusalLogKeys + 1; logged != want {
		t.Errorf("%d callers refused once were logged %d times, want %d", maxRefusalLogKeys+100, logged, want)
	}
	if len(l.seen) > maxRefusalLogKeys+1 {
		t.Errorf("the log remembers %d callers, want at most %d", len(l.seen), maxRefusalLogKeys+1)
	}
	// Once the interval has passed, the quiet callers are forgotten and a
	// new one gets a line of its own.
	clock.step(refusalLogInterval)
	if log, _ := l.record("unauthenticated new"); !log || len(l.seen) > 2 {
		t.Errorf("after the interval a new caller is logged: %t, with %d callers remembered, want true and at most 2", log, len(l.seen))
	}
}
