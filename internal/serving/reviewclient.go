package serving

import (
	"k8s.io/client-go/rest"
)

// ReviewClientConfig is config, with crddemo's server and credentials, for
// the client that sends TokenReviews and SubjectAccessReviews. It has no
// rate limiter: the reviews' budgets (reviewbudget.go) bound what it sends,
// refusing what they do not admit at once, where a client's limiter would
// queue every caller behind a flood until the review timed out. Nor does it
// draw on the token bucket that --kube-api-qps sizes, so that scrapes never
// slow the controller's syncs down, nor syncs the scrapes.
func ReviewClientConfig(config *rest.Config) *rest.Config {
	config = rest.CopyConfig(config)
	// A negative QPS is client-go's way to say: no rate limiter.
	config.QPS, config.Burst, config.RateLimiter = -1, 0, nil
	return config
}
