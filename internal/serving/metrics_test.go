package serving

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// queueDepth is a metric of the test's own, registered once per test binary
// since the legacy registry refuses a second registration, as with -count=2.
var (
	queueDepth = metrics.NewGauge(&metrics.GaugeOpts{
		Name: "crddemo_serving_test_queue_depth",
		Help: "A queue depth set by the serving package's tests.",
	})
	registerQueueDepth = sync.OnceFunc(func() { legacyregistry.MustRegister(queueDepth) })
)

func TestMetricsHandlerServesTheLegacyRegistry(t *testing.T) {
	registerQueueDepth()
	queueDepth.Set(3)

	recorder := httptest.NewRecorder()
	MetricsHandler(false).ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/metrics", nil))

	if recorder.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d, want 200: %s", recorder.Code, recorder.Body.String())
	}
	if contentType := recorder.Header().Get("Content-Type"); !strings.HasPrefix(contentType, "text/plain") {
		t.Errorf("Content-Type = %q, want the text format", contentType)
	}
	if body := recorder.Body.String(); !strings.Contains(body, "\ncrddemo_serving_test_queue_depth 3\n") {
		t.Errorf("/metrics lacks the test's gauge at 3:\n%s", body)
	}
}

// pprofPaths are the profiling endpoints, with the shortest sampling times
// that they accept so that the test stays quick.
var pprofPaths = []string{
	"/debug/pprof/",
	"/debug/pprof/heap",
	"/debug/pprof/cmdline",
	"/debug/pprof/profile?seconds=1",
	"/debug/pprof/symbol",
	"/debug/pprof/trace?seconds=0.1",
}

func TestMetricsHandlerProfiling(t *testing.T) {
	for _, profiling := range []bool{false, true} {
		handler := MetricsHandler(profiling)
		for _, target := range pprofPaths {
			recorder := httptest.NewRecorder()
			handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, target, nil))
			want := http.StatusNotFound
			if profiling {
				want = http.StatusOK
			}
			if recorder.Code != want {
				t.Errorf("with profiling %t, GET %s = %d, want %d", profiling, target, recorder.Code, want)
			}
		}
	}
}
