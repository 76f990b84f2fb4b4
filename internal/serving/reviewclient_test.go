package serving

import (
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// TestReviewClientConfigHasItsOwnRateLimit: the reviews never draw on the
// token bucket that the controller's clients share.
func TestReviewClientConfigHasItsOwnRateLimit(t *testing.T) {
	shared := flowcontrol.NewTokenBucketRateLimiter(500, 1000)
	config := &rest.Config{Host: "https://10.0.0.1:6443", BearerToken: "crddemo", QPS: 500, Burst: 1000, RateLimiter: shared}

	review := ReviewClientConfig(config)

	if review.RateLimiter == nil || review.RateLimiter == shared {
		t.Errorf("the review client uses the controller's rate limiter, want one of its own")
	}
	if review.RateLimiter.QPS() != reviewQPS || review.QPS != reviewQPS || review.Burst != reviewBurst {
		t.Errorf("the review client's limit is %v qps (%v, burst %d), want %v, burst %d",
			review.RateLimiter.QPS(), review.QPS, review.Burst, reviewQPS, reviewBurst)
	}
	if review.Host != config.Host || review.BearerToken != config.BearerToken {
		t.Errorf("the review client talks to %s as %q, want crddemo's server and credentials", review.Host, review.BearerToken)
	}
	if config.RateLimiter != shared || config.QPS != 500 {
		t.Errorf("ReviewClientConfig changed the config it was given")
	}
}
