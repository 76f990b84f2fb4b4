package harness

import (
	"slices"
	"testing"
)

// TestLeaseTimingsAreUsable holds the shared timings to what crddemo
// accepts: a renew deadline shorter than the lease and longer than client-go's
// 1.2 retry periods.
func TestLeaseTimingsAreUsable(t *testing.T) {
	if RenewDeadline >= LeaseDuration || float64(RenewDeadline) <= 1.2*float64(RetryPeriod) {
		t.Errorf("lease %v, renew deadline %v, retry period %v: crddemo would refuse them", LeaseDuration, RenewDeadline, RetryPeriod)
	}
	want := []string{"--leader-elect", "--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=2s",
		"--leader-elect-retry-period=500ms"}
	if got := LeaderElectionFlags(); !slices.Equal(got, want) {
		t.Errorf("LeaderElectionFlags() = %q, want %q", got, want)
	}
}
