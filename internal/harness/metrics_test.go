package harness

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const exposition = `# TYPE workqueue_adds_total counter
workqueue_adds_total{name="mydemos"} 5
workqueue_adds_total{name="other"} 7
# TYPE crddemo_syncs_total counter
crddemo_syncs_total{result="success"} 4
crddemo_syncs_total{result="error"} 1
`

func TestScrapeSumsMatchingSamples(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(exposition))
	}))
	defer server.Close()

	m, err := Scrape(t.Context(), strings.TrimPrefix(server.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"workqueue_adds_total", map[string]string{"name": "mydemos"}, 5},
		{"workqueue_adds_total", nil, 12},
		{"crddemo_syncs_total", map[string]string{"result": "error"}, 1},
		{"crddemo_syncs_total", map[string]string{"result": "conflict"}, 0},
		{"no_such_metric", nil, 0},
	}
	for _, c := range checks {
		if got := m.Sum(c.name, c.labels); got != c.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if !m.Has("crddemo_syncs_total", map[string]string{"result": "success"}) || m.Has("crddemo_syncs_total", map[string]string{"result": "x"}) {
		t.Error("Has does not tell present samples from absent ones")
	}
}

func TestScrapeReportsAFailedEndpoint(t *testing.T) {
	server := httptest.NewServer(http.NotFoundHandler())
	defer server.Close()
	if _, err := Scrape(t.Context(), strings.TrimPrefix(server.URL, "http://")); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Fatalf("Scrape of a 404 = %v, want an error naming the status", err)
	}
}

func TestSumBy(t *testing.T) {
	m, err := ParseMetrics(`# TYPE rest_client_requests_total counter
rest_client_requests_total{code="201",host="h",method="POST"} 3
rest_client_requests_total{code="409",host="h",method="PUT"} 1
rest_client_requests_total{code="200",host="h",method="PUT"} 2
rest_client_requests_total{code="200",host="other",method="PUT"} 4
`)
	if err != nil {
		t.Fatal(err)
	}
	got := m.SumBy("rest_client_requests_total", "method")
	if len(got) != 2 || got["POST"] != 3 || got["PUT"] != 7 {
		t.Errorf("SumBy(method) = %v, want POST 3 and PUT 7", got)
	}
	if got := m.SumBy("rest_client_requests_total", "no_such_label"); len(got) != 1 || got[""] != 10 {
		t.Errorf("SumBy(no_such_label) = %v, want everything under \"\"", got)
	}
	if got := m.SumBy("no_such_metric", "method"); len(got) != 0 {
		t.Errorf("SumBy(no_such_metric) = %v, want nothing", got)
	}
}
