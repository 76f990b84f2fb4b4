// Command rulesfile prints the rule groups of a PrometheusRule as a plain
// Prometheus rules file, the form that promtool reads, so that the
// PrometheusRule in deploy/monitoring stays the one source of crddemo's
// alerts and make test-alerts still tests exactly those.
//
// Usage, from the repository root:
//
//	go run ./hack/rulesfile deploy/monitoring/prometheusrule.yaml > crddemo.rules.yaml
package main

import (
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rulesfile PROMETHEUSRULE.yaml")
		os.Exit(2)
	}
	out, err := rulesFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "rulesfile: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

// prometheusRule is the part of a monitoring.coreos.com/v1 PrometheusRule
// that a rules file holds: spec is exactly a rules file's top level.
type prometheusRule struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   map[string]any `json:"metadata"`
	Spec       map[string]any `json:"spec"`
}

// rulesFile reads the PrometheusRule at path and returns its spec as YAML.
// The rules go through unchanged; checking them is promtool's job.
func rulesFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rule prometheusRule
	// Strict, so that a misspelt top-level field or a duplicate key fails
	// here rather than being dropped.
	if err := yaml.UnmarshalStrict(data, &rule); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if rule.APIVersion != "monitoring.coreos.com/v1" || rule.Kind != "PrometheusRule" {
		return nil, fmt.Errorf("%s is a %s %s, not a monitoring.coreos.com/v1 PrometheusRule", path, rule.APIVersion, rule.Kind)
	}
	if _, ok := rule.Spec["groups"]; !ok {
		return nil, errors.New(path + " has no spec.groups")
	}
	return yaml.Marshal(rule.Spec)
}
