package leaderelection

import (
	"fmt"
	"math"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
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
	// AcquireFailed, if set, is told when an attempt that AcquireIf allowed
	// did not take the lease: another candidate wrote it first, or the write
	// failed. Sharding uses it to try another shard at once instead of
	// counting the lost attempt against the share.
	AcquireFailed func()
}

// Validate refuses settings that client-go would refuse or that would make
// the election misbehave, as errors on the fields under path, whose details
// name any other field at fault by its path. The identity
// is not checked: client-go refuses an empty one, and NewIdentity never
// makes one.
func (c Config) Validate(path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), "the Lease needs a name"))
	} else if problems := validation.NameIsDNSSubdomain(c.Name, false); len(problems) > 0 {
		errs = append(errs, field.Invalid(path.Child("name"), c.Name, "not a valid Lease name: "+strings.Join(problems, "; ")))
	}
	if c.Namespace == "" {
		errs = append(errs, field.Required(path.Child("namespace"), "the Lease needs a namespace"))
	} else if problems := validation.ValidateNamespaceName(c.Namespace, false); len(problems) > 0 {
		errs = append(errs, field.Invalid(path.Child("namespace"), c.Namespace, "not a valid namespace name: "+strings.Join(problems, "; ")))
	}
	durations := []struct {
		name  string
		value time.Duration
	}{{"leaseDuration", c.LeaseDuration}, {"renewDeadline", c.RenewDeadline}, {"retryPeriod", c.RetryPeriod}}
	for _, d := range durations {
		if d.value <= 0 {
			errs = append(errs, field.Invalid(path.Child(d.name), d.value.String(), "must be positive"))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	leaseDuration := path.Child("leaseDuration")
	switch {
	// The Lease stores its duration in whole seconds, so a shorter one
	// would read as 0 and let any standby take the lease at once.
	case c.LeaseDuration < time.Second:
		return field.ErrorList{field.Invalid(leaseDuration, c.LeaseDuration.String(), "must be at least 1s, as a Lease counts whole seconds")}
	// client-go writes it into the Lease as whole seconds, and a standby
	// counts from what the Lease says: 1.5s would let it take over after 1s,
	// before the leader's renew deadline has passed.
	case c.LeaseDuration%time.Second != 0:
		return field.ErrorList{field.Invalid(leaseDuration, c.LeaseDuration.String(),
			fmt.Sprintf("must be whole seconds, as a Lease counts them (use %v or %v)",
				c.LeaseDuration.Truncate(time.Second), c.LeaseDuration.Truncate(time.Second)+time.Second))}
	// client-go writes it into the Lease as whole seconds in an int32,
	// where a longer one wraps around.
	case c.LeaseDuration/time.Second > math.MaxInt32:
		return field.ErrorList{field.Invalid(leaseDuration, c.LeaseDuration.String(),
			fmt.Sprintf("must be at most %v, as a Lease counts seconds in 32 bits", math.MaxInt32*time.Second))}
	case c.RenewDeadline >= c.LeaseDuration:
		return field.ErrorList{field.Invalid(path.Child("renewDeadline"), c.RenewDeadline.String(),
			fmt.Sprintf("must be shorter than %s (%v)", leaseDuration, c.LeaseDuration))}
	}
	// client-go spaces its attempts up to JitterFactor retry periods apart
	// and refuses a renew deadline that would not fit one such gap.
	if longestGap := time.Duration(leaderelection.JitterFactor * float64(c.RetryPeriod)); c.RenewDeadline <= longestGap {
		return field.ErrorList{field.Invalid(path.Child("retryPeriod"), c.RetryPeriod.String(),
			fmt.Sprintf("too long for %s (%v): client-go needs the renew deadline to exceed %v times the retry period (%v)",
				path.Child("renewDeadline"), c.RenewDeadline, leaderelection.JitterFactor, longestGap))}
	}
	return nil
}
