package harness

import (
	"context"
	"fmt"
	"net/http"

	"k8s.io/component-base/metrics/testutil"
)

// Metrics are the samples that a /metrics endpoint served, by metric name.
type Metrics testutil.Metrics

// Scrape reads GET http://addr/metrics, as Prometheus would.
func Scrape(ctx context.Context, addr string) (Metrics, error) {
	code, body, err := Probe(ctx, addr, "/metrics")
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("status %d: %s", code, body)
	}
	if err != nil {
		return nil, fmt.Errorf("scraping http://%s/metrics: %w", addr, err)
	}
	m, err := ParseMetrics(body)
	if err != nil {
		return nil, fmt.Errorf("parsing http://%s/metrics: %w", addr, err)
	}
	return m, nil
}

// ParseMetrics parses metrics in Prometheus' text format, such as the API
// server's own /metrics.
func ParseMetrics(text string) (Metrics, error) {
	parsed := testutil.NewMetrics()
	if err := testutil.ParseMetrics(text, &parsed); err != nil {
		return nil, err
	}
	return Metrics(parsed), nil
}

// Sum adds up the samples of the metric name whose labels include every one
// of labels; 0 if there are none. A histogram's _count and _sum are metrics
// of their own here, as in the text format.
func (m Metrics) Sum(name string, labels map[string]string) float64 {
	var sum float64
	for _, sample := range m[name] {
		if matches(sample, labels) {
			sum += float64(sample.Value)
		}
	}
	return sum
}

// SumBy adds up the samples of the metric name by the value of their label,
// such as rest_client_requests_total by method; samples without the label
// add up under "".
func (m Metrics) SumBy(name, label string) map[string]float64 {
	sums := map[string]float64{}
	for _, sample := range m[name] {
		sums[string(sample.Metric[testutil.LabelName(label)])] += float64(sample.Value)
	}
	return sums
}

// Has reports whether the metric name has a sample with labels.
func (m Metrics) Has(name string, labels map[string]string) bool {
	for _, sample := range m[name] {
		if matches(sample, labels) {
			return true
		}
	}
	return false
}

func matches(sample *testutil.Sample, labels map[string]string) bool {
	for name, value := range labels {
		if string(sample.Metric[testutil.LabelName(name)]) != value {
			return false
		}
	}
	return true
}
