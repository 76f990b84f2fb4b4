package priorityqueue

import (
	"testing"

	"k8s.io/component-base/metrics/legacyregistry"
)

// servedDepth reads crddemo_workqueue_depth of one queue and priority from
// the registry that /metrics serves.
func servedDepth(t *testing.T, name string, p Priority) float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gathering the metrics: %v", err)
	}
	for _, family := range families {
		if family.GetName() != "crddemo_workqueue_depth" {
			continue
		}
		for _, metric := range family.GetMetric() {
			labels := map[string]string{}
			for _, label := range metric.GetLabel() {
				labels[label.GetName()] = label.GetValue()
			}
			if labels["name"] == name && labels["priority"] == p.String() {
				return metric.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("/metrics has no crddemo_workqueue_depth{name=%q, priority=%q}", name, p)
	return 0
}

func TestDepthByPriorityIsServed(t *testing.T) {
	q := newTestQueue(t, noDelay())
	q.AddWithPriority("b1", Backlog)
	q.AddWithPriority("b2", Backlog)
	q.Add("l1")
	if backlog, live := servedDepth(t, t.Name(), Backlog), servedDepth(t, t.Name(), Live); backlog != 2 || live != 1 {
		t.Errorf("depth: backlog %v, live %v; want 2 and 1", backlog, live)
	}
	q.Add("b1")
	take(t, q, 1)
	if backlog, live := servedDepth(t, t.Name(), Backlog), servedDepth(t, t.Name(), Live); backlog != 1 || live != 1 {
		t.Errorf("depth after promoting b1 and handing out l1: backlog %v, live %v; want 1 and 1", backlog, live)
	}
}
