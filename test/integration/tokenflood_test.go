package integration

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// tokenFlood is how long TestSecureMetricsTokenFlood floods crddemo. The
// default is just past the minute after which the valid scraper's cached
// answers are due for a refresh, so that the flood has to leave the refresh
// its budget; -token-flood=90s runs the full 90 s.
var tokenFlood = flag.Duration("token-flood", 65*time.Second, "how long TestSecureMetricsTokenFlood floods crddemo's metrics with random tokens")

// TestSecureMetricsTokenFlood floods crddemo's secure metrics with random
// bearer tokens, 50 at a time, each attacker from a host of its own (a
// flood from one host would mostly meet its connection cap instead), while
// a valid scraper scrapes every 5 s. Every valid scrape gets 200, its
// cached answers refreshed in the background once due; no attacker waits
// into a 503; and the API server, which counts them itself, receives no
// more TokenReviews than the budget for new tokens admits.
func TestSecureMetricsTokenFlood(t *testing.T) {
	cp, crddemo := startSecureMetrics(t)
	token := scraperToken(t, cp, "prometheus", "crddemo-metrics-reader")
	scraper := newScrapeClient(t)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	if code, body := scraper.getWhenServing(t, crddemo.Metrics, "/metrics", token); code != http.StatusOK {
		t.Fatalf("the valid scraper's first scrape = %d %.300q, want 200", code, body)
	}
	before := reviewRequests(t, kube)
	start := time.Now()

	ctx, stopFlood := context.WithTimeout(t.Context(), *tokenFlood)
	defer stopFlood()
	var attackers sync.WaitGroup
	var mu sync.Mutex
	attackCodes := map[int]int{}
	for i := range 50 {
		attacker := attackerClient(t, fmt.Sprintf("127.0.2.%d", i+1))
		attackers.Go(func() {
			for ctx.Err() == nil {
				code, _, err := attacker.do(ctx, crddemo.Metrics, "/metrics", rand.Text())
				if err != nil {
					code = -1 // the flood's end, or crddemo closing the connection
				}
				mu.Lock()
				attackCodes[code]++
				mu.Unlock()
			}
		})
	}

	scrapes := 0
	for ctx.Err() == nil {
		code, body, err := scraper.do(t.Context(), crddemo.Metrics, "/metrics", token)
		scrapes++
		if err != nil || code != http.StatusOK {
			t.Errorf("valid scrape %d, %v into the flood = %d %.200q, %v; want 200",
				scrapes, time.Since(start).Round(time.Second), code, body, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
	attackers.Wait()
	flooded := time.Since(start)

	// The budget for new tokens: bursts of 10, then 2 a second; the valid
	// scraper's refreshes come from a budget of their own, one a minute.
	budget := 10 + 2*flooded.Seconds() + flooded.Minutes() + 1
	var tokenReviews float64
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, 10*time.Second, true, func(context.Context) (bool, error) {
		tokenReviews = reviewRequests(t, kube)["tokenreviews"] - before["tokenreviews"]
		return tokenReviews > budget, nil
	})
	if err == nil {
		t.Errorf("%v of flood cost %v TokenReviews, want at most %.0f", flooded.Round(time.Second), tokenReviews, budget)
	}
	t.Logf("%v of flood, %d valid scrapes; attackers' answers by code: %v; %v TokenReviews (budget %.0f)",
		flooded.Round(time.Second), scrapes, attackCodes, tokenReviews, budget)
	if attackCodes[http.StatusServiceUnavailable] > 0 {
		t.Errorf("%d attackers' requests got 503, want 429 or 401 for all of them", attackCodes[http.StatusServiceUnavailable])
	}
	if attackCodes[http.StatusTooManyRequests] == 0 {
		t.Errorf("no attacker's request got 429: the flood never spent the budget")
	}
}

// attackerClient is a scrapeClient whose connections come from source, a
// loopback address of its own.
func attackerClient(t *testing.T, source string) scrapeClient {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	transport := &http.Transport{
		DialContext:     dialer.DialContext,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	t.Cleanup(transport.CloseIdleConnections)
	return scrapeClient{&http.Client{Transport: transport, Timeout: waitTimeout}}
}
