package leaderelection

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/client-go/tools/leaderelection"
)

// Config says which Lease to campaign for, as whom, and at what pace.
type Config struct {
	// Namespace and Name locate the Lease, which is created if missing.
	Namespace, Name string
	// Identity names this candidate in the Lease; see NewIdentity.
	Identity string
	// LeaseDuration is how long standbys wait, after the leader's last
	// renewal they saw, before they take the lease over.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps retrying a failing renewal
	// before it gives the lease up.
	RenewDeadline time.Duration
	// RetryPeriod is the pause between attempts to acquire or renew.
	RetryPeriod time.Duration
	// AcquireIf, if set, is asked before each attempt to acquire the lease,
	// not to renew it: false fails the attempt, and the candidate tries
	// again a retry period later, still watching the lease. Sharding uses
	// it to keep a replica to its fair share of shards.
	AcquireIf func() bool
}

// Validate refuses settings that client-go would refuse or that would make
// the election misbehave, naming the command-line flag at fault.
func (c Config) Validate() error {
	if c.Name == "" {
		return errors.New("--leader-elect-resource-name must not be empty")
	}
	if problems := validation.NameIsDNSSubdomain(c.Name, false); len(problems) > 0 {
		return fmt.Errorf("--leader-elect-resource-name %q is not a valid Lease name: %s", c.Name, strings.Join(problems, "; "))
	}
	if c.Namespace == "" {
		return errors.New("--leader-elect-resource-namespace must not be empty")
	}
	if problems := validation.ValidateNamespaceName(c.Namespace, false); len(problems) > 0 {
		return fmt.Errorf("--leader-elect-resource-namespace %q is not a valid namespace name: %s", c.Namespace, strings.Join(problems, "; "))
	}
	if c.Identity == "" {
		return errors.New("the leader election identity must not be empty")
	}
	for _, setting := range []struct {
		flag  string
		value time.Duration
	}{
		{"--leader-elect-lease-duration", c.LeaseDuration},
		{"--leader-elect-renew-deadline", c.RenewDeadline},
		{"--leader-elect-retry-period", c.RetryPeriod},
	} {
		if setting.value <= 0 {
			return fmt.Errorf("%s must be positive, got %v", setting.flag, setting.value)
		}
	}
	// The Lease stores its duration in whole seconds, so a shorter one
	// would read as 0 and let any standby take the lease at once.
	if c.LeaseDuration < time.Second {
		return fmt.Errorf("--leader-elect-lease-duration must be at least 1s, as a Lease counts whole seconds, got %v", c.LeaseDuration)
	}
	// client-go writes it into the Lease as whole seconds, and a standby
	// counts from what the Lease says: 1.5s would let it take over after 1s,
	// before the leader's renew deadline has passed.
	if c.LeaseDuration%time.Second != 0 {
		return fmt.Errorf("--leader-elect-lease-duration must be whole seconds, as a Lease counts them, got %v (use %v or %v)",
			c.LeaseDuration, c.LeaseDuration.Truncate(time.Second), c.LeaseDuration.Truncate(time.Second)+time.Second)
	}
	// client-go writes it into the Lease as whole seconds in an int32,
	// where a longer one wraps around.
	if c.LeaseDuration/time.Second > math.MaxInt32 {
		return fmt.Errorf("--leader-elect-lease-duration must be at most %v, as a Lease counts seconds in 32 bits, got %v",
			math.MaxInt32*time.Second, c.LeaseDuration)
	}
	if c.RenewDeadline >= c.LeaseDuration {
		return fmt.Errorf("--leader-elect-renew-deadline (%v) must be shorter than --leader-elect-lease-duration (%v)",
			c.RenewDeadline, c.LeaseDuration)
	}
	// client-go spaces its attempts up to JitterFactor retry periods apart
	// and refuses a renew deadline that would not fit one such gap.
	if longestGap := time.Duration(leaderelection.JitterFactor * float64(c.RetryPeriod)); c.RenewDeadline <= longestGap {
		return fmt.Errorf("--leader-elect-retry-period (%v) is too long for --leader-elect-renew-deadline (%v): "+
			"client-go needs the renew deadline to exceed %v times the retry period (%v)",
			c.RetryPeriod, c.RenewDeadline, leaderelection.JitterFactor, longestGap)
	}
	return nil
}
