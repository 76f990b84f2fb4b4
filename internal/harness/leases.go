package harness

import "time"

// The leader election timings of the integration tests and the bench: short,
// so that a killed leader's Lease runs out in seconds and a replica notices
// a freed Lease 1 to 2.2 retry periods later, and still in the proportions
// of the defaults (15 s, 10 s, 2 s).
const (
	LeaseDuration = 4 * time.Second
	RenewDeadline = 2 * time.Second
	RetryPeriod   = 500 * time.Millisecond
)

// LeaderElectionFlags are the crddemo flags that turn leader election on
// with these timings.
func LeaderElectionFlags() []string {
	return []string{
		"--leader-elect",
		"--leader-elect-lease-duration=" + LeaseDuration.String(),
		"--leader-elect-renew-deadline=" + RenewDeadline.String(),
		"--leader-elect-retry-period=" + RetryPeriod.String(),
	}
}
