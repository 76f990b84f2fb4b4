package main

import (
	"context"
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
	demos   []*crddemov1.Mydemo
	crddemo *crddemoProcess
	// used is crddemo's usage at the end of the last phase.
	used usage
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
// is synced, with its event.
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

	b.say("cold: starting crddemo; timing until all %d are synced", b.opts.n)
	g := b.tracker.begin(b.opts.n)
	for _, demo := range b.demos {
		b.tracker.expect(demo.UID, target{generation: demo.Generation, events: 1})
	}
	started := time.Now()
	b.crddemo, err = startCrddemo(b.opts.crddemo, b.kubeconfig, b.opts.crddemoFlags)
	if err != nil {
		return err
	}
	return b.await(ctx, "cold", g, started, 0)
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
	ctx, stop := b.crddemo.whileRunning(ctx)
	defer stop()
	doneAt, err := b.tracker.wait(ctx, g)
	if err != nil {
		return err
	}
	now, err := b.crddemo.usage(ctx)
	if err != nil {
		return err
	}
	b.res.addPhase(name, g.want, doneAt.Sub(started), writes, &phaseUsage{
		CPUSeconds:   (now.cpu - b.used.cpu).Seconds(),
		APIRequests:  now.total() - b.used.total(),
		PeakRSSBytes: now.peakRSS,
	})
	b.used = now
	return nil
}

// stopCrddemo records crddemo's totals, then stops it with SIGTERM and
// times its exit, which must be clean.
func (b *bench) stopCrddemo(ctx context.Context) error {
	if b.crddemo.proc.State() != nil {
		// It exited by itself, which the phase that failed says.
		return nil
	}
	// /proc forgets a process once it has exited: read it first.
	final, err := b.crddemo.usage(ctx)
	b.say("stopping crddemo (SIGTERM)")
	took, state := b.crddemo.stop()
	if err != nil {
		return fmt.Errorf("reading crddemo's usage before stopping it: %w", err)
	}
	b.res.Crddemo = &totals{
		CPUSeconds:           final.cpu.Seconds(),
		PeakRSSBytes:         final.peakRSS,
		APIRequests:          final.total(),
		APIRequestsByMethod:  final.requests,
		FailedAPIRequests:    final.failed,
		SigtermToExitSeconds: took.Seconds(),
		ExitCode:             state.ExitCode(),
	}
	if !state.Success() {
		return fmt.Errorf("crddemo did not exit cleanly after SIGTERM (%v); its last output:\n%s", state, b.crddemo.tail())
	}
	return nil
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
