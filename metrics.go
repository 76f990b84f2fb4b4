package main

import (
	"sync"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	// client-go's workqueue, REST client and leader election report through
	// hooks that these packages fill in at init: the mydemos queue's depth,
	// adds, latencies and retries, every request by code, method and host,
	// and the leader_election_master_status gauge.
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
)

// The controller's own metrics, in Kubernetes' naming style: a crddemo_
// prefix, base units, _total for counters.
var (
	syncsTotal = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "crddemo",
		Name:           "syncs_total",
		Help:           "Syncs of Mydemo objects, by result: success or error.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})

	syncDuration = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace:      "crddemo",
		Name:           "sync_duration_seconds",
		Help:           "How long one sync of a Mydemo took, API calls included.",
		Buckets:        metrics.ExponentialBuckets(0.001, 2, 15),
		StabilityLevel: metrics.ALPHA,
	})

	eventWrites = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "crddemo",
		Name:      "event_writes_total",
		Help: "Synced events, by result: created, aggregated (the count of an existing Event raised), " +
			"filtered (as spam, by client-go's event correlator) or error (after its retries).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"result"})
)

// The result labels that observeSync and observeEventWrite use.
var (
	syncResults       = []string{"success", "error"}
	eventWriteResults = []string{"created", "aggregated", "filtered", "error"}
)

// registerMetrics adds the controller's metrics to the registry that
// /metrics serves, once per process. Kubernetes metrics record nothing until
// registered.
//
// Every result starts at 0, so that /metrics has its series before the
// first sync: rate() needs a sample before the first error to see it, and
// the alerts exist for the first errors.
var registerMetrics = sync.OnceFunc(func() {
	legacyregistry.MustRegister(syncsTotal, syncDuration, eventWrites, apiAvailable)
	legacyregistry.CustomMustRegister(shardsOwned)
	for _, result := range syncResults {
		syncsTotal.WithLabelValues(result)
	}
	for _, result := range eventWriteResults {
		eventWrites.WithLabelValues(result)
	}
})

// observeSync counts one finished sync.
func observeSync(started time.Time, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	syncsTotal.WithLabelValues(result).Inc()
	syncDuration.Observe(time.Since(started).Seconds())
}

// observeEventWrite counts one event write by its result.
func observeEventWrite(result string) {
	eventWrites.WithLabelValues(result).Inc()
}
