// Package priorityqueue is client-go's rate-limited workqueue with two
// priorities: keys from live watch events are handed to workers before keys
// from a backlog (an informer's initial list, a takeover, a resync), so that
// a user's change is not stuck behind thousands of objects that a replica
// finds unsynced when it starts.
//
// It keeps every guarantee of workqueue.TypedRateLimitingInterface, because
// it is that queue: client-go's own queue does the deduplication, keeps a key
// from two workers at once, queues a key added during its sync again after
// Done, spaces retries with the rate limiter, drains on ShutDown and reports
// the workqueue_* metrics. This package only supplies the order in which
// waiting keys leave it (client-go's workqueue.Queue storage), and the
// crddemo_workqueue_depth metric of the keys waiting at each priority.
//
// The backlog is never starved: while keys of both priorities wait, one key
// in every backlogEvery handed out is the backlog's oldest. Within a
// priority, keys leave in the order they came.
package priorityqueue
