package sharding

import (
	"context"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/fakeleases"
	"github.com/domac/crddemo/internal/shard"
)

// leaseWrites records the resourceVersions of the Lease writes that the
// test below asks about.
type leaseWrites struct {
	mu sync.Mutex
	// joined is the first write of replica b's membership Lease.
	joined string
	// lastByOld is the last write of the shard Lease by holder "old".
	lastByOld string
}

func (w *leaseWrites) record(lease *coordinationv1.Lease) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case lease.Name == memberLeaseName("crddemo", "b") && w.joined == "":
		w.joined = lease.ResourceVersion
	case lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity == "old":
		w.lastByOld = lease.ResourceVersion
	}
}

func (w *leaseWrites) get() (joined, lastByOld string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.joined, w.lastByOld
}

// TestWorkIsToldWhatChangesAreLive: the work of a shard taken is told the
// resourceVersion after which changes in its initial list are live: the
// replica's joining, when the shard's last holder took it before that, or
// the Lease's version before its last holder took it, when that holder took
// it after the replica joined (and died with changes unsynced).
func TestWorkIsToldWhatChangesAreLive(t *testing.T) {
	shardLease := ShardLeaseName("crddemo", shard.Split(1)[0])
	heldBy := func(holder string) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: "crddemo-system", Name: shardLease},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To(int32(1)),
				RenewTime: ptr.To(metav1.NowMicro())},
		}
	}

	t.Run("released before the replica joined", func(t *testing.T) {
		writes := &leaseWrites{}
		client := fakeleases.NewClientset(writes.record)
		if _, err := client.CoordinationV1().Leases("crddemo-system").Create(t.Context(), heldBy(""), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitTold(t, startTellingReplica(t, client))
		if joined, _ := writes.get(); got != joined || joined == "" {
			t.Errorf("work told changes after %q are live, want %q, b's joining", got, joined)
		}
	})

	t.Run("taken after the replica joined by a holder that died", func(t *testing.T) {
		writes := &leaseWrites{}
		client := fakeleases.NewClientset(writes.record)
		leases := client.CoordinationV1().Leases("crddemo-system")
		lease, err := leases.Create(t.Context(), heldBy("old"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		renew := func(holder string) {
			t.Helper()
			lease.Spec.HolderIdentity, lease.Spec.RenewTime = ptr.To(holder), ptr.To(metav1.NowMicro())
			if lease, err = leases.Update(t.Context(), lease, metav1.UpdateOptions{}); err != nil {
				t.Fatalf("renewing the shard Lease as %s: %v", holder, err)
			}
		}
		told := startTellingReplica(t, client)
		// "old" holds the shard until b has joined and read the Lease
		// twice, and renews it once more, which b reads; then "new" takes
		// it, renews it twice and dies.
		reads := 0
		for lists := listsOfEveryLease(client); reads < 2; time.Sleep(10 * time.Millisecond) {
			renew("old")
			if joined, _ := writes.get(); joined != "" && listsOfEveryLease(client) > lists {
				lists = listsOfEveryLease(client)
				reads++
			}
		}
		renew("old")
		lists := listsOfEveryLease(client)
		for deadline := time.Now().Add(waitLimit); listsOfEveryLease(client) == lists; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("b did not read the shard Lease again within %v", waitLimit)
			}
		}
		for range 2 {
			renew("new")
		}
		joined, lastByOld := writes.get()
		if got := waitTold(t, told); got != lastByOld {
			t.Errorf("work told changes after %q are live, want %q, the Lease before \"new\" took it (b joined at %q)",
				got, lastByOld, joined)
		}
	})
}

// listsOfEveryLease counts the lists of Leases without a label selector
// that client has served: rangeLeases reads the shard Leases so.
func listsOfEveryLease(client *fake.Clientset) int {
	n := 0
	for _, action := range client.Actions() {
		if list, ok := action.(clienttesting.ListActionImpl); ok && list.GetResource().Resource == "leases" &&
			list.GetListRestrictions().Labels.Empty() {
			n++
		}
	}
	return n
}

// startTellingReplica starts replica b of one shard, whose work sends what
// it is told on the returned channel.
func startTellingReplica(t *testing.T, client *fake.Clientset) <-chan string {
	told := make(chan string, 1)
	_, ctx := ktesting.NewTestContext(t)
	ctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = Run(ctx, client.CoordinationV1(), testConfig("b", 1), func(ctx, _ context.Context, _ int, liveAfter string) {
			told <- liveAfter
			<-ctx.Done()
		})
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	return told
}

func waitTold(t *testing.T, told <-chan string) string {
	t.Helper()
	select {
	case liveAfter := <-told:
		return liveAfter
	case <-time.After(waitLimit):
		t.Fatalf("the shard was not taken within %v", waitLimit)
		return ""
	}
}
