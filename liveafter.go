package main

import (
	"context"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/resourceversion"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/priorityqueue"
)

// promoteUnseen queues as live changes the cached Mydemos that changed
// after c.liveAfter. A sharded replica sets it when it takes a shard
// (sharding's liveAfter): such a change came in the shard's initial list,
// but it reached no owner, or an owner that stopped before syncing it, and
// someone waits for it as for a change on the watch.
func (c *Controller) promoteUnseen(ctx context.Context) {
	if c.liveAfter == "" {
		return
	}
	demos, err := c.lister.List(labels.Everything())
	if err != nil {
		klog.FromContext(ctx).Error(err, "Cannot list the cached Mydemos; changes that no owner synced wait as backlog")
		return
	}
	promoted := 0
	for _, demo := range demos {
		if order, err := resourceversion.CompareResourceVersion(demo.ResourceVersion, c.liveAfter); err == nil && order > 0 {
			c.queue.AddWithPriority(cache.MetaObjectToName(demo), priorityqueue.Live)
			promoted++
		}
	}
	klog.FromContext(ctx).V(2).Info("Queued the Mydemos that changed after liveAfter as live changes",
		"count", promoted, "after", c.liveAfter)
}
