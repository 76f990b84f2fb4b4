package sharding

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"
	"k8s.io/utils/ptr"

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

// owners records which replica runs the work of each range of hashes, and
// fails the test if two ever run overlapping ranges at once, of one split or
// of two.
type owners struct {
	t  *testing.T
	mu sync.Mutex
	by map[shard.Range]string
	// most is the most shards each replica has run at once.
	most map[string]int
}

func newOwners(t *testing.T) *owners {
	return &owners{t: t, by: map[shard.Range]string{}, most: map[string]int{}}
}

// work is the Work of replica identity, which splits the hashes into
// shards: it holds its shard until ctx ends.
func (o *owners) work(identity string, shards int) Work {
	ranges := shard.Split(shards)
	return func(ctx, writeCtx context.Context, i int, _ string) {
		mine := ranges[i]
		o.mu.Lock()
		for r, other := range o.by {
			if r.Overlaps(mine) {
				o.t.Errorf("%s runs %v while %s still runs %v", identity, mine, other, r)
			}
		}
		o.by[mine] = identity
		o.most[identity] = max(o.most[identity], o.countsLocked()[identity])
		o.mu.Unlock()
		<-ctx.Done()
		o.mu.Lock()
		delete(o.by, mine)
		o.mu.Unlock()
	}
}

// counts returns how many shards each replica runs.
func (o *owners) counts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.countsLocked()
}

func (o *owners) countsLocked() map[string]int {
	counts := map[string]int{}
	for _, identity := range o.by {
		counts[identity]++
	}
	return counts
}

// mostAtOnce returns the most shards replica identity has run at once.
func (o *owners) mostAtOnce(identity string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.most[identity]
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
		r.err = Run(ctx, client.CoordinationV1(), cfg, o.work(identity, cfg.Shards))
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
	for _, r := range shard.Split(6) {
		if name := ShardLeaseName("crddemo", r); !slices.Contains(names, name) {
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

// TestAFleetStartedTogetherTakesOnlyItsShare starts three replicas within a
// few dozen milliseconds of each other: none ever runs more than its share
// of two shards, so none lists more than a third of the Mydemos.
func TestAFleetStartedTogetherTakesOnlyItsShare(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	o := newOwners(t)
	for _, identity := range []string{"a", "b", "c"} {
		startReplica(t, client, o, identity, 6)
		time.Sleep(30 * time.Millisecond) // a start spread as a Deployment's is
	}
	o.waitCounts(t, map[string]int{"a": 2, "b": 2, "c": 2})
	for _, identity := range []string{"a", "b", "c"} {
		if most := o.mostAtOnce(identity); most > 2 {
			t.Errorf("replica %s ran %d shards at once on the way to 2 each", identity, most)
		}
	}
}

// TestTwoSplitsNeverOwnOneHash starts many replicas of two splits, 6 and
// 4 shards, at once, then runs rolling changes of --shards from 6 to 4 and
// from 4 to 6, stopping the old replicas one by one while the new ones run:
// owners fails the test if two replicas ever run overlapping ranges, and
// after each change the new split owns every range.
func TestTwoSplitsNeverOwnOneHash(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	o := newOwners(t)
	const perSplit = 6
	start := func(name string, shards int) []*replica {
		var started []*replica
		for i := range perSplit {
			started = append(started, startReplica(t, client, o, fmt.Sprintf("%s-%d", name, i), shards))
		}
		return started
	}
	stopOneByOne := func(replicas []*replica) {
		for _, r := range replicas {
			r.stop()
			<-r.done
		}
	}
	waitCovered := func(name string, shards int) {
		t.Helper()
		err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, waitLimit, true, func(context.Context) (bool, error) {
			o.mu.Lock()
			defer o.mu.Unlock()
			covered := 0
			for _, r := range shard.Split(shards) {
				if owner, ok := o.by[r]; ok && strings.HasPrefix(owner, name+"-") {
					covered++
				}
			}
			return covered == shards, nil
		})
		if err != nil {
			t.Fatalf("the replicas of %d shards do not own every range: %v", shards, o.counts())
		}
	}

	// Both splits start at the same moment, interleaved.
	var six, four []*replica
	for i := range perSplit {
		six = append(six, startReplica(t, client, o, fmt.Sprintf("six-%d", i), 6))
		four = append(four, startReplica(t, client, o, fmt.Sprintf("four-%d", i), 4))
	}
	stopOneByOne(four)
	waitCovered("six", 6)

	four = start("four-again", 4)
	stopOneByOne(six)
	waitCovered("four-again", 4)

	six = start("six-again", 6)
	stopOneByOne(four)
	waitCovered("six-again", 6)
	stopOneByOne(six)
}

// TestATakeThatMeetsAnOverlappingOneIsHandedBack has another split's Lease
// appear right before the replica's take, after the replica checked: the
// replica must read the Leases again, hand its shard straight back without
// running it, and take it once the other Lease is released.
func TestATakeThatMeetsAnOverlappingOneIsHandedBack(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	leases := client.CoordinationV1().Leases("crddemo-system")
	o := newOwners(t)
	whole := shard.Split(1)[0]
	intruder := shard.Split(2)[0]
	o.by[intruder] = "intruder"
	var once sync.Once
	client.PrependReactor("create", "leases", func(action clienttesting.Action) (bool, runtime.Object, error) {
		lease := action.(clienttesting.CreateAction).GetObject().(*coordinationv1.Lease)
		if lease.Name == ShardLeaseName("crddemo", whole) {
			once.Do(func() {
				now := metav1.NowMicro()
				err := client.Tracker().Create(action.GetResource(), &coordinationv1.Lease{
					ObjectMeta: metav1.ObjectMeta{Name: ShardLeaseName("crddemo", intruder), Namespace: "crddemo-system", ResourceVersion: "1"},
					Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("intruder"), LeaseDurationSeconds: ptr.To[int32](3600),
						AcquireTime: &now, RenewTime: &now},
				}, "crddemo-system")
				if err != nil {
					t.Errorf("creating the intruding Lease: %v", err)
				}
			})
		}
		return false, nil, nil
	})
	startReplica(t, client, o, "a", 1)

	// a takes the whole space, finds the intruder and lets go.
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, waitLimit, true, func(ctx context.Context) (bool, error) {
		lease, err := leases.Get(ctx, ShardLeaseName("crddemo", whole), metav1.GetOptions{})
		// Released: client-go clears the holder.
		return err == nil && (lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == ""), nil
	})
	if err != nil {
		t.Fatalf("the replica did not hand back a shard overlapped by another split's Lease: %v", err)
	}
	if counts := o.counts(); counts["a"] != 0 {
		t.Fatalf("the replica runs %d shards while another split's Lease overlaps its only one", counts["a"])
	}

	// The intruder lets go: a takes its shard.
	o.mu.Lock()
	delete(o.by, intruder)
	o.mu.Unlock()
	if err := leases.Delete(t.Context(), ShardLeaseName("crddemo", intruder), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	o.waitCounts(t, map[string]int{"a": 1})
}

func TestSettleWaitsForThreeCountsThatAgree(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	s := &sharer{cfg: testConfig("a", 6), started: time.Now()}
	for i, live := range []int{1, 2, 3, 3} {
		if s.settle(ctx, live) {
			t.Fatalf("settled at count %d of 1, 2, 3, 3, 3: after %d counts, not three that agree", i+1, i+1)
		}
	}
	if !s.settle(ctx, 3) {
		t.Fatal("not settled after three counts of 3 in a row")
	}
	if !s.settle(ctx, 4) {
		t.Error("a settled count unsettled again: a joiner is handled by the share, not by settling")
	}

	// A count that keeps changing is trusted a lease duration after the start.
	s = &sharer{cfg: testConfig("a", 6), started: time.Now().Add(-time.Second)}
	if !s.settle(ctx, 1) {
		t.Error("not settled a lease duration after the start")
	}
}

// TestALostTakeFreesItsShare: an attempt that another replica won no longer
// counts towards the share, so the replica tries a free shard at once
// rather than a renew deadline later.
func TestALostTakeFreesItsShare(t *testing.T) {
	s := &sharer{cfg: testConfig("a", 2), share: 1, ranges: shard.Split(2), retryAt: make([]time.Time, 2),
		shards: []*shardState{{}, {}}}
	s.changed = sync.NewCond(&s.mu)
	s.cfg.Election.RenewDeadline = waitLimit
	if !s.mayAcquire(0) {
		t.Fatal("may not take shard 0 with a share of 1 and nothing owned")
	}
	mayTake1 := make(chan bool)
	go func() { mayTake1 <- s.mayAcquire(1) }()
	select {
	case may := <-mayTake1:
		t.Fatalf("the take of shard 1 was decided (%t) while the attempt at shard 0 held the share of 1, want it to wait", may)
	case <-time.After(100 * time.Millisecond):
	}
	s.lostTake(0)
	select {
	case may := <-mayTake1:
		if !may {
			t.Error("may not take shard 1 after the attempt at shard 0 was lost to another replica")
		}
	case <-time.After(waitLimit / 2):
		t.Fatalf("the take of shard 1 still waits %v after the attempt at shard 0 was lost", waitLimit/2)
	}
}

// TestATakeWaitingForAnAttemptGivesUpWhenItSucceeds: a take that waits
// for another attempt under way is declined as soon as that attempt takes
// its shard, and the share is full.
func TestATakeWaitingForAnAttemptGivesUpWhenItSucceeds(t *testing.T) {
	s := &sharer{cfg: testConfig("a", 2), share: 1, ranges: shard.Split(2), retryAt: make([]time.Time, 2),
		shards: []*shardState{{taking: time.Now()}, {}}}
	s.changed = sync.NewCond(&s.mu)
	s.cfg.Election.RenewDeadline = waitLimit
	mayTake1 := make(chan bool)
	go func() { mayTake1 <- s.mayAcquire(1) }()
	s.setOwned(0, true)
	select {
	case may := <-mayTake1:
		if may {
			t.Error("may take shard 1 once shard 0 is owned, with a share of 1")
		}
	case <-time.After(waitLimit / 2):
		t.Fatalf("the take of shard 1 still waits %v after shard 0 was taken", waitLimit/2)
	}
}

// TestARollingChangeOfShardsRemovesTheOldSplitsLeases: once the change from
// 6 shards to 4 is done, the new replica removes the Leases that the old one
// released, and keeps its own.
func TestARollingChangeOfShardsRemovesTheOldSplitsLeases(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	leases := client.CoordinationV1().Leases("crddemo-system")
	o := newOwners(t)
	// A lease of 2s, not testConfig's 1s: client-go's elector sees a
	// renewal only once the second of its renewTime changes, so with a
	// lease of 1s a standby may judge a Lease renewed every retry period
	// expired, and take it, while this test waits for the old Leases to go.
	steady := func(identity string, shards int) Config {
		cfg := testConfig(identity, shards)
		cfg.Election.LeaseDuration, cfg.Election.RenewDeadline = 2*time.Second, time.Second
		return cfg
	}
	six := startReplicaWith(t, client, o, steady("six", 6))
	o.waitCounts(t, map[string]int{"six": 6})
	startReplicaWith(t, client, o, steady("four", 4))
	six.stop()
	<-six.done
	o.waitCounts(t, map[string]int{"four": 4})

	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, waitLimit, true, func(ctx context.Context) (bool, error) {
		for _, r := range shard.Split(6) {
			if _, err := leases.Get(ctx, ShardLeaseName("crddemo", r), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("a Lease of the 6 split is still there %v after the change to 4", waitLimit)
	}
	for _, r := range shard.Split(4) {
		if _, err := leases.Get(t.Context(), ShardLeaseName("crddemo", r), metav1.GetOptions{}); err != nil {
			t.Errorf("the Lease of the running split's range %v: %v", r, err)
		}
	}
}
