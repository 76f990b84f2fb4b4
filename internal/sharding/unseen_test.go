package sharding

import (
	"context"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/fakeleases"
	"github.com/domac/crddemo/internal/shard"
)

// leaseWrites records the resourceVersion of every write of the Leases
// that the tests below watch.
type leaseWrites struct {
	mu sync.Mutex
	// joined is the first write of replica b's membership Lease.
	joined string
	// lastByDead is the last write of the shard Lease by its dead holder.
	lastByDead string
}

func (w *leaseWrites) record(lease *coordinationv1.Lease) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case lease.Name == memberLeaseName("crddemo", "b") && w.joined == "":
		w.joined = lease.ResourceVersion
	case lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity == "dead":
		w.lastByDead = lease.ResourceVersion
	}
}

func (w *leaseWrites) get() (joined, lastByDead string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.joined, w.lastByDead
}

// TestWorkIsToldWhichChangesNoOwnerSaw: the work of a shard taken is told
// the resourceVersion after which changes reached no owner: the replica's
// joining, when the shard's Lease was last written before it, or the last
// renewal of a holder that died after the replica joined.
func TestWorkIsToldWhichChangesNoOwnerSaw(t *testing.T) {
	shardLease := ShardLeaseName("crddemo", shard.Split(1)[0])
	held := func(by string) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: "crddemo-system", Name: shardLease},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(by), LeaseDurationSeconds: ptr.To(int32(1)),
				RenewTime: ptr.To(metav1.NowMicro())},
		}
	}

	t.Run("released before the replica joined", func(t *testing.T) {
		writes := &leaseWrites{}
		client := fakeleases.NewClientset(writes.record)
		released := held("")
		if _, err := client.CoordinationV1().Leases("crddemo-system").Create(t.Context(), released, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitTold(t, startTellingReplica(t, client))
		if joined, _ := writes.get(); got != joined || joined == "" {
			t.Errorf("work told changes after %q reached no owner, want %q, b's joining", got, joined)
		}
	})

	t.Run("holder died after the replica joined", func(t *testing.T) {
		writes := &leaseWrites{}
		client := fakeleases.NewClientset(writes.record)
		leases := client.CoordinationV1().Leases("crddemo-system")
		lease, err := leases.Create(t.Context(), held("dead"), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		told := startTellingReplica(t, client)
		// The holder renews until b has joined, once more, and dies.
		err = wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, waitLimit, true, func(context.Context) (bool, error) {
			joined, _ := writes.get()
			lease.Spec.RenewTime = ptr.To(metav1.NowMicro())
			lease, err = leases.Update(t.Context(), lease, metav1.UpdateOptions{})
			return joined != "", err
		})
		if err != nil {
			t.Fatalf("renewing the shard Lease as its holder until b joined: %v", err)
		}
		joined, lastByDead := writes.get()
		if got := waitTold(t, told); got != lastByDead || got == joined {
			t.Errorf("work told changes after %q reached no owner, want %q, the dead holder's last renewal (b joined at %q)",
				got, lastByDead, joined)
		}
	})
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
