package integration

import (
	"context"
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/domac/crddemo/internal/harness"
)

// TestProbesAndProfilingWithoutAnAPIServer points crddemo at an address
// where no API server listens: it stays alive (/healthz passes) but never
// ready (/readyz fails), and serves Go's profiles only with --profiling.
func TestProbesAndProfilingWithoutAnAPIServer(t *testing.T) {
	profiled := startCrddemo(t, isolatedEnv(t), "--master=https://127.0.0.1:1", "--profiling")
	plain := startCrddemo(t, isolatedEnv(t), "--master=https://127.0.0.1:1")

	checks := []struct {
		name     string
		crddemo  *crddemoProcess
		addr     func(*crddemoProcess) string
		path     string
		wantCode int
	}{
		{"alive", profiled, probesOf, "/healthz", http.StatusOK},
		{"alive, ping check alone", profiled, probesOf, "/healthz/ping", http.StatusOK},
		{"not ready without a synced cache", profiled, probesOf, "/readyz", http.StatusInternalServerError},
		{"profiles with --profiling", profiled, metricsOf, "/debug/pprof/", http.StatusOK},
		{"heap profile with --profiling", profiled, metricsOf, "/debug/pprof/heap", http.StatusOK},
		{"no profiles without --profiling", plain, metricsOf, "/debug/pprof/", http.StatusNotFound},
		{"metrics", plain, metricsOf, "/metrics", http.StatusOK},
	}
	for _, c := range checks {
		if code, body := getWhenServing(t, c.addr(c.crddemo), c.path); code != c.wantCode {
			t.Errorf("%s: GET %s = %d, want %d\n%s", c.name, c.path, code, c.wantCode, body)
		}
	}
}

func probesOf(p *crddemoProcess) string  { return p.Probes }
func metricsOf(p *crddemoProcess) string { return p.Metrics }

// getWhenServing waits until addr accepts connections, as crddemo's servers
// do within moments of its start, and returns the status code and body of
// GET path.
func getWhenServing(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	var code int
	var body string
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		var err error
		code, body, err = harness.Probe(ctx, addr, path)
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("http://%s never answered: %v", addr, err)
	}
	return code, body
}
