package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/metrics"
	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/serving"
	"github.com/domac/crddemo/internal/shard"
	"github.com/domac/crddemo/internal/sharding"
)

// shardedRunner runs with --shards: this replica takes its share of the
// shards (internal/sharding), and for each shard it owns runs a control loop
// over a cache of that shard's Mydemos only, for as long as it owns it. It
// has no leader watchdog, since losing a shard's Lease ends that shard's
// work at once.
type shardedRunner struct {
	cfg    *config
	ranges []shard.Range
	owned  *ownedShards
}

func newShardedRunner(cfg *config) *shardedRunner {
	registerMetrics()
	shardsOwned.shard()
	return &shardedRunner{cfg: cfg, ranges: shard.Split(cfg.sharding.Shards), owned: shardsOwned}
}

// checks: ready once the caches of the shards owned have synced.
func (r *shardedRunner) checks() (healthz, readyz []serving.Checker) {
	return nil, []serving.Checker{r.owned}
}

// run returns once ctx is done and every shard is handed back.
func (r *shardedRunner) run(ctx context.Context, build buildLoop) error {
	// Once per process: the API server ignores the shard selector without
	// the ShardedListAndWatch feature gate, and every shard then lists every
	// Mydemo, keeping its own.
	warnUnsharded := sync.OnceFunc(func() {
		klog.FromContext(ctx).Info("The API server does not shard lists and watches of Mydemos " +
			"(its ShardedListAndWatch feature gate is off): each shard receives every Mydemo and keeps its own, " +
			"so the writes are split between replicas but the listing is not")
	})
	return sharding.Run(ctx, r.cfg.leaseClient.CoordinationV1(), *r.cfg.sharding, func(ctx, writeCtx context.Context, i int, liveAfter string) {
		logger := klog.FromContext(ctx)
		logger.Info("Owning shard", "range", r.ranges[i].String())
		factory := r.cfg.informerFactory(newShardInformer(r.cfg.health, r.cfg.namespace, r.ranges[i], warnUnsharded))
		loop, err := build(ctx, factory, liveAfter)
		if err != nil {
			logger.Error(err, "Cannot run the shard; handing it back")
			return
		}
		r.owned.add(i, factory.Crddemo().V1().Mydemos().Informer())
		defer r.owned.remove(i)
		// Stopped with ctx, without waiting: see aloneRunner.start.
		factory.Start(ctx.Done())
		loop(ctx, writeCtx)
		logger.Info("Handed the shard back")
	})
}

// ownedShards are the caches of the shards this replica owns, which /readyz
// and /metrics report on. There is one per process, shardsOwned, registered
// with the other metrics; it reports only once a sharded runner uses it.
type ownedShards struct {
	metrics.BaseStableCollector

	mu      sync.Mutex
	sharded bool
	caches  map[int]cache.SharedIndexInformer
}

var (
	shardsOwnedDesc = metrics.NewDesc("crddemo_shards_owned",
		"Shards whose Lease this replica holds and whose Mydemos it syncs.", nil, nil, metrics.ALPHA, "")
	shardCachedObjectsDesc = metrics.NewDesc("crddemo_shard_cached_objects",
		"Mydemos in the cache of each shard this replica owns.", []string{"shard"}, nil, metrics.ALPHA, "")

	shardsOwned = newOwnedShards()
)

func newOwnedShards() *ownedShards {
	return &ownedShards{caches: map[int]cache.SharedIndexInformer{}}
}

// shard marks the process as sharded: from now on /metrics reports the
// shards owned, none at first.
func (o *ownedShards) shard() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sharded = true
}

func (o *ownedShards) add(i int, informer cache.SharedIndexInformer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.caches[i] = informer
}

func (o *ownedShards) remove(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.caches, i)
}

// Name and Check make the /readyz check: ready once the cache of every owned
// shard has synced. A replica that owns no shard waits, ready, to take one.
func (o *ownedShards) Name() string { return "shards-synced" }

func (o *ownedShards) Check(*http.Request) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	var unsynced []int
	for i, informer := range o.caches {
		if !informer.HasSynced() {
			unsynced = append(unsynced, i)
		}
	}
	if len(unsynced) > 0 {
		slices.Sort(unsynced)
		return fmt.Errorf("the caches of shards %v have not synced yet", unsynced)
	}
	return nil
}

func (o *ownedShards) DescribeWithStability(ch chan<- *metrics.Desc) {
	ch <- shardsOwnedDesc
	ch <- shardCachedObjectsDesc
}

func (o *ownedShards) CollectWithStability(ch chan<- metrics.Metric) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.sharded {
		return
	}
	ch <- metrics.NewLazyConstMetric(shardsOwnedDesc, metrics.GaugeValue, float64(len(o.caches)))
	for i, informer := range o.caches {
		ch <- metrics.NewLazyConstMetric(shardCachedObjectsDesc, metrics.GaugeValue,
			float64(len(informer.GetStore().ListKeys())), strconv.Itoa(i))
	}
}
