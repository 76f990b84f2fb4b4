package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// scrapersNamespace holds the ServiceAccounts that scrape crddemo in these
// tests.
const scrapersNamespace = "scrapers"

// TestSecureMetrics runs crddemo as deploy/ does, as its ServiceAccount with
// deploy/'s RBAC and secure metrics with the self-signed certificate, and
// scrapes it with real ServiceAccount tokens: no token or a bad one is 401,
// a token without the right role 403, and crddemo-metrics-reader reads
// /metrics but not the profiles, which need a role of their own; a role
// that grants nonResourceURLs reads them only with
// --metrics-authorization=path.
func TestSecureMetrics(t *testing.T) {
	cp, crddemo := startSecureMetrics(t, "--profiling")
	reader := scraperToken(t, cp, "reader", "crddemo-metrics-reader")
	profiler := scraperToken(t, cp, "profiler", "crddemo-pprof-reader")
	stranger := scraperToken(t, cp, "stranger", "")
	client := newScrapeClient(t)

	checks := []struct {
		name, path, token string
		wantCode          int
		wantBody          string
	}{
		{"no token", "/metrics", "", http.StatusUnauthorized, "Unauthorized"},
		{"a token the API server never issued", "/metrics", "not-a-token", http.StatusUnauthorized, "Unauthorized"},
		{"a ServiceAccount without the role", "/metrics", stranger, http.StatusForbidden,
			`Forbidden: user "system:serviceaccount:scrapers:stranger" may not get path "/metrics"`},
		{"crddemo-metrics-reader", "/metrics", reader, http.StatusOK, "\nrest_client_requests_total{"},
		{"profiles, no token", "/debug/pprof/", "", http.StatusUnauthorized, "Unauthorized"},
		{"profiles, a ServiceAccount without the role", "/debug/pprof/", stranger, http.StatusForbidden, "Forbidden"},
		{"profiles, crddemo-metrics-reader", "/debug/pprof/", reader, http.StatusForbidden, "Forbidden"},
		{"profiles, crddemo-pprof-reader", "/debug/pprof/", profiler, http.StatusOK, "Types of profiles available"},
		{"heap profile, crddemo-pprof-reader", "/debug/pprof/heap?debug=1", profiler, http.StatusOK, "heap profile"},
		{"metrics, crddemo-pprof-reader", "/metrics", profiler, http.StatusForbidden, "Forbidden"},
	}
	for _, c := range checks {
		code, body := client.getWhenServing(t, crddemo.Metrics, c.path, c.token)
		if code != c.wantCode || !strings.Contains(body, c.wantBody) {
			t.Errorf("%s: GET %s = %d, want %d with %q\n%.300s", c.name, c.path, code, c.wantCode, c.wantBody, body)
		}
	}

	// A role that grants every component's /metrics, as nonResourceURLs
	// do, reads crddemo's only with --metrics-authorization=path, and
	// crddemo-metrics-reader then does not.
	kubectl(t, cp, "", "create", "clusterrole", "any-metrics-reader", "--verb=get", "--non-resource-url=/metrics")
	anyReader := scraperToken(t, cp, "any-reader", "any-metrics-reader")
	byPath := startCrddemo(t, isolatedEnv(t), "--kubeconfig="+writeKubeconfig(t, serviceAccountConfig(t, cp)),
		"--metrics-secure", "--metrics-authorization=path")
	for _, c := range []struct {
		name, addr, token string
		wantCode          int
	}{
		{"a nonResourceURLs role, by resource (the default)", crddemo.Metrics, anyReader, http.StatusForbidden},
		{"a nonResourceURLs role, --metrics-authorization=path", byPath.Metrics, anyReader, http.StatusOK},
		{"crddemo-metrics-reader, --metrics-authorization=path", byPath.Metrics, reader, http.StatusForbidden},
	} {
		if code, body := client.getWhenServing(t, c.addr, "/metrics", c.token); code != c.wantCode {
			t.Errorf("%s: GET /metrics = %d, want %d\n%.300s", c.name, code, c.wantCode, body)
		}
	}

	// The same caller refused again is not logged again.
	for range 5 {
		if code, _ := client.get(t, crddemo.Metrics, "/metrics", stranger); code != http.StatusForbidden {
			t.Errorf("GET /metrics as stranger = %d, want 403", code)
		}
	}
	refusals := 0
	for _, line := range strings.Split(crddemo.Output(), "\n") {
		if strings.Contains(line, "Refused a request to the metrics server") &&
			strings.Contains(line, `user="system:serviceaccount:scrapers:stranger"`) {
			refusals++
		}
	}
	if refusals != 1 {
		t.Errorf("crddemo logged %d lines for the stranger's 7 refused requests, want 1", refusals)
	}

	// The probes stay plain HTTP for the kubelet; the metrics port is HTTPS
	// only.
	if code, body := getWhenServing(t, crddemo.Probes, "/healthz"); code != http.StatusOK {
		t.Errorf("GET http://%s/healthz = %d %q, want 200", crddemo.Probes, code, body)
	}
	if code, body, err := harness.Probe(t.Context(), crddemo.Metrics, "/metrics"); err != nil || code != http.StatusBadRequest {
		t.Errorf("GET http://%s/metrics over plain HTTP = %d %q, %v; want 400", crddemo.Metrics, code, body, err)
	}
}

// TestSecureMetricsScrapeBurstCostsFewReviews scrapes crddemo 100 times at
// once with a token it has never seen: the API server answers one or two
// TokenReviews and SubjectAccessReviews, not one of each per scrape.
func TestSecureMetricsScrapeBurstCostsFewReviews(t *testing.T) {
	cp, crddemo := startSecureMetrics(t)
	token := scraperToken(t, cp, "prometheus", "crddemo-metrics-reader")
	client := newScrapeClient(t)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	// The metrics server is up, without a review: no token, no review.
	if code, _ := client.getWhenServing(t, crddemo.Metrics, "/metrics", ""); code != http.StatusUnauthorized {
		t.Fatalf("GET /metrics without a token = %d, want 401", code)
	}
	before := reviewRequests(t, kube)

	const scrapes = 100
	var wg sync.WaitGroup
	codes := make(chan int, scrapes)
	for range scrapes {
		wg.Go(func() {
			code, _ := client.get(t, crddemo.Metrics, "/metrics", token)
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Fatalf("a scrape in the burst got %d, want 200", code)
		}
	}

	// The API server counts a request once it has answered it, which can be
	// a moment after the client has the answer.
	var tokenReviews, accessReviews float64
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(context.Context) (bool, error) {
		after := reviewRequests(t, kube)
		tokenReviews = after["tokenreviews"] - before["tokenreviews"]
		accessReviews = after["subjectaccessreviews"] - before["subjectaccessreviews"]
		return tokenReviews >= 1 && accessReviews >= 1, nil
	})
	if err != nil {
		t.Fatalf("the API server counted %v TokenReviews and %v SubjectAccessReviews for the burst, want at least one of each: %v",
			tokenReviews, accessReviews, err)
	}
	t.Logf("%d scrapes at once cost %v TokenReviews and %v SubjectAccessReviews", scrapes, tokenReviews, accessReviews)
	if tokenReviews > 2 || accessReviews > 2 {
		t.Errorf("%d scrapes with one token cost %v TokenReviews and %v SubjectAccessReviews, want at most 2 of each",
			scrapes, tokenReviews, accessReviews)
	}
}

// startSecureMetrics runs crddemo as deploy/ does, as its ServiceAccount
// with deploy/'s RBAC, with --metrics-secure and then flags, and creates
// scrapersNamespace for the scrapers' ServiceAccounts.
func startSecureMetrics(t *testing.T, flags ...string) (*controlplane.ControlPlane, *crddemoProcess) {
	t.Helper()
	cp := testcontrolplane.StartForTest(t)
	applyDeploy(t, cp)
	crddemo := startCrddemo(t, isolatedEnv(t), append([]string{"--kubeconfig=" + writeKubeconfig(t, serviceAccountConfig(t, cp)),
		"--metrics-secure"}, flags...)...)
	kubectl(t, cp, "", "create", "namespace", scrapersNamespace)
	return cp, crddemo
}

// scraperToken creates the ServiceAccount name in scrapersNamespace, binds
// it to clusterRole unless that is empty, and returns a token for it.
func scraperToken(t *testing.T, cp *controlplane.ControlPlane, name, clusterRole string) string {
	t.Helper()
	kubectl(t, cp, "", "create", "serviceaccount", name, "--namespace="+scrapersNamespace)
	if clusterRole != "" {
		kubectl(t, cp, "", "create", "clusterrolebinding", "scraper-"+name, "--clusterrole="+clusterRole,
			"--serviceaccount="+scrapersNamespace+":"+name)
	}
	return strings.TrimSpace(kubectl(t, cp, "", "create", "token", name, "--namespace="+scrapersNamespace, "--duration=1h"))
}

// reviewRequests reads the API server's own count of the requests it
// answered, by resource, for TokenReviews and SubjectAccessReviews.
func reviewRequests(t *testing.T, kube kubernetes.Interface) map[string]float64 {
	t.Helper()
	m := apiServerMetrics(t, kube)
	counts := map[string]float64{}
	for _, resource := range []string{"tokenreviews", "subjectaccessreviews"} {
		counts[resource] = m.Sum("apiserver_request_total", map[string]string{"resource": resource})
	}
	return counts
}

// scrapeClient scrapes crddemo's secure metrics as Prometheus does with
// deploy/monitoring's PodMonitor: over HTTPS, with a bearer token, trusting the
// self-signed certificate without checking it.
type scrapeClient struct{ *http.Client }

func newScrapeClient(t *testing.T) scrapeClient {
	transport := &http.Transport{
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 100,
		// crddemo closes a host's connections past 8 at once; a burst of
		// scrapes waits for one of them, as Prometheus' would.
		MaxConnsPerHost: 8,
	}
	t.Cleanup(transport.CloseIdleConnections)
	return scrapeClient{&http.Client{Transport: transport, Timeout: waitTimeout}}
}

// do returns the status code and body of GET https://addr/path with token
// as the bearer token, if any.
func (c scrapeClient) do(ctx context.Context, addr, path, token string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// get is do, failing the test on an error; it is safe to call from any
// goroutine.
func (c scrapeClient) get(t *testing.T, addr, path, token string) (int, string) {
	code, body, err := c.do(t.Context(), addr, path, token)
	if err != nil {
		t.Error(fmt.Errorf("GET https://%s%s: %w", addr, path, err))
	}
	return code, body
}

// getWhenServing is get, once addr accepts connections.
func (c scrapeClient) getWhenServing(t *testing.T, addr, path, token string) (int, string) {
	t.Helper()
	var code int
	var body string
	var lastErr error
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		code, body, lastErr = c.do(ctx, addr, path, token)
		return lastErr == nil, nil
	})
	if err != nil {
		t.Fatalf("https://%s never answered: %v (last error: %v)", addr, err, lastErr)
	}
	return code, body
}
