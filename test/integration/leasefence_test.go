package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/controlplane"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// auditPolicy records, with their times, the writes that deploy/'s service
// account makes, and nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    users: ["system:serviceaccount:crddemo-system:crddemo"]
    verbs: ["create", "update", "patch"]
  - level: None
`

// auditEvent is the part of an audit.k8s.io/v1 Event that the test reads.
type auditEvent struct {
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	Verb      string `json:"verb"`
	ObjectRef struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Name        string `json:"name"`
	} `json:"objectRef"`
	RequestReceivedTimestamp metav1.MicroTime `json:"requestReceivedTimestamp"`
}

// TestFaultLeaseRenewalsHang makes the leader's Lease renewals hang while
// its other requests go through, as they would if only the Lease's writes
// were slow, and Mydemos keep coming. From the moment the standby acquires
// the Lease, the API server must receive no write from the old leader: the
// old leader stops writing the renew deadline after its last successful
// renewal began, before the lease can expire for anyone else. The API
// server's audit log, whose times are the API server's own, is the witness.
//
// The timings leave client-go alone no such margin: it gives up only after
// the renew deadline of failed attempts, then tries to release the Lease,
// which hangs as well, and only then stops the leader's work.
func TestFaultLeaseRenewalsHang(t *testing.T) {
	auditDir := t.TempDir()
	policy, auditLog := filepath.Join(auditDir, "policy.yaml"), filepath.Join(auditDir, "audit.log")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := testcontrolplane.StartForTest(t,
		controlplane.APIServerFlag("audit-policy-file", policy),
		controlplane.APIServerFlag("audit-log-path", auditLog))
	client := clientset.NewForConfigOrDie(cp.Config)
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	applyDeploy(t, cp)
	serviceAccount := "system:serviceaccount:" + deployNamespace + ":" + deployServiceAccountName
	webhook := startLeaseWebhook(t, kube, deployNamespace, serviceAccount)

	const leaseDuration, renewDeadline = 3 * time.Second, 2500 * time.Millisecond
	args := []string{
		"--leader-elect",
		"--leader-elect-lease-duration=" + leaseDuration.String(),
		"--leader-elect-renew-deadline=" + renewDeadline.String(),
		"--leader-elect-retry-period=500ms",
		"--leader-elect-resource-namespace=" + deployNamespace,
	}
	leader := startCrddemo(t, nil, append(args, "--kubeconfig="+writeKubeconfig(t, serviceAccountConfig(t, cp)))...)
	waitLeader(t, leader)
	leaderID := leaseHolder(t, kube, deployNamespace)
	standby := startCrddemo(t, nil, append(args, "--kubeconfig="+cp.KubeconfigPath)...)
	standby.waitReady(t)

	// Mydemos keep coming, so that the leader has writes to make right up
	// to the moment it stops.
	stopCreating := createContinuously(t, client, "renewals-hang", 20*time.Millisecond)
	requireNoneLost(t, client, kube, time.Now(), "before the renewals hang")

	webhook.hang.Store(true)
	hung := time.Now()
	select {
	case <-leader.Exited():
	case <-time.After(waitTimeout):
		t.Fatal("the leader kept running with its renewals hanging")
	}
	if code := leader.State().ExitCode(); code == 0 {
		t.Errorf("the leader exited 0 after losing its lease, want non-zero so that it is restarted")
	}
	leader.waitForLog(t, "Leader lease lost")
	newID := waitLeaseHolderChange(t, kube, deployNamespace, leaderID)
	lease, err := kube.CoordinationV1().Leases(deployNamespace).Get(t.Context(), "crddemo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acquired := lease.Spec.AcquireTime.Time
	stopCreating()
	requireNoneLost(t, client, kube, acquired, "after the renewals hung")
	t.Logf("renewals hanging to the standby %s acquiring: %v", newID, acquired.Sub(hung).Round(time.Millisecond))

	// The audit log: the old leader's writes of events and statuses, by the
	// API server's clock.
	var writesAfterHang int
	var last time.Time
	var late []string
	for _, event := range readAudit(t, auditLog) {
		if event.User.Username != serviceAccount || !slices.Contains([]string{"events", "mydemos"}, event.ObjectRef.Resource) {
			continue
		}
		received := event.RequestReceivedTimestamp.Time
		if received.After(hung) {
			writesAfterHang++
		}
		if received.After(last) {
			last = received
		}
		if !received.Before(acquired) {
			late = append(late, fmt.Sprintf("%s of %s %s/%s at %s", event.Verb, event.ObjectRef.Resource,
				event.ObjectRef.Name, event.ObjectRef.Subresource, received.Format(time.StampMicro)))
		}
	}
	if len(late) > 0 {
		t.Errorf("%d writes of the old leader reached the API server after the standby acquired the Lease at %s, such as %q",
			len(late), acquired.Format(time.StampMicro), late[:min(len(late), 3)])
	}
	// Otherwise the test would prove nothing: the leader must have been
	// writing while its renewals hung.
	if writesAfterHang == 0 {
		t.Fatal("the old leader made no write after its renewals began to hang")
	}
	t.Logf("the old leader made %d writes after its renewals began to hang; its last reached the API server %v before the standby acquired the Lease",
		writesAfterHang, acquired.Sub(last).Round(time.Millisecond))
}

// createContinuously creates a Mydemo named prefix-N every interval, in the
// background, until the returned func is called; it returns once the last
// create has finished.
func createContinuously(t *testing.T, client clientset.Interface, prefix string, interval time.Duration) (stop func()) {
	t.Helper()
	return repeatInBackground(t, interval, func(ctx context.Context, i int) error {
		_, err := client.CrddemoV1().Mydemos(metav1.NamespaceDefault).Create(ctx, newTestMydemo(prefix, i), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating mydemo %s-%d: %w", prefix, i, err)
		}
		return nil
	})
}

// repeatInBackground calls step with 0, 1, 2, ... every interval, in the
// background, until the returned func is called or the test ends; it returns
// once the last call has finished. A step that fails while it runs is the
// test's error, and the last step.
func repeatInBackground(t *testing.T, interval time.Duration, step func(ctx context.Context, i int) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var done sync.WaitGroup
	done.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			if err := step(ctx, i); err != nil && ctx.Err() == nil {
				t.Error(err)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
		}
	})
	stopped := sync.OnceFunc(func() {
		cancel()
		done.Wait()
	})
	t.Cleanup(stopped)
	return stopped
}

// readAudit reads the API server's audit log, one JSON event a line.
func readAudit(t *testing.T, path string) []auditEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading the audit log: %v", err)
	}
	defer f.Close()
	var events []auditEvent
	scanner := bufio.NewScanner(f)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		var event auditEvent
		if err := json.Unmarshal(scanner.Bytes(), &event); err != nil {
			t.Fatalf("decoding the audit log line %q: %v", scanner.Text(), err)
		}
		events = append(events, event)
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("reading the audit log: %v", err)
	}
	return events
}
