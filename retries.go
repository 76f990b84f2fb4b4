package main

import (
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

const (
	// firstRetryDelay is the backoff after a key's first failure; it doubles
	// with each further failure up to --max-retry-delay.
	firstRetryDelay = 5 * time.Millisecond

	// loggedFirstFailures and loggedFailureEvery keep the log readable while
	// a key keeps failing: its first failures are logged, then one in every
	// loggedFailureEvery (with the default --max-retry-delay of 2 minutes,
	// one line every 20 minutes). -v=2 logs every failure, and
	// crddemo_syncs_total{result="error"} counts them all.
	loggedFirstFailures = 3
	loggedFailureEvery  = 10
)

// NewRetryRateLimiter spaces the retries of a key whose sync keeps failing:
// firstRetryDelay, doubling up to maxDelay, then every maxDelay for as long
// as it fails, so that no object is ever given up. Unlike client-go's default
// controller rate limiter it has no overall bucket of 10 retries a second: a
// backlog of failed keys drains as fast as --kube-api-qps lets the requests
// through.
func NewRetryRateLimiter(maxDelay time.Duration) workqueue.TypedRateLimiter[cache.ObjectName] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[cache.ObjectName](firstRetryDelay, maxDelay)
}

// logRetry logs that a key's sync failed with err after retries earlier
// failures and will be retried, throttled as loggedFirstFailures and
// loggedFailureEvery say.
func logRetry(logger klog.Logger, err error, retries int) {
	if apierrors.IsConflict(err) {
		// The Mydemo changed after the cache saw it: the retry syncs what
		// it is now, which is nothing for the log to worry about.
		logger.V(2).Info("Mydemo changed during its sync; will retry", "err", err, "retries", retries)
		return
	}
	// apiUnusable tells the reader whether the API server, not this
	// Mydemo, is the problem.
	if retries < loggedFirstFailures || retries%loggedFailureEvery == 0 {
		logger.Error(err, "Error syncing mydemo; will retry", "retries", retries, "apiUnusable", apiUnusable(err))
		return
	}
	logger.V(2).Info("Error syncing mydemo; will retry", "err", err, "retries", retries, "apiUnusable", apiUnusable(err))
}
