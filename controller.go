package main

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/priorityqueue"
	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions/crddemo/v1"
	listers "github.com/domac/crddemo/pkg/client/listers/crddemo/v1"
)

// syncTimeout bounds one sync, so that a hung API call cannot keep a
// worker, or a graceful shutdown, waiting forever. With leader election the
// lease bounds it sooner (see Run).
const syncTimeout = 30 * time.Second

// Controller watches Mydemo objects and syncs each one: it logs it, records a
// Synced event and reports what it observed in the object's status.
type Controller struct {
	client   clientset.Interface
	lister   listers.MydemoLister
	synced   cache.InformerSynced
	queue    *priorityqueue.Queue[cache.ObjectName]
	recorder eventRecorder
	// written keeps one Synced event per generation when a key is synced
	// again before the cache shows crddemo's last write of it.
	written *ownWrites
	// liveAfter is a resourceVersion: see promoteUnseen.
	liveAfter string
}

// NewController wires the informer's events into a rate-limited workqueue
// that serves live changes before a backlog (internal/priorityqueue); those
// of the initial list changed after the resourceVersion liveAfter count as
// live. The caller starts the informer after this returns, so that no event
// is missed, and then calls Run.
func NewController(ctx context.Context, client clientset.Interface, informer informers.MydemoInformer,
	recorder eventRecorder, rateLimiter workqueue.TypedRateLimiter[cache.ObjectName], liveAfter string) (*Controller, error) {
	logger := klog.FromContext(ctx)
	registerMetrics()
	c := &Controller{
		client:    client,
		lister:    informer.Lister(),
		synced:    informer.Informer().HasSynced,
		recorder:  recorder,
		written:   newOwnWrites(),
		queue:     priorityqueue.New("mydemos", rateLimiter),
		liveAfter: liveAfter,
	}

	logger.Info("Setting up mydemo event handlers")
	_, err := informer.Informer().AddEventHandlerWithOptions(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    c.handleAdd,
		UpdateFunc: c.handleUpdate,
		DeleteFunc: c.handleDelete,
	}, cache.HandlerOptions{Logger: &logger})
	if err != nil {
		return nil, fmt.Errorf("adding Mydemo event handlers: %w", err)
	}
	return c, nil
}

// handleAdd queues a Mydemo that the informer saw for the first time: as
// backlog when it came with the informer's initial list, as a live change
// when it was created since.
func (c *Controller) handleAdd(obj any, isInInitialList bool) {
	if demo, ok := obj.(*crddemov1.Mydemo); ok {
		c.written.observe(demo)
	}
	priority := priorityqueue.Live
	if isInInitialList {
		priority = priorityqueue.Backlog
	}
	c.enqueue(obj, priority)
}

// handleUpdate queues a changed Mydemo, unless the change leaves crddemo
// nothing to do: crddemo's own status write coming back, or a periodic
// resync (--resync-period) of an object whose status is current. A resync of
// an object whose status is behind, as it is after its syncs kept failing,
// is queued, as backlog, so that a resync heals without syncing every object
// again and without delaying live changes.
func (c *Controller) handleUpdate(oldObj, newObj any) {
	oldDemo, oldOK := oldObj.(*crddemov1.Mydemo)
	newDemo, newOK := newObj.(*crddemov1.Mydemo)
	if newOK {
		c.written.observe(newDemo)
	}
	if oldOK && newOK && nothingToDo(oldDemo, newDemo) {
		return
	}
	priority := priorityqueue.Live
	if oldOK && newOK && oldDemo.ResourceVersion == newDemo.ResourceVersion {
		// A resync hands over the cached object as both old and new.
		priority = priorityqueue.Backlog
	}
	c.enqueue(newObj, priority)
}

// nothingToDo reports whether an update from old to new changed nothing
// that a sync looks at (the spec, whose changes raise the generation, the
// labels and the annotations) and left a status that is current.
func nothingToDo(old, new *crddemov1.Mydemo) bool {
	return old.Generation == new.Generation && maps.Equal(old.Labels, new.Labels) &&
		maps.Equal(old.Annotations, new.Annotations) && synced.IsCurrent(new)
}

// handleDelete queues a deleted Mydemo. When the informer missed the delete
// while its watch was down, it hands over a tombstone wrapping the last known
// state instead of the object itself.
func (c *Controller) handleDelete(obj any) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	c.enqueue(obj, priorityqueue.Live)
}

// enqueue adds the object's namespace/name key to the queue at priority.
// Only the key is queued, so that a worker always syncs the latest state from
// the lister and several events for one object collapse into one sync.
func (c *Controller) enqueue(obj any, priority priorityqueue.Priority) {
	demo, ok := obj.(*crddemov1.Mydemo)
	if !ok {
		utilruntime.HandleError(fmt.Errorf("expected a *Mydemo from the informer, got %T", obj))
		return
	}
	c.queue.AddWithPriority(cache.MetaObjectToName(demo), priority)
}

// Run waits for the informer's cache, then runs workers until ctx is
// cancelled. On cancellation it stops handing out keys and returns once every
// in-flight sync has finished.
//
// Syncs run under writeCtx, not ctx: a sync that has started finishes when
// shutdown begins, so that its event and status are not cut off halfway, but
// stops at once when writeCtx ends. With leader election writeCtx ends when
// this replica's Lease may have passed to another, so that no write is sent
// after that (ctx is cancelled then too); without it, writeCtx never ends.
func (c *Controller) Run(ctx, writeCtx context.Context, workers int) {
	defer utilruntime.HandleCrashWithContext(ctx)
	logger := klog.FromContext(ctx)

	var wg sync.WaitGroup
	// However Run ends, the queue stops handing out keys, and Run returns
	// only after the syncs that workers had started are done.
	defer func() {
		c.queue.ShutDown()
		wg.Wait()
		logger.Info("Workers stopped")
	}()

	logger.Info("Starting Mydemo control loop")
	logger.Info("Waiting for informer caches to sync")
	// The cache fills once the API server serves Mydemos: perhaps never, if
	// the CRD is not installed. Shutting down while waiting is no error.
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		return
	}

	// What was queued before this replica could write, a standby's whole
	// queue included, is backlog: live changes are those from now on, and
	// those that no owner synced (promoteUnseen).
	c.queue.DemoteWaiting()
	c.promoteUnseen(ctx)
	logger.Info("Starting workers", "count", workers)
	for range workers {
		wg.Go(func() { c.runWorker(ctx, writeCtx) })
	}
	logger.Info("Started workers")

	<-ctx.Done()
	logger.Info("Shutting down workers; waiting for in-flight syncs")
}

// runWorker processes keys one at a time until the queue shuts down.
func (c *Controller) runWorker(ctx, writeCtx context.Context) {
	for c.processNextWorkItem(ctx, writeCtx) {
	}
}

// processNextWorkItem takes one key off the queue, syncs it and decides
// whether it must be retried. It returns false when the worker should stop.
func (c *Controller) processNextWorkItem(ctx, writeCtx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	// The queue still hands out keys it held when shutdown began; leave them
	// for the next run of the controller rather than start new work.
	if ctx.Err() != nil {
		return false
	}

	logger := klog.LoggerWithValues(klog.FromContext(ctx), "mydemo", key)
	syncCtx, cancel := context.WithTimeout(writeCtx, syncTimeout)
	defer cancel()
	started := time.Now()
	err := c.syncMydemo(klog.NewContext(syncCtx, logger), key)
	observeSync(started, err)
	if err != nil && writeCtx.Err() != nil {
		// Another replica may be leading by now: the key is its to sync.
		logger.V(2).Info("Sync cut off: this replica may no longer write", "reason", context.Cause(writeCtx))
		return false
	}
	c.handleErr(logger, key, err)
	return true
}

// handleErr forgets a key that synced and retries one that failed, with a
// per-key exponential backoff (retries.go), for as long as it fails.
func (c *Controller) handleErr(logger klog.Logger, key cache.ObjectName, err error) {
	if err == nil {
		c.queue.Forget(key)
		return
	}
	retries := c.queue.NumRequeues(key)
	c.queue.AddRateLimited(key)
	logRetry(logger, err, retries)
}

// syncMydemo brings one Mydemo in line: a Mydemo that is in the cache is
// processed, one that is gone takes the deletion path.
func (c *Controller) syncMydemo(ctx context.Context, key cache.ObjectName) error {
	logger := klog.FromContext(ctx)
	demo, err := c.lister.Mydemos(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		// A controller that made things for a Mydemo (pods, DNS records,
		// firewall rules) would release them here. crddemo makes none.
		logger.Info("Mydemo does not exist in local cache, will delete it")
		logger.Info("Deleting mydemo")
		c.written.forget(key)
		logger.Info("Successfully synced")
		return nil
	}
	if err != nil {
		return fmt.Errorf("getting mydemo %s from the cache: %w", key, err)
	}

	// A Mydemo being deleted, waiting for another controller's finalizer,
	// is past syncing: its deletion path runs once it is gone.
	if demo.DeletionTimestamp != nil {
		logger.V(4).Info("Mydemo is being deleted; nothing to sync", "resourceVersion", demo.ResourceVersion)
		return nil
	}
	// Writing an unchanged status would trigger another update event and
	// another sync, forever; recording the event only with a new status keeps
	// one Synced event per change, not one per sync. Such a sync (after a
	// restart, or a retry that an earlier one made needless) has nothing to
	// tell a user, so it logs only at -v=4. So does one that reads the cache
	// from before crddemo's own status write: that write covers it.
	if synced.IsCurrent(demo) || c.written.cacheIsBehind(demo) {
		logger.V(4).Info("Try to process mydemo; status already up to date", "resourceVersion", demo.ResourceVersion,
			"generation", demo.Generation)
		return nil
	}
	logger.Info("Try to process mydemo", "resourceVersion", demo.ResourceVersion,
		"generation", demo.Generation, "ip", demo.Spec.IP, "port", demo.Spec.Port)

	// The event is written before the status, and the sync succeeds only when
	// both are: a current status therefore proves that its event was written,
	// and a failed write of either is retried. A retry after a failed status
	// write does not write the event again.
	if !c.written.hasEvent(demo) {
		err := c.recorder.Event(ctx, demo, corev1.EventTypeNormal, synced.Reason, synced.Message)
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			// Nothing can be created in a namespace being deleted, and the
			// Mydemo goes with it: its deletion path runs then.
			logger.Info("Namespace is being deleted; not syncing mydemo")
			return nil
		}
		if err != nil {
			return err
		}
		c.written.eventWritten(demo)
	}
	written, err := synced.WriteStatus(ctx, c.client, demo)
	if err != nil {
		return fmt.Errorf("updating status of mydemo %s: %w", key, err)
	}
	c.written.statusWritten(demo, written.ResourceVersion)
	logger.Info("Successfully synced")
	return nil
}
