package serving

import (
	"k8s.io/client-go/rest"
)

// ReviewClientConfig is config, with crddemo's server and credentials, for
// the client that sends TokenReviews and SubjectAccessReviews. It has no
// rate limiter because the reviews' budgets (reviewbudget.go) are its limit:
// they refuse at once what they do not admit, where a limiter of its own
// would queue every caller behind a flood until its review timed out, and
// the controller's (the token bucket that --kube-api-qps sizes) would make
// scrapes and syncs wait behind each other.
func ReviewClientConfig(config *rest.Config) *rest.Config {
	config = rest.CopyConfig(config)
	// A negative QPS is client-go's way to say: no rate limiter.
	config.QPS, config.Burst, config.RateLimiter = -1, 0, nil
	return config
}
