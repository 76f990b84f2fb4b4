package serving

import (
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// TestReviewClientConfigHasNoRateLimiter: the reviews never draw on the
// token bucket that the controller's clients share, nor wait on one of
// their own; their budgets refuse instead.
func TestReviewClientConfigHasNoRateLimiter(t *testing.T) {
	shared := flowcontrol.NewTokenBucketRateLimiter(500, 1000)
	config := &rest.Config{Host: "https://10.0.0.1:6443", BearerToken: "crddemo", QPS: 500, Burst: 1000, RateLimiter: shared}

	review := ReviewClientConfig(config)

	if review.RateLimiter != nil || review.QPS >= 0 {
		t.Errorf("the review client has a rate limiter (%v, %v qps), want none", review.RateLimiter, review.QPS)
	}
	client, err := kubernetes.NewForConfig(review)
	if err != nil {
		t.Fatalf("client-go refuses the review client's config: %v", err)
	}
	if limiter := client.AuthenticationV1().RESTClient().GetRateLimiter(); limiter != nil {
		t.Errorf("the TokenReview client has a rate limiter of %v qps, want none", limiter.QPS())
	}
	if review.Host != config.Host || review.BearerToken != config.BearerToken {
		t.Errorf("the review client talks to %s as %q, want crddemo's server and credentials", review.Host, review.BearerToken)
	}
	if config.RateLimiter != shared || config.QPS != 500 {
		t.Errorf("ReviewClientConfig changed the config it was given")
	}
}
