package priorityqueue

import (
	"k8s.io/client-go/util/workqueue"
)

// Queue is client-go's rate-limited workqueue whose waiting keys leave by
// priority (see the package comment). Add queues a key as live;
// AddWithPriority says which priority.
type Queue[T comparable] struct {
	workqueue.TypedRateLimitingInterface[T]
	order *order[T]
}

// New makes a queue whose client-go metrics carry name, as a queue made by
// workqueue.NewTypedRateLimitingQueueWithConfig does, and whose retries are
// spaced by rateLimiter.
func New[T comparable](name string, rateLimiter workqueue.TypedRateLimiter[T]) *Queue[T] {
	registerMetrics()
	order := newOrder[T]([2]workqueue.GaugeMetric{
		Backlog: depth.WithLabelValues(name, Backlog.String()),
		Live:    depth.WithLabelValues(name, Live.String()),
	})
	queue := workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[T]{Name: name, Queue: order})
	delaying := workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[T]{Name: name, Queue: queue})
	return &Queue[T]{
		TypedRateLimitingInterface: workqueue.NewTypedRateLimitingQueueWithConfig(rateLimiter,
			workqueue.TypedRateLimitingQueueConfig[T]{Name: name, DelayingQueue: delaying}),
		order: order,
	}
}

// AddWithPriority queues key at priority p. A key already waiting at a
// lower priority moves up to p; one waiting at a higher priority stays. A
// key being synced is queued again after Done, at the highest priority
// asked for meanwhile.
func (q *Queue[T]) AddWithPriority(key T, p Priority) {
	q.order.ask(key, p)
	q.TypedRateLimitingInterface.Add(key)
}

// Add queues key as a live change.
func (q *Queue[T]) Add(key T) {
	q.AddWithPriority(key, Live)
}

// AddRateLimited queues key again once the rate limiter allows, at the
// priority it was handed out at: a live change whose sync failed is not
// retried behind the backlog, nor a failed backlog key ahead of live ones.
func (q *Queue[T]) AddRateLimited(key T) {
	q.order.askAgain(key)
	q.TypedRateLimitingInterface.AddRateLimited(key)
}

// Done ends the sync of key, as the worker that Get handed it to must call.
func (q *Queue[T]) Done(key T) {
	q.order.done(key)
	q.TypedRateLimitingInterface.Done(key)
}

// DemoteWaiting moves every waiting live key to the back of the backlog. A
// replica calls it as it takes over: the changes its queue collected while
// it stood by are now a backlog like its initial list, and only what
// changes from then on is live.
func (q *Queue[T]) DemoteWaiting() {
	q.order.demote()
}
