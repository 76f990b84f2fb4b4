package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestRulesFile(t *testing.T) {
	const rule = `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: crddemo
spec:
  groups:
    - name: crddemo
      rules:
        - alert: Down
          expr: up == 0
`
	out, err := rulesFile(writeFile(t, rule))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string              `json:"name"`
			Rules []map[string]string `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(out, &rules); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if len(rules.Groups) != 1 || rules.Groups[0].Name != "crddemo" || len(rules.Groups[0].Rules) != 1 ||
		rules.Groups[0].Rules[0]["expr"] != "up == 0" {
		t.Errorf("rules file = %+v, want the one group of the PrometheusRule:\n%s", rules, out)
	}

	for name, bad := range map[string]string{
		"another kind":       strings.Replace(rule, "kind: PrometheusRule", "kind: ConfigMap", 1),
		"a misspelt field":   strings.Replace(rule, "spec:", "spce:", 1),
		"no groups":          "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: {}\n",
		"not YAML of a rule": "- a list",
	} {
		if out, err := rulesFile(writeFile(t, bad)); err == nil {
			t.Errorf("%s: rulesFile = %s, want an error", name, out)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rule.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
