package integration

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/harness"
)

// leaderElectionArgs turn leader election on with the short timings that
// the tests and the bench share.
var leaderElectionArgs = harness.LeaderElectionFlags()

// TestLeaderElectionFailover runs crddemo replicas side by side: only the
// leader writes, a SIGTERMed leader hands over at once, a SIGKILLed one once
// its lease runs out, and the standby that takes over syncs from its warm
// cache without listing Mydemos again.
func TestLeaderElectionFailover(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	before := createMydemos(t, client, "before", 3)

	kubeconfig := "--kubeconfig=" + cp.KubeconfigPath
	first := startCrddemo(t, nil, append(leaderElectionArgs, kubeconfig)...)
	waitLeader(t, first)
	second := startCrddemo(t, nil, append(leaderElectionArgs, kubeconfig)...)
	second.waitReady(t)

	// Only the leader writes: every event names it, and the standby has
	// sent no write of any kind, not even to the Lease.
	firstID := leaseHolder(t, kube, metav1.NamespaceDefault)
	for name, reporters := range syncedEventsOf(t, kube, waitAllSynced(t, client, before)) {
		if len(reporters) != 1 || reporters[0] != firstID {
			t.Errorf("Synced events of %s were written by %q, want once by the leader %q", name, reporters, firstID)
		}
	}
	if writes := writeRequests(t, second); writes != 0 {
		t.Errorf("the standby made %v write requests, want none", writes)
	}
	lists := mydemoLists(t, kube)
	if lists < 2 {
		t.Fatalf("the API server counted %v full lists of Mydemos for two started replicas, want at least 2", lists)
	}

	// SIGTERM: the leader finishes, releases the lease and exits 0; the
	// standby takes over within a retry period.
	stopped := time.Now()
	if code := first.stop(t); code != 0 {
		t.Errorf("the leader exited %d after SIGTERM, want 0", code)
	}
	duringHandover := createMydemos(t, client, "handover", 2)
	secondID := waitLeaseHolderChange(t, kube, metav1.NamespaceDefault, firstID)
	tookOver := time.Now()
	t.Logf("SIGTERM to the standby leading: %v", tookOver.Sub(stopped).Round(time.Millisecond))
	if limit := time.Duration(float64(harness.RetryPeriod)*2.2) + time.Second; tookOver.Sub(stopped) > limit {
		t.Errorf("the standby took %v to lead after a graceful handover, want at most %v", tookOver.Sub(stopped), limit)
	}
	synced := waitAllSynced(t, client, duringHandover)
	t.Logf("standby leading to objects created during the handover synced: %v", time.Since(tookOver).Round(time.Millisecond))
	for name, reporters := range syncedEventsOf(t, kube, synced) {
		if len(reporters) != 1 || reporters[0] != secondID {
			t.Errorf("Synced events of %s were written by %q, want once by the new leader %q", name, reporters, secondID)
		}
	}
	if after := mydemoLists(t, kube); after != lists {
		t.Errorf("Mydemos were listed %v times during the handover, want none: the standby's cache was warm", after-lists)
	}

	// SIGKILL: nothing releases the lease; a third replica takes it once it
	// expires.
	third := startCrddemo(t, nil, append(leaderElectionArgs, kubeconfig)...)
	third.waitReady(t)
	killed := time.Now()
	second.Kill()
	afterKill := createMydemos(t, client, "after-kill", 2)
	waitLeaseHolderChange(t, kube, metav1.NamespaceDefault, secondID)
	t.Logf("SIGKILL to the standby leading: %v", time.Since(killed).Round(time.Millisecond))
	if limit := harness.LeaseDuration + time.Duration(float64(harness.RetryPeriod)*2.2) + 2*time.Second; time.Since(killed) > limit {
		t.Errorf("the standby took %v to lead after the leader died, want at most %v", time.Since(killed), limit)
	}

	// Every object ends synced with exactly one Synced event, as if there
	// had been no failover.
	all := append(append(before, duringHandover...), afterKill...)
	for name, reporters := range syncedEventsOf(t, kube, waitAllSynced(t, client, all)) {
		if len(reporters) != 1 {
			t.Errorf("%s has %d Synced events (%q), want exactly 1", name, len(reporters), reporters)
		}
	}
	if code := third.stop(t); code != 0 {
		t.Errorf("the last leader exited %d after SIGTERM, want 0", code)
	}
}

// waitLeader waits until p says, through its leader gauge, that it leads.
func waitLeader(t *testing.T, p *crddemoProcess) {
	t.Helper()
	p.waitMetrics(t, "crddemo reports leader_election_master_status 1", func(m harness.Metrics) bool {
		return m.Sum("leader_election_master_status", map[string]string{"name": "crddemo"}) == 1
	})
}

// leaseHolder returns the identity that holds crddemo's Lease in namespace.
func leaseHolder(t *testing.T, kube kubernetes.Interface, namespace string) string {
	t.Helper()
	return holderOf(t, kube, namespace, "crddemo")
}

// holderOf returns the identity that holds the Lease namespace/name.
func holderOf(t *testing.T, kube kubernetes.Interface, namespace, name string) string {
	t.Helper()
	lease, err := kube.CoordinationV1().Leases(namespace).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Fatalf("the Lease %s has no holder: %+v", name, lease.Spec)
	}
	return *lease.Spec.HolderIdentity
}

// waitLeaseHolderChange waits until another replica than previous holds
// crddemo's Lease in namespace, and returns it.
func waitLeaseHolderChange(t *testing.T, kube kubernetes.Interface, namespace, previous string) string {
	t.Helper()
	var holder string
	err := wait.PollUntilContextTimeout(t.Context(), pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
		lease, err := kube.CoordinationV1().Leases(namespace).Get(ctx, "crddemo", metav1.GetOptions{})
		if err != nil || lease.Spec.HolderIdentity == nil {
			return false, nil
		}
		holder = *lease.Spec.HolderIdentity
		return holder != "" && holder != previous, nil
	})
	if err != nil {
		t.Fatalf("the Lease stayed with %q: %v", previous, err)
	}
	return holder
}

// writeRequests is how many POST, PUT, PATCH and DELETE requests p has sent
// to the API server, by its own rest_client_requests_total.
func writeRequests(t *testing.T, p *crddemoProcess) float64 {
	t.Helper()
	m, err := harness.Scrape(t.Context(), p.Metrics)
	if err != nil {
		t.Fatal(err)
	}
	var writes float64
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		writes += m.Sum("rest_client_requests_total", map[string]string{"method": method})
	}
	return writes
}

// apiServerMetrics reads the API server's own /metrics.
func apiServerMetrics(t *testing.T, kube kubernetes.Interface) harness.Metrics {
	t.Helper()
	body, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(t.Context())
	if err != nil {
		t.Fatalf("reading the API server's metrics: %v", err)
	}
	m, err := harness.ParseMetrics(string(body))
	if err != nil {
		t.Fatalf("parsing the API server's metrics: %v", err)
	}
	return m
}

// mydemoLists is how many full lists of Mydemos the API server has served,
// by its own metrics: plain LISTs, and the watch-lists (a watch that starts
// with every object) that client-go's reflectors use by default.
func mydemoLists(t *testing.T, kube kubernetes.Interface) float64 {
	t.Helper()
	m := apiServerMetrics(t, kube)
	mydemos := map[string]string{"resource": "mydemos"}
	return m.Sum("apiserver_request_total", map[string]string{"resource": "mydemos", "verb": "LIST"}) +
		m.Sum("apiserver_watch_list_duration_seconds_count", mydemos)
}

// TestFaultLeaderLosesTheLease takes the Lease away from the leader, as a
// partition from the API server or a stalled process would: the leader gives
// up and exits non-zero within its renew deadline, before the standby takes
// the lease, and the standby then syncs everything.
func TestFaultLeaderLosesTheLease(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	kubeconfig := "--kubeconfig=" + cp.KubeconfigPath
	leader := startCrddemo(t, nil, append(leaderElectionArgs, kubeconfig)...)
	waitLeader(t, leader)
	standby := startCrddemo(t, nil, append(leaderElectionArgs, kubeconfig)...)
	standby.waitReady(t)
	leaderID := leaseHolder(t, kube, metav1.NamespaceDefault)

	// Another holder renews the Lease for longer than the leader's renew
	// deadline, so that the leader can no longer renew it.
	stolen := time.Now()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		lease, err := kube.CoordinationV1().Leases(metav1.NamespaceDefault).Get(t.Context(), "crddemo", metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.NewMicroTime(time.Now())
		lease.Spec.HolderIdentity = ptr.To("thief")
		lease.Spec.LeaseDurationSeconds = ptr.To(int32((harness.RenewDeadline + 3*time.Second).Seconds()))
		lease.Spec.AcquireTime, lease.Spec.RenewTime = &now, &now
		_, err = kube.CoordinationV1().Leases(metav1.NamespaceDefault).Update(t.Context(), lease, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("taking the Lease: %v", err)
	}
	createMydemos(t, client, "during", 3)

	select {
	case <-leader.Exited():
	case <-time.After(waitTimeout):
		t.Fatal("the leader kept running after losing its lease")
	}
	leaderGone := time.Now()
	if code := leader.State().ExitCode(); code == 0 {
		t.Errorf("the leader exited %d after losing its lease, want non-zero so that it is restarted", code)
	}
	leader.waitForLog(t, "Leader lease lost")
	t.Logf("lease taken to the leader's exit: %v", leaderGone.Sub(stolen).Round(time.Millisecond))

	newID := waitLeaseHolderChange(t, kube, metav1.NamespaceDefault, "thief")
	lease, err := kube.CoordinationV1().Leases(metav1.NamespaceDefault).Get(t.Context(), "crddemo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if newID == leaderID || lease.Spec.AcquireTime == nil || !lease.Spec.AcquireTime.Time.After(leaderGone) {
		t.Errorf("the Lease went to %q at %v; want the standby, after the old leader exited at %v", newID, lease.Spec.AcquireTime, leaderGone)
	}
	requireNoneLost(t, client, kube, lease.Spec.AcquireTime.Time, "after the leader lost its lease")
}
