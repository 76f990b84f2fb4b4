package priorityqueue

import (
	"container/list"
	"sync"

	"k8s.io/client-go/util/workqueue"
)

// backlogEvery is how often the backlog gets its turn while live keys wait:
// one key in every backlogEvery handed out. However many live changes keep
// coming, a backlog key then waits at most backlogEvery turns for each
// backlog key ahead of it, and live keys still get four workers in five.
const backlogEvery = 5

// order decides which waiting key a worker gets next: the oldest live key,
// except that every backlogEvery-th key is the oldest backlog key while both
// wait. It is the storage behind client-go's queue (workqueue.Queue), which
// calls Push, Touch, Pop and Len under its own lock and has already
// deduplicated the keys; the priorities that adders ask for arrive from
// outside that lock, so order has a lock of its own.
type order[T comparable] struct {
	mu sync.Mutex
	// lines holds the waiting keys, oldest first, one line per Priority.
	lines [2]*list.List
	// waiting finds a waiting key in its line, to promote it.
	waiting map[T]*list.Element
	// asked is the priority that a key's next Push or Touch gives it: the
	// highest asked for since its last one.
	asked map[T]Priority
	// handedOut is the priority of each key being synced, for its retry.
	handedOut map[T]Priority
	// liveInARow counts the live keys handed out since the backlog's last turn.
	liveInARow int
	depth      [2]workqueue.GaugeMetric
}

// waitingKey is what a line holds.
type waitingKey[T comparable] struct {
	key      T
	priority Priority
}

func newOrder[T comparable](depth [2]workqueue.GaugeMetric) *order[T] {
	return &order[T]{
		lines:     [2]*list.List{list.New(), list.New()},
		waiting:   map[T]*list.Element{},
		asked:     map[T]Priority{},
		handedOut: map[T]Priority{},
		depth:     depth,
	}
}

// ask records that key's next Push or Touch is at priority p or higher.
func (o *order[T]) ask(key T, p Priority) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if current, ok := o.asked[key]; !ok || p > current {
		o.asked[key] = p
	}
}

// askAgain asks for a retry of key at the priority it was handed out at.
func (o *order[T]) askAgain(key T) {
	o.mu.Lock()
	p, ok := o.handedOut[key]
	o.mu.Unlock()
	if !ok {
		p = Live
	}
	o.ask(key, p)
}

// done forgets the priority of a key whose sync has ended.
func (o *order[T]) done(key T) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.handedOut, key)
}

// takeAsked returns the priority asked for key and clears it. A key that
// nobody asked a priority for, such as a retry whose request a later add
// already used, is live: the safe side, since the backlog has its share.
func (o *order[T]) takeAsked(key T) (Priority, bool) {
	p, ok := o.asked[key]
	delete(o.asked, key)
	if !ok {
		return Live, false
	}
	return p, true
}

// Push queues a key that is not waiting, at the back of its priority's line.
func (o *order[T]) Push(key T) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, _ := o.takeAsked(key)
	o.append(key, p)
}

// Touch is client-go's call for a key added again while it waits: a higher
// priority moves it to the back of the higher line; a lower one leaves it.
func (o *order[T]) Touch(key T) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.takeAsked(key)
	element := o.waiting[key]
	if !ok || element == nil || p <= element.Value.(waitingKey[T]).priority {
		return
	}
	o.remove(element)
	o.append(key, p)
}

// Len is the number of waiting keys.
func (o *order[T]) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.waiting)
}

// Pop hands out the next key. client-go calls it only when a key waits.
func (o *order[T]) Pop() T {
	o.mu.Lock()
	defer o.mu.Unlock()
	from := Live
	if o.lines[Backlog].Len() > 0 && (o.lines[Live].Len() == 0 || o.liveInARow >= backlogEvery-1) {
		from = Backlog
	}
	if from == Live {
		o.liveInARow++
	} else {
		o.liveInARow = 0
	}
	next := o.remove(o.lines[from].Front())
	o.handedOut[next.key] = next.priority
	return next.key
}

// demote moves every waiting live key to the back of the backlog, oldest
// first.
func (o *order[T]) demote() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for element := o.lines[Live].Front(); element != nil; element = o.lines[Live].Front() {
		o.append(o.remove(element).key, Backlog)
	}
}

func (o *order[T]) append(key T, p Priority) {
	o.waiting[key] = o.lines[p].PushBack(waitingKey[T]{key: key, priority: p})
	o.depth[p].Inc()
}

func (o *order[T]) remove(element *list.Element) waitingKey[T] {
	waiting := element.Value.(waitingKey[T])
	o.lines[waiting.priority].Remove(element)
	delete(o.waiting, waiting.key)
	o.depth[waiting.priority].Dec()
	return waiting
}
