package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/shard"
	"github.com/domac/crddemo/internal/sharding"
)

// With --replicas or --shards above 1 the bench runs a fleet: crddemo
// processes with --leader-elect --shards, sharing the shards through Leases
// (internal/sharding).
//
// Its cold start must not time, nor let the replicas' memory peaks show, the
// moment when the first replica to start has counted only itself and takes
// every shard, lists every Mydemo, and hands shards back as the others join.
// So the bench holds every shard's Lease itself while the replicas start,
// waits until each has counted the others, and frees the Leases when it
// starts timing: each replica then takes only its fair share, and lists only
// that. The shards cannot be owned before the timing starts, as their owners
// would sync the waiting objects untimed.
const (
	// leaseGroup and leaseNamespace are crddemo's defaults outside a
	// cluster, passed explicitly because the bench names the Leases.
	leaseGroup     = "crddemo"
	leaseNamespace = metav1.NamespaceDefault
	// benchHolder is the holder of the shards' Leases while the bench holds
	// them; the replicas see a live Lease and wait.
	benchHolder = "crddemo-bench"
)

// leaderElection describes the replicas' Lease timings, for the report.
// The timings are the integration tests' (harness.LeaderElectionFlags)
// rather than the defaults: a replica notices a freed Lease 1 to 2.2 retry
// periods later, which the cold phase times.
var leaderElection = fmt.Sprintf("lease %v, renew %v, retry %v", harness.LeaseDuration, harness.RenewDeadline, harness.RetryPeriod)

// shardingFlags are the crddemo flags that make a replica of a fleet
// sharing shards shards.
func shardingFlags(shards int) []string {
	return append(harness.LeaderElectionFlags(),
		"--shards="+strconv.Itoa(shards),
		"--leader-elect-resource-name="+leaseGroup,
		"--leader-elect-resource-namespace="+leaseNamespace,
	)
}

// holdShardLeases takes every shard's Lease for the bench, for longer than
// any run.
func holdShardLeases(ctx context.Context, kube kubernetes.Interface, shards int) error {
	now := metav1.NewMicroTime(time.Now())
	for _, r := range shard.Split(shards) {
		name := sharding.ShardLeaseName(leaseGroup, r)
		_, err := kube.CoordinationV1().Leases(leaseNamespace).Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(benchHolder),
				LeaseDurationSeconds: ptr.To(int32(time.Hour / time.Second)),
				AcquireTime:          &now,
				RenewTime:            &now,
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("holding the Lease %s until the replicas have started: %w", name, err)
		}
	}
	return nil
}

// freeShardLeases deletes the Leases holdShardLeases took: each replica
// creates one anew at its next attempt, while below its share.
func freeShardLeases(ctx context.Context, kube kubernetes.Interface, shards int) error {
	for _, r := range shard.Split(shards) {
		name := sharding.ShardLeaseName(leaseGroup, r)
		err := kube.CoordinationV1().Leases(leaseNamespace).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("freeing the Lease %s: %w", name, err)
		}
	}
	return nil
}

// waitMembers waits until replicas membership Leases exist, then for two
// more retry periods: each replica counts the members once per retry
// period, so by then every one has counted them all, and its fair share is
// final.
func waitMembers(ctx context.Context, kube kubernetes.Interface, replicas int) error {
	selector := labels.SelectorFromSet(labels.Set{sharding.MemberOfLabel: leaseGroup}).String()
	for {
		list, err := kube.CoordinationV1().Leases(leaseNamespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return fmt.Errorf("counting the replicas' membership Leases: %w", err)
		}
		if len(list.Items) >= replicas {
			break
		}
		if err := sleep(ctx, harness.PollInterval); err != nil {
			return fmt.Errorf("waiting for %d replicas to join, %d have: %w", replicas, len(list.Items), err)
		}
	}
	return sleep(ctx, 2*harness.RetryPeriod)
}

// waitShardsOwned waits until the replicas own every one of shards between
// them, none above its fair share, and returns how many each owns.
func waitShardsOwned(ctx context.Context, replicas []*crddemoProcess, shards int) ([]int, error) {
	owned := make([]int, len(replicas))
	for {
		for i, r := range replicas {
			// /metrics may not answer yet: that is owning nothing so far.
			u, err := r.usage(ctx)
			if err == nil {
				owned[i] = u.shardsOwned
			}
		}
		if spreadEvenly(owned, shards) {
			return owned, nil
		}
		if err := sleep(ctx, harness.PollInterval); err != nil {
			return nil, fmt.Errorf("waiting for the replicas to own all %d shards, they own %v: %w", shards, owned, err)
		}
	}
}

// spreadEvenly reports whether owned, the shards each replica owns, covers
// all shards with none above its fair share, which is as even as
// internal/sharding spreads them.
func spreadEvenly(owned []int, shards int) bool {
	share := (shards + len(owned) - 1) / len(owned)
	total := 0
	for _, n := range owned {
		if n > share {
			return false
		}
		total += n
	}
	return total == shards
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(d):
		return nil
	}
}

// usages reads the usage of every replica.
func usages(ctx context.Context, replicas []*crddemoProcess) ([]usage, error) {
	all := make([]usage, len(replicas))
	for i, r := range replicas {
		u, err := r.usage(ctx)
		if err != nil {
			return nil, fmt.Errorf("replica %d: %w", i+1, err)
		}
		all[i] = u
	}
	return all, nil
}

// stopAll sends every replica SIGTERM at once, as a Deployment scaled to
// zero does, so that no shard moves to a replica about to stop too, and
// returns how long each took to exit, and how.
func stopAll(replicas []*crddemoProcess) ([]time.Duration, []*os.ProcessState) {
	took := make([]time.Duration, len(replicas))
	states := make([]*os.ProcessState, len(replicas))
	var wg sync.WaitGroup
	for i, r := range replicas {
		wg.Go(func() { took[i], states[i] = r.stop() })
	}
	wg.Wait()
	return took, states
}

// whileAllRun is whileRunning for every replica: the context ends as soon
// as any of them exits.
func whileAllRun(ctx context.Context, replicas []*crddemoProcess) (context.Context, context.CancelFunc) {
	var stops []context.CancelFunc
	for _, r := range replicas {
		var stop context.CancelFunc
		ctx, stop = r.whileRunning(ctx)
		stops = append(stops, stop)
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
	}
}
