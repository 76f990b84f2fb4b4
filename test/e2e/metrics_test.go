//go:build linux

package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
)

// TestMetricsThroughTheScraperServiceAccount applies deploy/monitoring's
// scraper ServiceAccount and reads each pod's HTTPS /metrics on its pod IP,
// as Prometheus would: with the scraper's token it answers 200 with
// crddemo's metrics, with a random token 401. kubectl get pods shows both
// replicas ready, as the kubelet's probes on :8081 found them.
func TestMetricsThroughTheScraperServiceAccount(t *testing.T) {
	c := requireCluster(t)
	pods := c.deploy(t, 2)
	c.kubectl(t, "apply", "-f", repoPath(t, "deploy/monitoring/scraper.yaml"))
	t.Cleanup(func() {
		c.kubectl(t, "delete", "--ignore-not-found", "-f", repoPath(t, "deploy/monitoring/scraper.yaml"))
	})
	token := c.scraperToken(t)

	for _, pod := range pods {
		url := "https://" + net.JoinHostPort(pod.Status.PodIP, "8443") + "/metrics"
		code, body := scrape(t, url, token)
		if code != http.StatusOK || !strings.Contains(body, "crddemo_") {
			t.Errorf("GET %s with the scraper's token: %d, want 200 with crddemo's metrics; body starts %.200q", url, code, body)
		}
		if code, _ := scrape(t, url, rand.String(32)); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a random token: %d, want 401", url, code)
		}
	}
	out := c.kubectl(t, "get", "pods", "--namespace="+namespace, "--selector="+selector, "--no-headers")
	for _, pod := range pods {
		line := lineOf(out, pod.Name)
		if fields := strings.Fields(line); len(fields) < 3 || fields[1] != "1/1" || fields[2] != "Running" {
			t.Errorf("kubectl get pods shows %q for %s, want 1/1 Running", line, pod.Name)
		}
	}
}

// scraperToken waits for kube-controller-manager to fill the scraper's
// token Secret and returns the token.
func (c *testCluster) scraperToken(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	var token string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		secret, err := c.kube.CoreV1().Secrets(namespace).Get(ctx, "crddemo-metrics-scraper-token", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		token = string(secret.Data["token"])
		return token != "", nil
	})
	if err != nil {
		t.Fatalf("waiting for the scraper's token Secret to be filled: %v", err)
	}
	return token
}

// scrape GETs url with token as a bearer token and returns the status code
// and body. crddemo's certificate is self-signed; what is tested here is who
// it answers, not who it is.
func scrape(t *testing.T, url, token string) (int, string) {
	t.Helper()
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// lineOf returns the line of out that starts with name.
func lineOf(out, name string) string {
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, name+" ") {
			return strings.TrimSpace(line)
		}
	}
	return fmt.Sprintf("(no line for %s)", name)
}
