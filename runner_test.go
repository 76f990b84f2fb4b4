package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2/ktesting"

	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/internal/sharding"
	"github.com/domac/crddemo/pkg/client/clientset/versioned/fake"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions"
)

// runnerConfig is a config over fake clients, with the settings that pick
// a way to run left to the test.
func runnerConfig() *config {
	return &config{
		mydemoClient: fake.NewSimpleClientset(newMydemo("example-mydemo", 1)),
		health:       newAPIHealth("https://10.0.0.1:6443", "a bearer token"),
		workers:      1,
		leaseClient:  kubefake.NewSimpleClientset(),
	}
}

func TestNewRunnerPicksTheWayToRun(t *testing.T) {
	election := &leaderelection.Config{Name: "crddemo", Namespace: "default", Identity: "a",
		LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}

	alone := runnerConfig()
	if _, ok := newRunner(alone).(*aloneRunner); !ok {
		t.Errorf("newRunner without leader election = %T, want *aloneRunner", newRunner(alone))
	}
	leader := runnerConfig()
	leader.leaderElection = election
	r := newRunner(leader)
	if _, ok := r.(*leaderRunner); !ok {
		t.Errorf("newRunner with leader election = %T, want *leaderRunner", r)
	}
	if healthz, _ := r.checks(); len(healthz) != 1 || healthz[0].Name() != "leaderElection" {
		t.Errorf("the leader's /healthz checks = %v, want its watchdog", healthz)
	}
	sharded := runnerConfig()
	sharded.leaderElection = election
	sharded.sharding = &sharding.Config{Election: *election, Shards: 4}
	r = newRunner(sharded)
	if _, ok := r.(*shardedRunner); !ok {
		t.Errorf("newRunner with shards = %T, want *shardedRunner", r)
	}
	if _, readyz := r.checks(); len(readyz) != 1 || readyz[0].Name() != "shards-synced" {
		t.Errorf("the sharded runner's /readyz checks = %v, want shards-synced", readyz)
	}
}

// TestAloneRunnerRunsTheLoopItBuilt: the loop is built over the runner's
// factory before it starts, runs with a write context that outlives ctx,
// and the runner is ready once that factory's cache has synced.
func TestAloneRunnerRunsTheLoopItBuilt(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := newAloneRunner(runnerConfig())
	_, readyz := r.checks()
	if err := readyz[0].Check(&http.Request{}); err == nil || !strings.Contains(err.Error(), "has not synced") {
		t.Errorf("informer-sync before the start = %v, want not synced", err)
	}

	var built informers.SharedInformerFactory
	ran := make(chan error, 1)
	build := func(_ context.Context, factory informers.SharedInformerFactory, _ string) (func(ctx, writeCtx context.Context), error) {
		built = factory
		return func(ctx, writeCtx context.Context) {
			informer := factory.Crddemo().V1().Mydemos().Informer()
			if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
				ran <- ctx.Err()
				return
			}
			ran <- readyz[0].Check(&http.Request{})
			<-ctx.Done()
			if writeCtx.Err() != nil {
				t.Error("the write context ended with ctx: a lone replica may finish its writes")
			}
		}, nil
	}
	done := make(chan error, 1)
	go func() { done <- r.run(ctx, build) }()
	if err := <-ran; err != nil {
		t.Errorf("informer-sync once the loop's cache synced = %v, want nil", err)
	}
	if built != r.factory {
		t.Error("the loop was built over another factory than the one the runner starts and checks")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after ctx ended = %v, want nil", err)
	}
}

// TestOwnedShardsReportOnlyWhenSharded: an unsharded replica has no shard
// metrics; a sharded one reports what it owns, and is ready only once each
// owned shard's cache has synced.
func TestOwnedShardsReportOnlyWhenSharded(t *testing.T) {
	o := newOwnedShards()
	registry := testutil.NewFakeKubeRegistry("1.37.0")
	registry.CustomMustRegister(o)
	if err := testutil.GatherAndCompare(registry, strings.NewReader(""), "crddemo_shards_owned"); err != nil {
		t.Errorf("an unsharded replica reports shards: %v", err)
	}
	o.shard()
	unsynced := cache.NewSharedIndexInformer(&cache.ListWatch{}, nil, 0, cache.Indexers{})
	o.add(3, unsynced)
	want := `
# HELP crddemo_shards_owned [ALPHA] Shards whose Lease this replica holds and whose Mydemos it syncs.
# TYPE crddemo_shards_owned gauge
crddemo_shards_owned 1
`
	if err := testutil.GatherAndCompare(registry, strings.NewReader(want), "crddemo_shards_owned"); err != nil {
		t.Error(err)
	}
	if err := o.Check(&http.Request{}); err == nil || !strings.Contains(err.Error(), "shards [3] have not synced") {
		t.Errorf("Check with shard 3 unsynced = %v, want it named", err)
	}
	o.remove(3)
	if err := o.Check(&http.Request{}); err != nil {
		t.Errorf("Check owning nothing = %v, want ready", err)
	}
}
