//go:build linux

package e2e

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/shard"
	"github.com/domac/crddemo/internal/sharding"
)

// shards and shardedReplicas are deploy/sharded's --shards and replicas.
const (
	shards          = 6
	shardedReplicas = 3
)

// TestShardedReplicasShareTheShards runs deploy/sharded, through
// test/e2e/sharded, and checks that its three pods each take two of the six
// shards, by the shards' Leases, and that every Mydemo created then gets
// exactly one Synced event, from the holder of its shard's Lease.
//
// deploy/sharded is a component that turns deploy/'s Deployment into the
// sharded one, in the same namespace and under the same name: the two cannot
// run side by side. The test deletes the Deployment that runs, and its own at
// the end, so that the other tests start from deploy/ again, whatever the
// order.
func TestShardedReplicasShareTheShards(t *testing.T) {
	c := requireCluster(t)
	c.deleteDeployment(t)
	t.Cleanup(func() { c.deleteDeployment(t) })
	c.kubectl(t, "apply", "-k", c.shardedOverlay)
	pods := c.waitPods(t, shardedReplicas)

	owners := c.waitShardsShared(t, pods)
	ns := c.testNamespace(t)
	c.createMydemos(t, ns, "sharded", 60)
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if _, err := harness.WaitAllSynced(ctx, c.client, c.kube, ns); err != nil {
		t.Fatal(err)
	}
	demos, events, err := harness.ListSynced(ctx, c.client, c.kube, ns)
	if err != nil {
		t.Fatal(err)
	}
	byObject := map[types.UID][]corev1.Event{}
	for _, e := range events.Items {
		byObject[e.InvolvedObject.UID] = append(byObject[e.InvolvedObject.UID], e)
	}
	ranges := shard.Split(shards)
	for _, demo := range demos.Items {
		i := slices.IndexFunc(ranges, func(r shard.Range) bool { return r.Contains(shard.Hash(demo.UID)) })
		got := byObject[demo.UID]
		if len(got) != 1 || got[0].Count > 1 || got[0].ReportingInstance != owners[i] {
			var by []string
			for _, e := range got {
				by = append(by, fmt.Sprintf("%s x%d", e.ReportingInstance, e.Count))
			}
			t.Errorf("mydemo %s has Synced events by %v, want one, by %s, the holder of shard %d's Lease", demo.Name, by, owners[i], i)
		}
	}
}

// waitShardsShared waits until every shard's Lease is held by one of pods,
// two shards each, and returns each shard's holder.
func (c *testCluster) waitShardsShared(t *testing.T, pods []corev1.Pod) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	ranges := shard.Split(shards)
	owners := make([]string, shards)
	var last string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		perPod := map[string]int{}
		for i, r := range ranges {
			owners[i] = ""
			lease, err := c.kube.CoordinationV1().Leases(namespace).Get(ctx, sharding.ShardLeaseName("crddemo", r), metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				if ctx.Err() == nil {
					last = err.Error()
				}
				return false, nil
			}
			owners[i] = ptr.Deref(lease.Spec.HolderIdentity, "")
			for _, pod := range pods {
				// The identity is the pod's hostname, its name, and a UUID.
				if strings.HasPrefix(owners[i], pod.Name+"_") {
					perPod[pod.Name]++
				}
			}
		}
		last = fmt.Sprintf("shards per pod %v, holders %q", perPod, owners)
		counts := slices.Collect(maps.Values(perPod))
		return len(counts) == shardedReplicas && !slices.ContainsFunc(counts, func(n int) bool { return n != shards/shardedReplicas }), nil
	})
	if err != nil {
		t.Fatalf("waiting for %d pods to hold %d shards each (last: %s): %v", shardedReplicas, shards/shardedReplicas, last, err)
	}
	t.Logf("shard holders: %q", owners)
	return owners
}

// deleteDeployment deletes crddemo's Deployment, if there is one, and
// waits until its pods are gone. It runs in cleanups too, so it does not use
// t.Context.
func (c *testCluster) deleteDeployment(t *testing.T) {
	t.Helper()
	err := c.kube.AppsV1().Deployments(namespace).Delete(context.Background(), "crddemo", metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationForeground),
	})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatalf("deleting the crddemo Deployment: %v", err)
	}
	c.waitPodsUnder(context.Background(), t, 0)
}
