package serving

import (
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// The review client's own rate limit: client-go's defaults. With the
// answers cached for a minute, a scraper costs about two reviews a minute,
// so this is room for a few dozen scrapers at once, and no burst of
// strangers can make crddemo send the API server more than this.
const (
	reviewQPS   = 5
	reviewBurst = 10
)

// ReviewClientConfig is config, with crddemo's server and credentials, for
// the client that sends TokenReviews and SubjectAccessReviews. It has a
// token bucket of its own instead of the one that --kube-api-qps sizes, so
// that scrapes never slow the controller's syncs down, nor syncs the
// scrapes.
func ReviewClientConfig(config *rest.Config) *rest.Config {
	config = rest.CopyConfig(config)
	config.QPS, config.Burst = reviewQPS, reviewBurst
	config.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(reviewQPS, reviewBurst)
	return config
}
