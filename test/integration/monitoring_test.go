package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/domac/crddemo/internal/harness"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// targetLabels are the labels that Prometheus, not crddemo, puts on every
// series it scrapes (podmonitor.yaml's job, and the pod's): queries may use
// them although /metrics never shows them.
var targetLabels = []string{"job", "instance", "namespace", "pod", "container", "endpoint"}

// prometheusRule is the part of a monitoring.coreos.com/v1 PrometheusRule
// that deploy/monitoring uses, decoded strictly.
type prometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// dashboardPanel is a Grafana panel; a row that is collapsed holds its
// panels itself.
type dashboardPanel struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"`
}

// monitoringQuery is one PromQL expression of deploy/monitoring, with where
// it is used.
type monitoringQuery struct {
	where string
	use   promQLUse
}

// monitoringQueries returns every expression of the alerts and the
// dashboard, as kubectl kustomize deploy/monitoring renders them.
func monitoringQueries(t *testing.T, rendered string) []monitoringQuery {
	t.Helper()
	manifests := splitManifests(t, rendered)
	var queries []monitoringQuery
	add := func(where, expr string) {
		use, err := scanPromQL(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		} else if len(use.selectors) == 0 {
			t.Errorf("%s reads no metric: %q", where, expr)
		}
		queries = append(queries, monitoringQuery{where: where, use: use})
	}

	rule := decodeManifest[prometheusRule](t, manifests, "PrometheusRule", "crddemo")
	for _, group := range rule.Spec.Groups {
		for _, r := range group.Rules {
			add("alert "+r.Alert, r.Expr)
		}
	}

	dashboard := decodeManifest[corev1.ConfigMap](t, manifests, "ConfigMap", "crddemo-dashboard")
	if dashboard.Labels["grafana_dashboard"] != "1" {
		t.Errorf("the dashboard's ConfigMap is labelled %v, want grafana_dashboard=1 for Grafana's sidecar", dashboard.Labels)
	}
	var board struct {
		Panels []dashboardPanel `json:"panels"`
	}
	if err := json.Unmarshal([]byte(dashboard.Data["crddemo.json"]), &board); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var walk func([]dashboardPanel)
	walk = func(panels []dashboardPanel) {
		for _, p := range panels {
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("dashboard panel %q has no query", p.Title)
			}
			for _, target := range p.Targets {
				add(fmt.Sprintf("dashboard panel %q", p.Title), target.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(board.Panels)
	return queries
}

// unserved lists what the queries need that m does not serve: a metric
// name (a histogram's _bucket, _sum and _count are served under those
// names), a label name of a matcher, or one they group by that is on none
// of the series they select.
func unserved(m harness.Metrics, queries []monitoringQuery) []string {
	var problems []string
	for _, q := range queries {
		selected := map[string]bool{}
		for _, label := range targetLabels {
			selected[label] = true
		}
		for _, s := range q.use.selectors {
			samples := m[s.metric]
			if len(samples) == 0 {
				problems = append(problems, fmt.Sprintf("%s: crddemo serves no %s", q.where, s.metric))
				continue
			}
			for _, sample := range samples {
				for name := range sample.Metric {
					selected[string(name)] = true
				}
			}
			for _, label := range s.labels {
				if !selected[label] {
					problems = append(problems, fmt.Sprintf("%s: no series of %s has the label %s", q.where, s.metric, label))
				}
			}
		}
		for _, label := range q.use.grouping {
			if !selected[label] {
				problems = append(problems, fmt.Sprintf("%s: groups by %s, which none of its series has", q.where, label))
			}
		}
	}
	return problems
}

// TestMonitoringQueriesAreServed runs crddemo as deploy/ does, with leader
// election, until it has synced a few Mydemos, and one with --shards, and
// checks that their /metrics
// serves every metric and label that deploy/monitoring's alerts and
// dashboard query: renaming a metric or a label breaks this test, not an
// alert in production that silently never fires.
func TestMonitoringQueriesAreServed(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	queries := monitoringQueries(t, kubectl(t, cp, "", "kustomize", repoFile(t, "deploy/monitoring")))
	if t.Failed() {
		t.FailNow()
	}

	client := clientset.NewForConfigOrDie(cp.Config)
	installCRD(t, cp)
	crddemo := startCrddemo(t, nil, append(leaderElectionArgs, "--kubeconfig="+cp.KubeconfigPath)...)
	waitLeader(t, crddemo)
	waitAllSynced(t, client, createMydemos(t, client, "monitored", 3))
	// A sharded replica, of a group of its own, serves the shard metrics.
	sharded := startCrddemo(t, nil, append(leaderElectionArgs, "--shards=2", "--leader-elect-resource-name=sharded",
		"--kubeconfig="+cp.KubeconfigPath)...)
	waitShardsOwned(t, sharded, 2)

	// Labelled series appear with their first observation, such as the
	// first sync's result, so wait for them rather than scrape once.
	var problems []string
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		m, err := harness.Scrape(ctx, crddemo.Metrics)
		if err != nil {
			problems = []string{err.Error()}
			return false, nil
		}
		shardMetrics, err := harness.Scrape(ctx, sharded.Metrics)
		if err != nil {
			problems = []string{err.Error()}
			return false, nil
		}
		for name, samples := range shardMetrics {
			m[name] = append(m[name], samples...)
		}
		problems = unserved(m, queries)
		return len(problems) == 0, nil
	})
	if err != nil {
		t.Errorf("deploy/monitoring queries what crddemo does not serve:\n%s", strings.Join(problems, "\n"))
	}
	t.Logf("checked %d queries of deploy/monitoring against crddemo's /metrics", len(queries))
}

// unservedSeries lists the selectors of queries whose = matchers no series
// of m satisfies, such as crddemo_syncs_total{result="error"} before the
// first failed sync; the target labels are Prometheus', not crddemo's.
func unservedSeries(m harness.Metrics, queries []monitoringQuery) []string {
	var problems []string
	for _, q := range queries {
		for _, s := range q.use.selectors {
			equal := map[string]string{}
			for label, value := range s.equal {
				if !slices.Contains(targetLabels, label) {
					equal[label] = value
				}
			}
			if !m.Has(s.metric, equal) {
				problems = append(problems, fmt.Sprintf("%s: crddemo serves no series of %s with the labels %v", q.where, s.metric, equal))
			}
		}
	}
	return problems
}

// TestAlertSeriesBeforeFirstSync runs crddemo as deploy/ does, leader of a
// cluster with the CRD and no Mydemo, so that it never syncs, and checks
// that its /metrics serves every series that deploy/monitoring's alerts
// select, down to the values of their = matchers: a counter that appears
// only with its first increment hides that increment from rate(), and so
// the first errors from the alerts that exist for them.
func TestAlertSeriesBeforeFirstSync(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	var alerts []monitoringQuery
	for _, q := range monitoringQueries(t, kubectl(t, cp, "", "kustomize", repoFile(t, "deploy/monitoring"))) {
		if strings.HasPrefix(q.where, "alert ") {
			alerts = append(alerts, q)
		}
	}
	if t.Failed() || len(alerts) == 0 {
		t.Fatalf("found %d alerts in deploy/monitoring", len(alerts))
	}

	installCRD(t, cp)
	crddemo := startCrddemo(t, nil, append(leaderElectionArgs, "--kubeconfig="+cp.KubeconfigPath)...)
	waitLeader(t, crddemo)
	crddemo.waitReady(t)

	// Series could come with the informer's or the election's first steps,
	// so wait for them; with no Mydemo, the syncs' never come.
	// problems are those of the last scrape that succeeded: the wait's
	// deadline can cut the last one short.
	problems := []string{"no scrape succeeded"}
	var m harness.Metrics
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		scraped, err := harness.Scrape(ctx, crddemo.Metrics)
		if err != nil {
			return false, nil
		}
		m = scraped
		problems = append(unserved(m, alerts), unservedSeries(m, alerts)...)
		return len(problems) == 0, nil
	})
	if err != nil {
		t.Errorf("before the first sync, deploy/monitoring's alerts select what crddemo does not serve:\n%s", strings.Join(problems, "\n"))
	}
	if synced := m.Sum("crddemo_syncs_total", nil); synced != 0 {
		t.Errorf("crddemo_syncs_total = %v with no Mydemo, want 0: the test must scrape before any sync", synced)
	}
	t.Logf("checked %d alerts' series before the first sync", len(alerts))
}

// alertTests is the part of promtool's test file that says which alerts it
// tests, and whether any of its cases expects one to fire.
type alertTests struct {
	Tests []struct {
		Name           string `json:"name"`
		AlertRuleTests []struct {
			Alertname string            `json:"alertname"`
			ExpAlerts []json.RawMessage `json:"exp_alerts"`
		} `json:"alert_rule_test"`
	} `json:"tests"`
}

// TestEveryAlertIsTested checks that deploy/monitoring/alerts_test.yaml,
// which make test-alerts runs, tests every alert of prometheusrule.yaml both
// firing and silent, so that a new alert cannot go in untested.
func TestEveryAlertIsTested(t *testing.T) {
	var rule prometheusRule
	readYAML(t, "deploy/monitoring/prometheusrule.yaml", &rule)
	var tests alertTests
	readYAML(t, "deploy/monitoring/alerts_test.yaml", &tests)

	fires, silent := map[string]bool{}, map[string]bool{}
	for _, test := range tests.Tests {
		for _, c := range test.AlertRuleTests {
			if len(c.ExpAlerts) > 0 {
				fires[c.Alertname] = true
			} else {
				silent[c.Alertname] = true
			}
		}
	}
	var alerts []string
	for _, group := range rule.Spec.Groups {
		for _, r := range group.Rules {
			alerts = append(alerts, r.Alert)
			if !fires[r.Alert] || !silent[r.Alert] {
				t.Errorf("alerts_test.yaml must test %s firing (%t) and not firing (%t)", r.Alert, fires[r.Alert], silent[r.Alert])
			}
		}
	}
	for name := range fires {
		if !slices.Contains(alerts, name) {
			t.Errorf("alerts_test.yaml tests %s, which prometheusrule.yaml does not have", name)
		}
	}
	if len(alerts) == 0 {
		t.Error("prometheusrule.yaml has no alerts")
	}
}

// readYAML decodes the repository's file name into obj, lax about fields
// that obj leaves out.
func readYAML(t *testing.T, name string, obj any) {
	t.Helper()
	data, err := os.ReadFile(repoFile(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, obj); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
