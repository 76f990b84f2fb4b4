package leaderelection

import (
	"time"

	"k8s.io/client-go/rest"
)

// minRequestTimeout keeps lease requests possible over a slow link however
// short the renew deadline is.
const minRequestTimeout = time.Second

// ClientConfig returns a copy of cfg for the client that Run uses for the
// Lease. Each request times out after half the renew deadline, but not under
// a second, as client-go's resourcelock.NewFromKubeconfig sets it up for
// kube-controller-manager: a leader whose request hangs then still has time
// to retry before its renew deadline, and no lease call can hang for good,
// whatever context client-go gives it. The user agent ends in
// "/leader-election", so that the API server's logs tell lease traffic apart.
func ClientConfig(cfg *rest.Config, renewDeadline time.Duration) *rest.Config {
	leaseConfig := rest.CopyConfig(cfg)
	leaseConfig.Timeout = max(renewDeadline/2, minRequestTimeout)
	userAgent := cfg.UserAgent
	if userAgent == "" {
		userAgent = rest.DefaultKubernetesUserAgent()
	}
	leaseConfig.UserAgent = userAgent + "/leader-election"
	// A rate limiter shared with cfg's other clients would make a renewal
	// wait behind their requests, and a busy controller could lose its
	// lease that way: the lease client gets one of its own, from QPS and
	// Burst.
	leaseConfig.RateLimiter = nil
	return leaseConfig
}
