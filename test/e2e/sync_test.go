//go:build linux

package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/harness"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// leaseDuration and retryPeriod are deploy/'s (crddemo's defaults): a
// standby takes a Lease its leader stopped renewing within their sum.
const (
	leaseDuration = 15 * time.Second
	retryPeriod   = 2 * time.Second
)

// TestExampleSyncedFromThePod applies example/example-mydemo.yaml, as the
// README's walkthrough does, and checks that crddemo, running in a pod,
// writes its status and records its Synced event, as that pod.
func TestExampleSyncedFromThePod(t *testing.T) {
	c := requireCluster(t)
	pods := c.deploy(t, 2)
	leader := c.waitLeader(t, pods, waitTimeout)

	c.kubectl(t, "apply", "-f", repoPath(t, "example/example-mydemo.yaml"))
	t.Cleanup(func() { c.kubectl(t, "delete", "--ignore-not-found", "-f", repoPath(t, "example/example-mydemo.yaml")) })
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	demo, err := harness.WaitSynced(ctx, c.client, "default", "example-mydemo", 1)
	if err != nil {
		t.Fatal(err)
	}
	events, err := harness.SyncedEvents(ctx, c.kube, demo)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 {
		t.Fatalf("example-mydemo has %d Synced events, want 1: %+v", len(events), events)
	}
	// crddemo names its host, the pod's hostname, as the event's source.
	if got := events[0].Source.Host; got != leader.Name {
		t.Errorf("the Synced event comes from host %q, want the leader pod %s", got, leader.Name)
	}
	if out := c.kubectl(t, "get", "mydemo", "example-mydemo", "--namespace=default"); !strings.Contains(out, "True") {
		t.Errorf("kubectl get mydemo example-mydemo shows it unsynced:\n%s", out)
	}
}

// TestLeaderPodDeletedStandbyTakesOver deletes the leader's pod while
// Mydemos are being created, and checks that another replica leads within
// a lease duration and a retry period, that the Deployment starts a new
// replica, and that every Mydemo, those created during the hand-over too,
// is synced once.
//
// The leader releases its Lease on SIGTERM, and from then on the standby
// and the pod that the Deployment starts at once in the deleted one's place
// both campaign for it: the standby at its next attempt, 1 to 2.2 retry
// periods apart, the replacement once its cache has synced. Either may win,
// and either leads from a warm cache.
func TestLeaderPodDeletedStandbyTakesOver(t *testing.T) {
	c := requireCluster(t)
	pods := c.deploy(t, 2)
	leader := c.waitLeader(t, pods, waitTimeout)
	ns := c.testNamespace(t)
	c.createMydemos(t, ns, "before", 20)

	deleted := time.Now()
	if err := c.kube.CoreV1().Pods(namespace).Delete(t.Context(), leader.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting the leader pod %s: %v", leader.Name, err)
	}
	c.createMydemos(t, ns, "during", 20)
	holder := c.waitHolder(t, func(holder string) bool {
		return holder != "" && !strings.HasPrefix(holder, leader.Name+"_")
	}, leaseDuration+retryPeriod)
	took := time.Since(deleted)
	who := "the Deployment's replacement pod"
	for _, pod := range pods {
		if strings.HasPrefix(holder, pod.Name+"_") {
			who = "the standby " + pod.Name
		}
	}
	t.Logf("%s led %v after the leader's pod was deleted", who, took.Round(100*time.Millisecond))

	c.createMydemos(t, ns, "after", 20)
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if _, err := harness.WaitAllSynced(ctx, c.client, c.kube, ns); err != nil {
		t.Fatal(err)
	}
	replaced := c.waitPods(t, 2)
	leads := false
	for _, pod := range replaced {
		if pod.Name == leader.Name {
			t.Errorf("the deleted leader pod %s is still among the replicas", leader.Name)
		}
		leads = leads || strings.HasPrefix(holder, pod.Name+"_")
	}
	if !leads {
		t.Errorf("the Lease's holder %q is none of the replicas running now", holder)
	}
}

// testNamespace creates a namespace for the test's Mydemos and deletes it
// when the test ends.
func (c *testCluster) testNamespace(t *testing.T) string {
	t.Helper()
	ns, err := c.kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = c.kube.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// createWorkers is how many Mydemos createMydemos creates at a time.
const createWorkers = 8

// createMydemos creates n Mydemos named prefix-0 and so on in ns,
// createWorkers at a time.
func (c *testCluster) createMydemos(t *testing.T, ns, prefix string, n int) {
	t.Helper()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	var wg sync.WaitGroup
	for w := range createWorkers {
		wg.Go(func() {
			for i := w; i < n && ctx.Err() == nil; i += createWorkers {
				demo := &crddemov1.Mydemo{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Namespace: ns},
					Spec:       crddemov1.MydemoSpec{IP: "10.0.0.1", Port: 8080},
				}
				if _, err := harness.CreateMydemo(ctx, c.client, demo); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		t.Fatal(err)
	}
}
