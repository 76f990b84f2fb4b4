package priorityqueue

// Priority says how soon a queued key should be synced.
type Priority int

const (
	// Backlog is for keys that nobody is waiting on right now: an
	// informer's initial list, a resync, the keys a standby holds when it
	// takes over.
	Backlog Priority = iota
	// Live is for keys from watch events: changes someone just made.
	Live
)

// String names the priority as the metrics' priority label does.
func (p Priority) String() string {
	if p == Live {
		return "live"
	}
	return "backlog"
}
