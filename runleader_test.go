package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/fakeleases"
	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/pkg/client/clientset/versioned/fake"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions"
)

// TestLeaderRunnerTakesTheLeaseOnlyOnceItsCacheHasSynced: a replica that
// has just started, as the one a Deployment starts in place of a deleted
// leader, finds the Lease that leader released; while its list of Mydemos
// has not come in it leaves the Lease alone, attempt after attempt, so that
// a warm standby gets it, and it takes the Lease once its cache has synced.
func TestLeaderRunnerTakesTheLeaseOnlyOnceItsCacheHasSynced(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	listed := make(chan struct{})
	mydemos := fake.NewSimpleClientset(newMydemo("example-mydemo", 1))
	mydemos.PrependReactor("list", "mydemos", func(clienttesting.Action) (bool, runtime.Object, error) {
		select {
		case <-listed:
		case <-ctx.Done():
		}
		// The fake's tracker answers.
		return false, nil, nil
	})

	leases := fakeleases.NewClientset(nil)
	var reads atomic.Int64
	leases.PrependReactor("get", "leases", func(clienttesting.Action) (bool, runtime.Object, error) {
		reads.Add(1)
		return false, nil, nil
	})
	// What client-go's release leaves behind: no holder, a 1 s duration.
	released := metav1.NewMicroTime(time.Now().Add(-time.Minute))
	if _, err := leases.CoordinationV1().Leases("default").Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "crddemo", Namespace: "default"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(""), LeaseDurationSeconds: ptr.To[int32](1),
			AcquireTime: &released, RenewTime: &released},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	cfg := runnerConfig()
	cfg.mydemoClient = mydemos
	cfg.leaseClient = leases
	cfg.leaderElection = &leaderelection.Config{Name: "crddemo", Namespace: "default", Identity: "replacement",
		LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 50 * time.Millisecond}
	r := newLeaderRunner(cfg)

	led := make(chan struct{})
	build := func(_ context.Context, factory informers.SharedInformerFactory, _ string) (func(ctx, writeCtx context.Context), error) {
		// The loop's informer, as the controller's would be.
		factory.Crddemo().V1().Mydemos().Informer()
		return func(ctx, _ context.Context) {
			close(led)
			<-ctx.Done()
		}, nil
	}
	ran := make(chan error, 1)
	go func() { ran <- r.run(ctx, build) }()

	holder := func() string {
		lease, err := leases.CoordinationV1().Leases("default").Get(ctx, "crddemo", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ptr.Deref(lease.Spec.HolderIdentity, "")
	}
	// Five attempts at the free Lease with the cache unsynced, none taking it.
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		if got := holder(); got != "" {
			return false, fmt.Errorf("with its cache unsynced, the replica took the Lease: holder %q, want none", got)
		}
		return reads.Load() >= 5, nil
	}); err != nil {
		t.Fatalf("after %d reads of the Lease: %v", reads.Load(), err)
	}
	select {
	case <-led:
		t.Fatal("the replica led with its cache unsynced")
	default:
	}

	close(listed)
	select {
	case <-led:
	case <-time.After(10 * time.Second):
		t.Fatalf("the replica did not lead within 10 s of its cache syncing (holder %q)", holder())
	}
	if got := holder(); got != "replacement" {
		t.Errorf("the Lease's holder = %q, want the replica that synced", got)
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("the runner returned %v after a graceful stop, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the runner did not return within 10 s of its context ending")
	}
}
