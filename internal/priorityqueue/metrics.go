package priorityqueue

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var (
	// depth splits client-go's workqueue_depth by priority. Queues of one
	// name add up, as client-go's do.
	depth = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "crddemo",
		Subsystem: "workqueue",
		Name:      "depth",
		Help: "Keys waiting in a workqueue, by priority: live (from watch events) " +
			"or backlog (from an initial list, a takeover or a resync).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"name", "priority"})

	// registerMetrics adds depth to the registry that /metrics serves; a
	// Kubernetes metric records nothing until it is registered.
	registerMetrics = sync.OnceFunc(func() { legacyregistry.MustRegister(depth) })
)
