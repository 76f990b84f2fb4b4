package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// options are the bench's command line.
type options struct {
	n       int
	crddemo string
	// crddemoFlags are passed to crddemo after the flags the bench sets.
	crddemoFlags []string
	timeout      time.Duration
	// replicas crddemo processes share shards shards of the Mydemos
	// (crddemo --leader-elect --shards); 1 and 1 run one crddemo as it
	// runs without them.
	replicas, shards int
	// shardedListAndWatch turns on kube-apiserver's ShardedListAndWatch
	// feature gate when there is more than one shard; without it each
	// shard receives every Mydemo and filters its own.
	shardedListAndWatch bool
}

// sharded reports whether crddemo runs as a fleet sharing shards, with
// leader election, rather than as one process that syncs everything.
func (o options) sharded() bool {
	return o.replicas > 1 || o.shards > 1
}

// gated reports whether the API server is to filter each shard's lists
// and watches itself.
func (o options) gated() bool {
	return o.shards > 1 && o.shardedListAndWatch
}

// reservedFlags are crddemo's flags that the bench sets itself: it runs
// crddemo against its own control plane, and scrapes its /metrics on a port
// it chose, over plain HTTP without a token. Health probes get a free port
// too, so that two benches, or a crddemo someone else runs on this machine,
// never collide on :8081.
// --shards is the bench's own flag: it starts the replicas and waits for
// their shards (fleet.go).
var reservedFlags = []string{"kubeconfig", "master", "metrics-bind-address", "metrics-secure", "health-probe-bind-address", "shards"}

// shardedReservedFlags are the crddemo flags the bench also sets when it
// runs a fleet: it frees the shards' Leases itself, so it must know their
// names and how soon the replicas notice.
var shardedReservedFlags = []string{"leader-elect", "leader-elect-lease-duration", "leader-elect-renew-deadline",
	"leader-elect-retry-period", "leader-elect-resource-name", "leader-elect-resource-namespace"}

// parseOptions parses the bench's flags. crddemo's own flags come from
// repeated --crddemo-flag, and from whatever follows a "--".
func parseOptions(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintln(output, `Usage: go run ./hack/bench [flags] [-- crddemo flags]

Starts a control plane, measures how fast the API server accepts the writes
crddemo must make for N objects, then runs crddemo on N objects (cold start,
update, burst of new ones) and prints how close it comes. During the cold
start it times two live changes made 1 s into the backlog.

With --replicas or --shards above 1, it runs that many crddemo processes
with --leader-elect --shards, waits until each has counted the others
before it frees the shards to them and times the cold start, and reports
each replica's share: shards, objects cached, CPU, API requests, peak RSS.

Flags:`)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.n, "n", 1000, "objects per phase")
	fs.StringVar(&o.crddemo, "crddemo", "releases/crddemo", "path of the crddemo binary to run")
	fs.Func("crddemo-flag", "a flag for crddemo, such as --crddemo-flag=--workers=16 (repeatable)", func(value string) error {
		o.crddemoFlags = append(o.crddemoFlags, value)
		return nil
	})
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "longest each phase may take, its untimed setup included, before the bench gives up")
	fs.IntVar(&o.replicas, "replicas", 1, "crddemo processes to run, sharing --shards shards")
	fs.IntVar(&o.shards, "shards", 1, "shards of the Mydemos the replicas share (crddemo --shards); 1 with 1 replica runs crddemo without leader election")
	fs.BoolVar(&o.shardedListAndWatch, "sharded-list-and-watch", true,
		"with more than one shard, turn on kube-apiserver's ShardedListAndWatch feature gate; false measures crddemo's client-side filtering")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.crddemoFlags = append(o.crddemoFlags, fs.Args()...)
	return o, o.validate()
}

func (o options) validate() error {
	if o.n < 1 {
		return fmt.Errorf("--n=%d: need at least one object", o.n)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout=%v: must be positive", o.timeout)
	}
	if o.replicas < 1 {
		return fmt.Errorf("--replicas=%d: need at least one", o.replicas)
	}
	if o.shards < 1 {
		return fmt.Errorf("--shards=%d: need at least one", o.shards)
	}
	if o.replicas > o.shards {
		return fmt.Errorf("--replicas=%d over --shards=%d: a replica without a shard only waits, and measures nothing", o.replicas, o.shards)
	}
	reserved := reservedFlags
	if o.sharded() {
		reserved = append(slices.Clone(reserved), shardedReservedFlags...)
	}
	for _, f := range o.crddemoFlags {
		if !strings.HasPrefix(f, "-") {
			return fmt.Errorf("crddemo flag %q: not a flag (crddemo takes no arguments)", f)
		}
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if slices.Contains(reserved, name) {
			return fmt.Errorf("crddemo flag %q: the bench sets --%s itself", f, name)
		}
	}
	return nil
}
