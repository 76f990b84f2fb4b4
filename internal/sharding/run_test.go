package sharding

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2/ktesting"

	"github.com/domac/crddemo/internal/fakeleases"
	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/internal/shard"
)

// waitLimit bounds every wait in these tests; with testConfig's durations,
// what they wait for takes a few seconds at most.
const waitLimit = 20 * time.Second

func testConfig(identity string, shards int) Config {
	return Config{
		Election: leaderelection.Config{
			Namespace: "crddemo-system", Name: "crddemo", Identity: identity,
			LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond,
		},
		Shards: shards,
	}
}

// owners records which replica runs the work of each shard, and fails the
// test if two ever run the same shard at once.
type owners struct {
	t  *testing.T
	mu sync.Mutex
	by map[int]string
}

func newOwners(t *testing.T) *owners { return &owners{t: t, by: map[int]string{}} }

// work is the Work of replica identity: it holds its shard until ctx ends.
func (o *owners) work(identity string) Work {
	return func(ctx, writeCtx context.Context, shard int) {
		o.mu.Lock()
		if other, ok := o.by[shard]; ok {
			o.t.Errorf("shard %d runs on %s while %s still runs it", shard, identity, other)
		}
		o.by[shard] = identity
		o.mu.Unlock()
		<-ctx.Done()
		o.mu.Lock()
		delete(o.by, shard)
		o.mu.Unlock()
	}
}

// counts returns how many shards each replica runs.
func (o *owners) counts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	counts := map[string]int{}
	for _, identity := range o.by {
		counts[identity]++
	}
	return counts
}

// waitCounts waits until the replicas run exactly the shards of want.
func (o *owners) waitCounts(t *testing.T, want map[string]int) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, waitLimit, true, func(context.Context) (bool, error) {
		return maps.Equal(o.counts(), want), nil
	})
	if err != nil {
		t.Fatalf("shards run per replica: %v, want %v", o.counts(), want)
	}
}

// replica is one Run in the background.
type replica struct {
	stop context.CancelFunc
	done chan struct{}
	err  error // Run's result, once done is closed
}

func startReplica(t *testing.T, client *fake.Clientset, o *owners, identity string, shards int) *replica {
	return startReplicaWith(t, client, o, testConfig(identity, shards))
}

// startReplicaWith is startReplica with a config of the test's own.
func startReplicaWith(t *testing.T, client *fake.Clientset, o *owners, cfg Config) *replica {
	identity := cfg.Election.Identity
	_, ctx := ktesting.NewTestContext(t)
	ctx, stop := context.WithCancel(ctx)
	r := &replica{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.err = Run(ctx, client.CoordinationV1(), cfg, o.work(identity))
	}()
	t.Cleanup(func() {
		stop()
		<-r.done
	})
	return r
}

func TestReplicasShareTheShardsFairly(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	o := newOwners(t)

	a := startReplica(t, client, o, "a", 6)
	o.waitCounts(t, map[string]int{"a": 6})

	startReplica(t, client, o, "b", 6)
	startReplica(t, client, o, "c", 6)
	o.waitCounts(t, map[string]int{"a": 2, "b": 2, "c": 2})

	// A replica that stops hands its shards over: its membership Lease goes,
	// so the others' fair share grows to 3 at once.
	a.stop()
	select {
	case <-a.done:
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %v of its context ending", waitLimit)
	}
	if a.err != nil {
		t.Fatalf("Run after its context ended = %v, want nil", a.err)
	}
	o.waitCounts(t, map[string]int{"b": 3, "c": 3})
	leases, err := client.CoordinationV1().Leases("crddemo-system").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, lease := range leases.Items {
		names = append(names, lease.Name)
	}
	for i := range 6 {
		if name := fmt.Sprintf("crddemo-shard-%d-of-6", i); !slices.Contains(names, name) {
			t.Errorf("no Lease %s among %v", name, names)
		}
	}
	if want := memberLeaseName("crddemo", "a"); slices.Contains(names, want) {
		t.Errorf("the stopped replica's membership Lease %s is still there", want)
	}
}

// TestOneShardIsOneLeader: of two replicas sharing one shard, one takes it
// and keeps it; the other never runs it meanwhile, which o.work would
// report, nor takes it over.
func TestOneShardIsOneLeader(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	o := newOwners(t)
	// Slower than testConfig, so that a loaded machine (go test -race on
	// two cores) does not make the owner miss its renew deadline, which
	// would hand the shard over for a reason this test is not about.
	slow := func(identity string) Config {
		cfg := testConfig(identity, 1)
		cfg.Election.LeaseDuration, cfg.Election.RenewDeadline, cfg.Election.RetryPeriod = 4*time.Second, 2*time.Second, 200*time.Millisecond
		return cfg
	}
	startReplicaWith(t, client, o, slow("a"))
	startReplicaWith(t, client, o, slow("b"))
	var first map[string]int
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, waitLimit, true, func(context.Context) (bool, error) {
		first = o.counts()
		return len(first) == 1, nil
	})
	if err != nil {
		t.Fatalf("shards run: %v, want one replica running the one shard", o.counts())
	}
	// A lease duration and more, in which a second owner would show: the
	// other replica retries every 200ms, and a lease that was not renewed
	// would expire.
	hold := 5 * time.Second
	for deadline := time.Now().Add(hold); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if now := o.counts(); !maps.Equal(now, first) {
			t.Fatalf("shards run: %v after %v, want %v throughout %v", now, first, first, hold)
		}
	}
}

func TestFairShare(t *testing.T) {
	for _, tt := range []struct{ shards, live, want int }{
		{1, 1, 1}, {1, 3, 1}, {6, 1, 6}, {6, 2, 3}, {6, 3, 2}, {6, 4, 2}, {6, 6, 1}, {6, 7, 1}, {4, 3, 2},
	} {
		if got := fairShare(tt.shards, tt.live); got != tt.want {
			t.Errorf("fairShare(%d shards, %d live) = %d, want %d", tt.shards, tt.live, got, tt.want)
		}
	}
}

func TestValidateNamesTheFieldAtFault(t *testing.T) {
	for shards, want := range map[int]string{
		0:                   "shards: Invalid value: 0: must be from 1 to 256",
		shard.MaxShards + 1: "shards: Invalid value: 257: must be from 1 to 256",
	} {
		if errs := testConfig("alpha", shards).Validate(); errs.ToAggregate() == nil || errs.ToAggregate().Error() != want {
			t.Errorf("Validate() with %d shards = %v, want %s", shards, errs, want)
		}
	}
	bad := testConfig("alpha", 4)
	bad.Election.RetryPeriod = 0
	if errs := bad.Validate(); len(errs) != 1 || errs[0].Field != "election.retryPeriod" {
		t.Errorf("Validate() with no retry period = %v, want one error on election.retryPeriod", errs)
	}
	if errs := testConfig("alpha", shard.MaxShards).Validate(); len(errs) > 0 {
		t.Errorf("Validate() of a good config = %v, want none", errs)
	}
}
