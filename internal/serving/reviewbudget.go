package serving

import "k8s.io/client-go/util/flowcontrol"

// Each kind of review, TokenReviews and SubjectAccessReviews, has two budgets
// of its own (reviewcache.go). New questions: enough for a few new
// scrapers' tokens at once and a steady trickle, while a flood of strangers
// costs the API server at most 2 TokenReviews a second. Refreshes of the
// answers of known callers: at a minute per answer, room for hundreds of
// scrapers and paths.
const (
	askQPS       = 2
	askBurst     = 10
	refreshQPS   = 1
	refreshBurst = 10
)

// newAskBudget admits the reviews of questions without a usable answer.
func newAskBudget() flowcontrol.RateLimiter {
	return flowcontrol.NewTokenBucketRateLimiter(askQPS, askBurst)
}

// newRefreshBudget admits the background reviews of known callers' answers.
func newRefreshBudget() flowcontrol.RateLimiter {
	return flowcontrol.NewTokenBucketRateLimiter(refreshQPS, refreshBurst)
}
