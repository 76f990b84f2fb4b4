package leaderelection

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

func TestClientConfig(t *testing.T) {
	base := &rest.Config{Host: "https://203.0.113.1:6443", UserAgent: "crddemo/v1.2.3", QPS: 20}
	tests := []struct {
		name          string
		base          *rest.Config
		renewDeadline time.Duration
		wantTimeout   time.Duration
		wantUserAgent string
	}{
		{"default renew deadline", base, 10 * time.Second, 5 * time.Second, "crddemo/v1.2.3/leader-election"},
		{"short renew deadline", base, 1500 * time.Millisecond, time.Second, "crddemo/v1.2.3/leader-election"},
		{"no user agent yet", &rest.Config{}, 10 * time.Second, 5 * time.Second,
			rest.DefaultKubernetesUserAgent() + "/leader-election"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClientConfig(tt.base, tt.renewDeadline)
			if got.Timeout != tt.wantTimeout || got.UserAgent != tt.wantUserAgent {
				t.Errorf("ClientConfig(_, %v) has timeout %v and user agent %q, want %v and %q",
					tt.renewDeadline, got.Timeout, got.UserAgent, tt.wantTimeout, tt.wantUserAgent)
			}
			if got.Host != tt.base.Host || got.QPS != tt.base.QPS {
				t.Errorf("ClientConfig changed the host or QPS: got %q, %v; want %q, %v", got.Host, got.QPS, tt.base.Host, tt.base.QPS)
			}
		})
	}
	if base.Timeout != 0 || base.UserAgent != "crddemo/v1.2.3" {
		t.Errorf("ClientConfig changed its argument: timeout %v, user agent %q", base.Timeout, base.UserAgent)
	}
}

// TestClientConfigBoundsLeaseRequests sends a lease request, with a context
// that has no deadline of its own for seconds, to a server that never
// answers: the request must fail after ClientConfig's timeout.
func TestClientConfigBoundsLeaseRequests(t *testing.T) {
	userAgents := make(chan string, 1)
	unresponsive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case userAgents <- r.UserAgent():
		default:
		}
		<-r.Context().Done()
	}))
	defer unresponsive.Close()
	client, err := coordinationv1client.NewForConfig(ClientConfig(&rest.Config{Host: unresponsive.URL}, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err = client.Leases("crddemo-system").Get(ctx, "crddemo", metav1.GetOptions{})
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("a lease request to a server that never answers succeeded")
	}
	if elapsed > 5*time.Second {
		t.Errorf("the lease request gave up after %v, want about the 1s timeout: %v", elapsed, err)
	}
	if userAgent := <-userAgents; !strings.HasSuffix(userAgent, "/leader-election") {
		t.Errorf("the lease request's user agent is %q, want it to end in /leader-election", userAgent)
	}
}

func TestClientConfigHasARateLimiterOfItsOwn(t *testing.T) {
	shared := flowcontrol.NewTokenBucketRateLimiter(1, 1)
	base := &rest.Config{Host: "https://10.0.0.1:6443", QPS: 1, Burst: 1, RateLimiter: shared}
	if got := ClientConfig(base, 10*time.Second); got.RateLimiter != nil {
		t.Errorf("the lease client shares its rate limiter with the others: renewals could wait behind syncs")
	}
	if base.RateLimiter != shared {
		t.Error("ClientConfig changed the config it copies")
	}
}
