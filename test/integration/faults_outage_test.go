package integration

// Fault tests in which crddemo loses the API server: a restart of
// kube-apiserver, a long partition, and a partition during which etcd's
// history is compacted.

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// outage is how long each fault below keeps crddemo from the API server.
const outage = 8 * time.Second

// TestFaultAPIServerRestartMidBurst stops kube-apiserver while Mydemos are
// being created and starts it again on the same etcd: crddemo says so while
// it is down, and every object ends with its status and event.
func TestFaultAPIServerRestartMidBurst(t *testing.T) {
	// Without this, kube-apiserver's HTTP server waits up to a minute for
	// connections with a watch open to go idle before it exits; with it, it
	// gives them 2 seconds, as it does in clusters that enable it.
	cp, client, kube := startWithCRD(t, controlplane.APIServerFlag("shutdown-send-retry-after", "true"))
	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath)
	crddemo.waitReady(t)
	createMydemos(t, client, "warmup", 1)

	// A creator that keeps going through the outage, retrying each create
	// until the API server takes it.
	burst := make(chan error, 1)
	created := make(chan struct{}, 100)
	go func() { burst <- createThroughOutage(t.Context(), client, "burst", 60, created) }()
	for range 20 {
		<-created
	}
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	crddemo.waitForLog(t, "Cannot reach the Kubernetes API server; will keep retrying")
	waitUnready(t, crddemo)
	time.Sleep(outage) // the fault itself: the API server stays down this long
	if err := cp.StartAPIServer(t.Context()); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	if err := <-burst; err != nil {
		t.Fatal(err)
	}
	crddemo.waitForLog(t, "The Mydemo API is now available")
	requireNoneLost(t, client, kube, back, "API server restarted mid-burst")
	reportFailedRequests(t, crddemo, outage)
}

// createThroughOutage creates n Mydemos named prefix-i, trying each again
// every 100ms until the API server takes it, and signals each one created.
func createThroughOutage(ctx context.Context, client clientset.Interface, prefix string, n int, created chan<- struct{}) error {
	for i := range n {
		demo := newTestMydemo(prefix, i)
		for {
			_, err := client.CrddemoV1().Mydemos(demo.Namespace).Create(ctx, demo, metav1.CreateOptions{})
			// AlreadyExists: an earlier try went through, but its answer
			// was lost.
			if err == nil || apierrors.IsAlreadyExists(err) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("creating mydemo %s: %w", demo.Name, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
		select {
		case created <- struct{}{}:
		default:
		}
	}
	return nil
}

// reportFailedRequests logs how many of crddemo's requests failed during a
// fault of the given length: retries back off, so there is no storm.
func reportFailedRequests(t *testing.T, crddemo *crddemoProcess, fault time.Duration) {
	t.Helper()
	m, err := harness.Scrape(t.Context(), crddemo.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	failed := m.Sum("rest_client_requests_total", map[string]string{"code": "<error>"})
	t.Logf("requests that failed during the %v fault: %v (%.1f a second)", fault, failed, failed/fault.Seconds())
	if perSecond := failed / fault.Seconds(); perSecond > 50 {
		t.Errorf("crddemo sent %.0f failing requests a second during the fault: a retry storm", perSecond)
	}
}

// TestFaultLongPartition keeps crddemo's status writes failing for longer
// than the 15 retries after which crddemo used to give a key up: first
// forbidden, then cut off the API server altogether. With --max-retry-delay
// shrunk to 100ms that takes seconds, not minutes. Once the fault ends,
// every object is synced, without a restart.
func TestFaultLongPartition(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	client := clientset.NewForConfigOrDie(cp.Config)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	applyDeploy(t, cp)
	proxy := startProxy(t, cp)
	saConfig := serviceAccountConfig(t, cp)
	saConfig.Host = "https://" + proxy.Addr()
	crddemo := startCrddemo(t, nil, "--kubeconfig="+writeKubeconfig(t, saConfig), "--max-retry-delay=100ms")
	crddemo.waitReady(t)

	restore := revokeFromClusterRole(t, kube, "crddemo", "mydemos/status")
	names := createMydemos(t, client, "partitioned", 5)
	// Forbidden status writes fail fast: wait until every key has failed
	// more often than the old cap allowed, then cut crddemo off as well.
	oldCap := 15 * float64(len(names))
	crddemo.waitMetrics(t, "the keys are retried more than 15 times each", func(m harness.Metrics) bool {
		return m.Sum("workqueue_retries_total", map[string]string{"name": "mydemos"}) > oldCap
	})
	if err := proxy.Cut(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(outage) // the fault itself: crddemo stays cut off this long
	restore()
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	requireNoneLost(t, client, kube, back, "after a partition longer than the old retry cap")
}

// startProxy puts a harness.Proxy in front of cp's API server for the
// test's length.
func startProxy(t *testing.T, cp *controlplane.ControlPlane) *harness.Proxy {
	t.Helper()
	proxy, err := harness.StartProxy(t.Context(), cp.APIServerAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	return proxy
}

// TestFaultWatchExpiry cuts crddemo off while Mydemos are created, changed
// and deleted and etcd's history is compacted past everything crddemo has
// seen, so that it cannot resume its watch and must list again: it misses
// nothing. The API server runs without its watch cache, which would
// otherwise still serve the compacted history.
func TestFaultWatchExpiry(t *testing.T) {
	cp, client, kube := startWithCRD(t, controlplane.APIServerFlag("watch-cache", "false"))
	crddemo, proxy := startCrddemoBehindProxy(t, cp)
	existing := createMydemos(t, client, "existing", 3)
	requireNoneLost(t, client, kube, time.Now(), "before the partition")

	if err := proxy.Cut(); err != nil {
		t.Fatal(err)
	}
	waitUnready(t, crddemo)
	createMydemos(t, client, "while-cut", 2)
	changePort(t, client, existing[0], 9999)
	if err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Delete(t.Context(), existing[1], metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	revision, err := cp.CompactEtcd(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compacted etcd at revision %d", revision)
	if err := proxy.Restore(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()

	crddemo.waitForLog(t, "Deleting mydemo", `mydemo="default/`+existing[1]+`"`)
	requireNoneLost(t, client, kube, back, "after a partition with etcd compacted")
}

// startCrddemoBehindProxy runs crddemo as admin, through a harness.Proxy in
// front of cp's API server that the test can cut, and waits until it is
// ready.
func startCrddemoBehindProxy(t *testing.T, cp *controlplane.ControlPlane) (*crddemoProcess, *harness.Proxy) {
	t.Helper()
	proxy := startProxy(t, cp)
	kubeconfig, err := cp.KubeconfigFor("https://" + proxy.Addr())
	if err != nil {
		t.Fatal(err)
	}
	crddemo := startCrddemo(t, nil, "--kubeconfig="+kubeconfig)
	crddemo.waitReady(t)
	return crddemo, proxy
}

// changePort sets the port of the named Mydemo.
func changePort(t *testing.T, client clientset.Interface, name string, port int32) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		demo, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		demo.Spec.Port = port
		_, err = client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Update(t.Context(), demo, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("changing the port of %s: %v", name, err)
	}
}

// TestFaultSIGTERMWhileCutOff stops crddemo after it has been cut off the
// API server for a while: it exits 0 at once, without waiting out
// client-go's retries.
func TestFaultSIGTERMWhileCutOff(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	client := clientset.NewForConfigOrDie(cp.Config)
	installCRD(t, cp)
	crddemo, proxy := startCrddemoBehindProxy(t, cp)
	waitAllSynced(t, client, createMydemos(t, client, "cut", 3))

	if err := proxy.Cut(); err != nil {
		t.Fatal(err)
	}
	waitUnready(t, crddemo)
	time.Sleep(outage) // the fault itself: crddemo stays cut off this long
	stopped := time.Now()
	if code := crddemo.stop(t); code != 0 {
		t.Errorf("exit code after SIGTERM while cut off = %d, want 0", code)
	}
	exit := time.Since(stopped)
	t.Logf("SIGTERM to exit after %v cut off: %v", outage, exit.Round(time.Millisecond))
	if exit > 3*time.Second {
		t.Errorf("crddemo took %v to exit while cut off, want about a second at most", exit)
	}
}
