package main

import (
	"slices"
	"testing"

	"k8s.io/component-base/metrics/legacyregistry"
)

// TestCountersStartAtZero checks that registering the metrics serves every
// result of crddemo's counters before anything is counted, so that the
// alerts' rate() sees the first error.
func TestCountersStartAtZero(t *testing.T) {
	registerMetrics()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"crddemo_syncs_total":        syncResults,
		"crddemo_event_writes_total": eventWriteResults,
	}
	for _, family := range families {
		results, ok := want[family.GetName()]
		if !ok {
			continue
		}
		var served []string
		for _, metric := range family.GetMetric() {
			for _, label := range metric.GetLabel() {
				if label.GetName() == "result" {
					served = append(served, label.GetValue())
				}
			}
		}
		for _, result := range results {
			if !slices.Contains(served, result) {
				t.Errorf("%s has no series for result=%q; it has %v", family.GetName(), result, served)
			}
		}
		delete(want, family.GetName())
	}
	for name := range want {
		t.Errorf("/metrics has no %s", name)
	}
}
