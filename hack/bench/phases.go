package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

const (
	// limitNamespace holds the limit phases' objects. They are deleted
	// before crddemo starts, which watches every namespace and would
	// otherwise sync them too. The namespace itself stays: with no
	// kube-controller-manager, a deleted namespace would never finish
	// terminating.
	limitNamespace = "bench-limit"
	// crddemoNamespace holds the objects crddemo syncs.
	crddemoNamespace = "bench"
)

// bench is one run: its control plane's clients, crddemo once it runs, and
// what has been measured so far.
type bench struct {
	opts       options
	kubeconfig string
	// client and kube are unthrottled: the bench's own writes and the
	// limit's must not wait on a client-side rate limit.
	client clientset.Interface
	kube   kubernetes.Interface
	res    *result
	say    func(format string, args ...any)

	tracker *tracker
	ledger  *ledger
	// demos are the cold phase's objects, which the update phase changes.
	demos []*crddemov1.Mydemo
	// replicas are the crddemo processes, once started: one unless
	// --replicas says more.
	replicas []*crddemoProcess
	// used is each replica's usage at the end of the last phase.
	used []usage
	// idle is each replica's peak RSS before it owned a shard: what its
	// caches add to is measured from there. Unknown without --shards.
	idle []int64
}

// limit measures the API server's floor: how long writers parallel clients
// take to write, for N objects, what crddemo writes for each: its event,
// then a server-side apply of its status.
func (b *bench) limit(ctx context.Context) error {
	if err := b.createNamespace(ctx, limitNamespace); err != nil {
		return err
	}
	var demos []*crddemov1.Mydemo
	var mu sync.Mutex
	b.say("creating %d Mydemos in %s for the limit (not timed)", b.opts.n, limitNamespace)
	err := createMydemos(ctx, b.client, limitNamespace, limitPhase, b.opts.n, func(demo *crddemov1.Mydemo) {
		mu.Lock()
		defer mu.Unlock()
		demos = append(demos, demo)
	})
	if err != nil {
		return err
	}

	b.say("%s: %d parallel clients write an event and a status for each of %d Mydemos", limitPhase, writers, b.opts.n)
	took, err := measureLimit(ctx, b.client, b.kube, demos)
	if err != nil {
		return err
	}
	b.res.addPhase(limitPhase, b.opts.n, took, 0, nil)

	b.say("deleting the limit's Mydemos (not timed)")
	return deleteMydemos(ctx, b.client, demos)
}

// cold creates N Mydemos, then starts crddemo and times it until every one
// is synced, with its event; the backlog phase runs meanwhile (backlog.go). A fleet is started untimed, and timed from the
// moment the bench frees its shards (fleet.go).
func (b *bench) cold(ctx context.Context) error {
	b.say("creating %d Mydemos in %s (not timed)", b.opts.n, crddemoNamespace)
	var mu sync.Mutex
	err := createMydemos(ctx, b.client, crddemoNamespace, "md", b.opts.n, func(demo *crddemov1.Mydemo) {
		b.ledger.record(demo)
		mu.Lock()
		defer mu.Unlock()
		b.demos = append(b.demos, demo)
	})
	if err != nil {
		return err
	}

	g := b.tracker.begin(b.opts.n)
	for _, demo := range b.demos {
		b.tracker.expect(demo.UID, target{generation: demo.Generation, events: 1})
	}
	if !b.opts.sharded() {
		b.say("cold: starting crddemo; timing until all %d are synced", b.opts.n)
		started := time.Now()
		if err := b.start(nil); err != nil {
			return err
		}
		return b.awaitCold(ctx, g, started)
	}

	// fleet.go says why the bench holds the shards' Leases meanwhile.
	if err := holdShardLeases(ctx, b.kube, b.opts.shards); err != nil {
		return err
	}
	b.say("starting %d crddemo replicas with --shards=%d, the bench holding the shards' Leases until each has counted the others (not timed)",
		b.opts.replicas, b.opts.shards)
	for range b.opts.replicas {
		if err := b.start(shardingFlags(b.opts.shards)); err != nil {
			return err
		}
	}
	running, stop := whileAllRun(ctx, b.replicas)
	defer stop()
	if err := waitMembers(running, b.kube, b.opts.replicas); err != nil {
		return err
	}
	idle, err := usages(running, b.replicas)
	if err != nil {
		return err
	}
	for _, u := range idle {
		b.idle = append(b.idle, u.peakRSS)
	}
	b.say("cold: freeing the %d shards' Leases; timing until all %d are synced", b.opts.shards, b.opts.n)
	started := time.Now()
	if err := freeShardLeases(running, b.kube, b.opts.shards); err != nil {
		return err
	}
	owned, err := waitShardsOwned(running, b.replicas, b.opts.shards)
	if err != nil {
		return err
	}
	b.res.ShardsOwnedSeconds = time.Since(started).Seconds()
	b.say("cold: the replicas own %v shards", owned)
	return b.awaitCold(ctx, g, started)
}

// start starts one more crddemo, with flags before the user's.
func (b *bench) start(flags []string) error {
	r, err := startCrddemo(b.opts.crddemo, b.kubeconfig, append(flags, b.opts.crddemoFlags...))
	if err != nil {
		return err
	}
	b.replicas = append(b.replicas, r)
	b.used = append(b.used, usage{})
	return nil
}

// update changes spec.port of every object, and times crddemo until each is
// synced at its new generation and has one more Synced event.
func (b *bench) update(ctx context.Context) error {
	b.say("update: changing spec.port of all %d; timing until all are synced again", b.opts.n)
	g := b.tracker.begin(b.opts.n)
	patch := fmt.Appendf(nil, `{"spec":{"port":%d}}`, updatedPort)
	started := time.Now()
	err := forEach(ctx, len(b.demos), func(ctx context.Context, i int) error {
		demo := b.demos[i]
		// Counted before the change, so that only an event written after
		// it can be the one the change needs.
		events := b.tracker.eventCount(demo.UID)
		patched, err := b.client.CrddemoV1().Mydemos(demo.Namespace).Patch(ctx, demo.Name, types.MergePatchType, patch,
			metav1.PatchOptions{FieldManager: benchFieldManager})
		if err != nil {
			return fmt.Errorf("changing the port of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
		}
		b.ledger.record(patched)
		b.tracker.expect(patched.UID, target{generation: patched.Generation, events: events + 1})
		return nil
	})
	if err != nil {
		return err
	}
	return b.await(ctx, "update", g, started, time.Since(started))
}

// burst creates N new objects while crddemo runs, and times it until each is
// synced.
func (b *bench) burst(ctx context.Context) error {
	b.say("burst: creating %d new Mydemos; timing until all are synced", b.opts.n)
	g := b.tracker.begin(b.opts.n)
	started := time.Now()
	err := createMydemos(ctx, b.client, crddemoNamespace, "burst", b.opts.n, func(demo *crddemov1.Mydemo) {
		b.ledger.record(demo)
		b.tracker.expect(demo.UID, target{generation: demo.Generation, events: 1})
	})
	if err != nil {
		return err
	}
	return b.await(ctx, "burst", g, started, time.Since(started))
}

// await waits until the phase's goal is met, then records the phase: its
// time from started, the time the bench's own writes took (none in the cold
// phase), and what crddemo used in it.
func (b *bench) await(ctx context.Context, name string, g *goal, started time.Time, writes time.Duration) error {
	ctx, stop := whileAllRun(ctx, b.replicas)
	defer stop()
	doneAt, err := b.tracker.wait(ctx, g)
	if err != nil {
		return err
	}
	now, err := usages(ctx, b.replicas)
	if err != nil {
		return err
	}
	used := make([]phaseUsage, len(now))
	for i, u := range now {
		used[i] = phaseUsage{
			CPUSeconds:    (u.cpu - b.used[i].cpu).Seconds(),
			APIRequests:   u.total() - b.used[i].total(),
			PeakRSSBytes:  u.peakRSS,
			ShardsOwned:   u.shardsOwned,
			ObjectsCached: b.cached(u),
		}
	}
	b.res.addPhase(name, g.want, doneAt.Sub(started), writes, used)
	b.used = now
	return nil
}

// cached is how many Mydemos a replica caches: what its shards report, or,
// for crddemo without --shards, which caches every Mydemo, all the bench
// has written outside the limit's namespace, whose objects are gone.
func (b *bench) cached(u usage) int {
	if b.opts.sharded() {
		return u.cached
	}
	return b.ledger.size()
}

// stopCrddemo records the replicas' totals, then stops them with SIGTERM
// and times their exits, which must be clean.
func (b *bench) stopCrddemo(ctx context.Context) error {
	for _, r := range b.replicas {
		if r.proc.State() != nil {
			// One exited by itself, which the phase that failed says.
			stopAll(b.replicas)
			return nil
		}
	}
	// /proc forgets a process once it has exited: read them first.
	finals, err := usages(ctx, b.replicas)
	if len(b.replicas) == 1 {
		b.say("stopping crddemo (SIGTERM)")
	} else {
		b.say("stopping the %d replicas (SIGTERM to all at once)", len(b.replicas))
	}
	took, states := stopAll(b.replicas)
	if err != nil {
		return fmt.Errorf("reading crddemo's usage before stopping it: %w", err)
	}
	var errs []error
	for i, final := range finals {
		var idle int64
		if i < len(b.idle) {
			idle = b.idle[i]
		}
		b.res.Replicas = append(b.res.Replicas, totals{
			IdlePeakRSSBytes:     idle,
			CPUSeconds:           final.cpu.Seconds(),
			PeakRSSBytes:         final.peakRSS,
			APIRequests:          final.total(),
			APIRequestsByMethod:  final.requests,
			FailedAPIRequests:    final.failed,
			ShardsOwned:          final.shardsOwned,
			ObjectsCached:        b.cached(final),
			SigtermToExitSeconds: took[i].Seconds(),
			ExitCode:             states[i].ExitCode(),
		})
		if !states[i].Success() {
			errs = append(errs, fmt.Errorf("crddemo replica %d did not exit cleanly after SIGTERM (%v); its last output:\n%s",
				i+1, states[i], b.replicas[i].tail()))
		}
	}
	b.res.Crddemo = sumTotals(b.res.Replicas)
	return errors.Join(errs...)
}

func (b *bench) createNamespace(ctx context.Context, name string) error {
	_, err := b.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}},
		metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

// deleteMydemos deletes demos from parallel writers. One DeleteCollection
// would be a single request, which at N=10,000 outlasts the API server's
// 60 s request timeout. The objects have no finalizers: each is gone when
// its delete returns, so crddemo's first list cannot see it.
func deleteMydemos(ctx context.Context, client clientset.Interface, demos []*crddemov1.Mydemo) error {
	return forEach(ctx, len(demos), func(ctx context.Context, i int) error {
		demo := demos[i]
		err := client.CrddemoV1().Mydemos(demo.Namespace).Delete(ctx, demo.Name, metav1.DeleteOptions{})
		if err != nil {
			return fmt.Errorf("deleting mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
		}
		return nil
	})
}
