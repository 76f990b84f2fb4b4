// Command bench measures crddemo against the API server's own limit, on a
// throwaway control plane (etcd and kube-apiserver from bin/), in one run:
//
//   - limit: 16 unthrottled parallel clients write, for N Mydemos, what
//     crddemo writes for each, as internal/synced makes them: one Synced
//     event and one server-side apply of its status. No controller runs:
//     this is the floor.
//   - cold: N Mydemos exist; crddemo starts; until every one has its Synced
//     event and a status that observed its generation.
//   - backlog, during cold: 1 s after crddemo's first sync, the bench
//     annotates 10 unsynced Mydemos picked at random, then creates a new
//     one; how long until they are synced, and how many of the N were still
//     unsynced then.
//   - update: spec.port of all N changes; until each is synced again, with
//     one more Synced event.
//   - burst: N new Mydemos are created while crddemo runs; until all are
//     synced.
//
// It prints a table of each phase's time, its ratio to the limit and what
// crddemo used in it (CPU from /proc, API requests from its /metrics), then
// crddemo's totals (peak RSS, CPU, API requests, the time from SIGTERM to
// exit), the objects that never got their status or event (which must be
// 0), and last everything as one JSON line after "RESULT ". It exits 1 if a
// phase fails or times out, or an object is lost.
//
// With --replicas=R --shards=S (either above 1) it runs R crddemo processes
// with --leader-elect --shards=S, lease 4s, renew 2s, retry 500ms, on an
// API server with the ShardedListAndWatch feature gate on (unless
// --sharded-list-and-watch=false, or S is 1). The cold phase starts when
// the replicas, started untimed, have all counted each other, and includes
// their taking the shards (fleet.go says why). The report adds each
// replica's shards, objects cached, CPU, API requests and peak RSS per
// phase, and its totals; the RESULT line a "replicas" array. All replicas
// are stopped at once, and the audit counts every replica's events.
//
// Usage, from the repository root, after make build testbin (make bench
// does both):
//
//	go run ./hack/bench [--n=1000] [--crddemo=releases/crddemo] [--timeout=10m] \
//	    [--replicas=1] [--shards=1] [--sharded-list-and-watch=true] \
//	    [--crddemo-flag=--workers=16 ...] [-- crddemo flags]
//
// It reads /proc, so it runs on Linux only (elsewhere it stops at once,
// saying /proc/loadavg cannot be read).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
)

func main() {
	opts, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	if err := run(opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// run runs the bench, prints its report to out and its progress to progress,
// and returns what went wrong, if anything.
func run(opts options, out, progress io.Writer) error {
	// Signals stay caught until the end, so that the bench always gets to stop
	// crddemo and the control plane.
	ctx, stop := controlplane.NotifyShutdown(context.Background())
	defer stop()

	res := &result{N: opts.n, CrddemoFlags: append([]string{}, opts.crddemoFlags...),
		ReplicaCount: opts.replicas, Shards: opts.shards, ShardedListAndWatch: opts.gated(),
		Phases: []phase{}, Replicas: []totals{}, CPUs: runtime.NumCPU()}
	if opts.sharded() {
		res.LeaderElection = leaderElection
	}
	var err error
	if res.LoadBefore, err = loadAverage(); err != nil {
		return err
	}
	started := time.Now()
	say := func(format string, args ...any) {
		fmt.Fprintf(progress, "[%6.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
	}

	err = execute(ctx, opts, res, say)
	res.finish()
	if load, loadErr := loadAverage(); loadErr == nil {
		res.LoadAfter = load
	}
	if err != nil {
		res.Error = err.Error()
	}
	fmt.Fprintln(progress)
	return errors.Join(err, writeReport(out, res))
}

// execute starts the control plane, runs the phases and the audit, and
// stops everything it started, whatever happens.
func execute(ctx context.Context, opts options, res *result, say func(string, ...any)) (err error) {
	if _, err := os.Stat(opts.crddemo); err != nil {
		return fmt.Errorf("no crddemo binary at %s: build it with make build", opts.crddemo)
	}
	// An absolute path keeps exec from looking a bare name up in $PATH.
	if opts.crddemo, err = filepath.Abs(opts.crddemo); err != nil {
		return err
	}

	var gate []controlplane.Option
	if opts.gated() {
		gate = append(gate, controlplane.APIServerFlag("feature-gates", "ShardedListAndWatch=true"))
	}
	say("starting a control plane (etcd and kube-apiserver from bin/)")
	cp, err := controlplane.Start(ctx, gate...)
	if err != nil {
		return err
	}
	defer func() {
		say("stopping the control plane")
		err = errors.Join(err, cp.Stop())
	}()
	b, err := newBench(opts, cp, res, say)
	if err != nil {
		return err
	}
	if err := harness.InstallCRD(ctx, cp, time.Minute); err != nil {
		return err
	}

	if err := b.phase(ctx, "limit", b.limit); err != nil {
		return err
	}
	if err := b.createNamespace(ctx, crddemoNamespace); err != nil {
		return err
	}
	stopWatching, err := b.tracker.watch(ctx, b.client, b.kube, crddemoNamespace)
	if err != nil {
		return err
	}
	defer stopWatching()

	err = b.phase(ctx, "cold", b.cold)
	if err == nil {
		err = b.phase(ctx, "update", b.update)
	}
	if err == nil {
		err = b.phase(ctx, "burst", b.burst)
	}
	if len(b.replicas) > 0 {
		err = errors.Join(err, b.stopCrddemo(ctx))
	}

	say("auditing: every object's status and events, listed from the API server")
	found, auditErr := audit(ctx, b.client, b.kube, crddemoNamespace, b.ledger)
	if auditErr != nil {
		return errors.Join(err, auditErr)
	}
	res.Audit = &audited{Lost: len(found.lost), ExtraEvents: found.extraEvents, ListSeconds: found.took.Seconds()}
	if len(found.lost) > 0 {
		err = errors.Join(err, fmt.Errorf("%d objects lost (never got their status or Synced event): %s",
			len(found.lost), strings.Join(found.lost[:min(5, len(found.lost))], ", ")))
	}
	return err
}

// newBench connects to cp with clients that no client-side rate limit
// slows down.
func newBench(opts options, cp *controlplane.ControlPlane, res *result, say func(string, ...any)) (*bench, error) {
	config := *cp.Config
	config.QPS = -1 // no rate limiter at all
	client, err := clientset.NewForConfig(&config)
	if err != nil {
		return nil, fmt.Errorf("creating the bench's Mydemo client: %w", err)
	}
	kube, err := kubernetes.NewForConfig(&config)
	if err != nil {
		return nil, fmt.Errorf("creating the bench's Kubernetes client: %w", err)
	}
	return &bench{
		opts:       opts,
		kubeconfig: cp.KubeconfigPath,
		client:     client,
		kube:       kube,
		res:        res,
		say:        say,
		tracker:    newTracker(),
		ledger:     newLedger(),
	}, nil
}

// phase runs one phase, bounded by --timeout, its untimed setup included.
func (b *bench) phase(ctx context.Context, name string, run func(context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, b.opts.timeout, fmt.Errorf("timed out after %v (--timeout)", b.opts.timeout))
	defer cancel()
	if err := run(ctx); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
