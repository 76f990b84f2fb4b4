package leaderelection

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"

	"github.com/domac/crddemo/internal/fakeleases"
)

// waitLimit bounds every wait in these tests; with the durations of
// testConfig, what they wait for takes well under a second.
const waitLimit = 5 * time.Second

// testConfig is a config with short durations, so that renewals fail and
// leases expire within a test.
func testConfig(name, identity string) Config {
	return Config{
		Namespace:     "crddemo-system",
		Name:          name,
		Identity:      identity,
		LeaseDuration: time.Second,
		RenewDeadline: 500 * time.Millisecond,
		RetryPeriod:   100 * time.Millisecond,
	}
}

// receive returns the next value from ch, failing the test with the message
// failure if none comes within waitLimit.
func receive[T any](t *testing.T, ch <-chan T, failure string) T {
	t.Helper()
	select {
	case value := <-ch:
		return value
	case <-time.After(waitLimit):
		t.Fatalf("%s within %v", failure, waitLimit)
		var zero T
		return zero
	}
}

// campaign runs Run in the background and returns where its result comes.
func campaign(ctx context.Context, leases coordinationv1client.LeasesGetter, cfg Config, lead func(ctx, writeCtx context.Context)) <-chan error {
	result := make(chan error, 1)
	go func() { result <- Run(ctx, leases, cfg, nil, lead) }()
	return result
}

// newLoggingContext returns a cancellable context whose logger keeps what
// it logs, for the test to read back.
func newLoggingContext(t *testing.T) (context.Context, context.CancelFunc, ktesting.Buffer) {
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
	ctx, cancel := context.WithCancel(klog.NewContext(t.Context(), logger))
	return ctx, cancel, logger.GetSink().(ktesting.Underlier).GetBuffer()
}

// logged reports whether a line of logs has every one of parts.
func logged(logs ktesting.Buffer, parts ...string) bool {
	for line := range strings.SplitSeq(logs.String(), "\n") {
		hasAll := true
		for _, part := range parts {
			hasAll = hasAll && strings.Contains(line, part)
		}
		if hasAll {
			return true
		}
	}
	return false
}

// waitForLog waits until a line of logs has every one of parts.
func waitForLog(t *testing.T, logs ktesting.Buffer, parts ...string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, waitLimit, true,
		func(context.Context) (bool, error) { return logged(logs, parts...), nil })
	if err != nil {
		t.Fatalf("no log line with %q within %v:\n%s", parts, waitLimit, logs.String())
	}
}

// leaderGauge reads leader_election_master_status for the lease name from
// component-base's legacy registry, which /metrics serves.
func leaderGauge(t *testing.T, name string) float64 {
	t.Helper()
	families, err := legacyregistry.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, family := range families {
		if family.GetName() != "leader_election_master_status" {
			continue
		}
		for _, metric := range family.GetMetric() {
			for _, label := range metric.GetLabel() {
				if label.GetName() == "name" && label.GetValue() == name {
					return metric.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no leader_election_master_status{name=%q} in the legacy registry", name)
	return 0
}

func TestRunLeadsAloneAndReleasesTheLeaseOnShutdown(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	cfg := testConfig("alone", "alpha")
	ctx, cancel, logs := newLoggingContext(t)
	defer cancel()
	leadContexts := make(chan context.Context, 1)
	result := campaign(ctx, client.CoordinationV1(), cfg, func(leadCtx, _ context.Context) {
		leadContexts <- leadCtx
		<-leadCtx.Done()
	})

	leadCtx := receive(t, leadContexts, "lead was not called")
	if leadCtx.Err() != nil {
		t.Fatalf("lead was called with a finished context: %v", leadCtx.Err())
	}
	if got := holder(getLease(t, client, cfg)); got != "alpha" {
		t.Errorf("the Lease is held by %q while alpha leads", got)
	}
	if got := leaderGauge(t, cfg.Name); got != 1 {
		t.Errorf("leader_election_master_status is %v while leading, want 1", got)
	}

	cancel()
	if err := receive(t, result, "Run did not return after its context was cancelled"); err != nil {
		t.Fatalf("Run after a graceful shutdown = %v, want nil", err)
	}
	if leadCtx.Err() == nil {
		t.Error("lead's context is still live after Run returned")
	}
	if got := holder(getLease(t, client, cfg)); got != "" {
		t.Errorf("the Lease is still held by %q after Run returned, want it released", got)
	}
	for _, message := range []string{"Attempting to acquire leader lease", "Became leader", "Released the leader lease"} {
		if !logged(logs, message, `lease="crddemo-system/alone"`, `identity="alpha"`) {
			t.Errorf("no %q log line with the lease and identity:\n%s", message, logs.String())
		}
	}
}

// TestStandbyTakesOverOnceTheLeadersLeadHasReturned checks the order of a
// graceful handover: the leader keeps the lease, renewing it, until its lead
// returns, and only then releases it, which the standby then takes at once.
func TestStandbyTakesOverOnceTheLeadersLeadHasReturned(t *testing.T) {
	alpha := testConfig("handover", "alpha")
	// Far longer than the test: a standby that leads within waitLimit was
	// handed the lease, rather than waiting for it to expire.
	alpha.LeaseDuration = time.Minute
	beta := alpha
	beta.Identity = "beta"

	var alphaLeadCancelled, alphaLeadReturned atomic.Bool
	renewedDuringLead := make(chan struct{})
	noteRenewal := sync.OnceFunc(func() { close(renewedDuringLead) })
	// released gets, at the first release, whether alpha's lead had returned.
	released := make(chan bool, 1)
	client := fakeleases.NewClientset(func(lease *coordinationv1.Lease) {
		switch holder(lease) {
		case "alpha":
			if alphaLeadCancelled.Load() {
				noteRenewal()
			}
		case "":
			select {
			case released <- alphaLeadReturned.Load():
			default:
			}
		}
	})

	alphaCtx, cancelAlpha, alphaLogs := newLoggingContext(t)
	defer cancelAlpha()
	alphaLeads := make(chan struct{})
	alphaLeadSawCancel := make(chan struct{})
	letAlphaLeadReturn := make(chan struct{})
	allowAlphaLeadToReturn := sync.OnceFunc(func() { close(letAlphaLeadReturn) })
	defer allowAlphaLeadToReturn()
	alphaResult := campaign(alphaCtx, client.CoordinationV1(), alpha, func(leadCtx, _ context.Context) {
		close(alphaLeads)
		<-leadCtx.Done()
		alphaLeadCancelled.Store(true)
		close(alphaLeadSawCancel)
		<-letAlphaLeadReturn
		alphaLeadReturned.Store(true)
	})
	receive(t, alphaLeads, "alpha did not lead")

	betaCtx, cancelBeta, betaLogs := newLoggingContext(t)
	defer cancelBeta()
	betaLeads := make(chan struct{})
	betaResult := campaign(betaCtx, client.CoordinationV1(), beta, func(leadCtx, _ context.Context) {
		close(betaLeads)
		<-leadCtx.Done()
	})
	waitForLog(t, betaLogs, "New leader elected", `leader="alpha"`)

	cancelAlpha()
	receive(t, alphaLeadSawCancel, "alpha's lead context was not cancelled")
	select {
	case <-renewedDuringLead:
	case <-released:
		t.Fatal("alpha released the lease while its lead was still running")
	case <-time.After(waitLimit):
		t.Fatalf("alpha did not renew the lease within %v while its lead was finishing", waitLimit)
	}
	select {
	case <-betaLeads:
		t.Fatal("beta leads while alpha's lead is still running")
	default:
	}

	allowAlphaLeadToReturn()
	if leadHadReturned := receive(t, released, "alpha did not release the lease"); !leadHadReturned {
		t.Error("alpha released the lease before its lead returned")
	}
	if err := receive(t, alphaResult, "alpha's Run did not return"); err != nil {
		t.Errorf("alpha's Run after a graceful shutdown = %v, want nil", err)
	}
	if !logged(alphaLogs, "Released the leader lease") {
		t.Errorf("alpha did not log the release:\n%s", alphaLogs.String())
	}
	receive(t, betaLeads, "beta did not take over the released lease")

	cancelBeta()
	if err := receive(t, betaResult, "beta's Run did not return"); err != nil {
		t.Errorf("beta's Run after a graceful shutdown = %v, want nil", err)
	}
}

func TestRunReturnsErrLeaseLostWithoutWaitingForLead(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	cfg := testConfig("stolen", "alpha")
	ctx, cancel, logs := newLoggingContext(t)
	defer cancel()
	leadContexts := make(chan context.Context, 1)
	letLeadReturn := make(chan struct{})
	allowLeadToReturn := sync.OnceFunc(func() { close(letLeadReturn) })
	defer allowLeadToReturn()
	result := campaign(ctx, client.CoordinationV1(), cfg, func(leadCtx, _ context.Context) {
		leadContexts <- leadCtx
		<-leadCtx.Done()
		<-letLeadReturn
	})
	leadCtx := receive(t, leadContexts, "lead was not called")

	// Another candidate takes the lease, for longer than the test lasts, as
	// if it had seen alpha's lease expire and kept renewing since.
	if err := holdLease(ctx, client, cfg, "thief", time.Minute); err != nil {
		t.Fatalf("taking the lease as another candidate: %v", err)
	}
	err := receive(t, result, "Run did not return after another candidate took the lease")
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("Run after the lease was taken = %v, want ErrLeaseLost", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the test's context ended before Run returned")
	}
	if leadCtx.Err() == nil {
		t.Error("lead's context is still live after the lease was lost")
	}
	if got := holder(getLease(t, client, cfg)); got != "thief" {
		t.Errorf("the Lease is held by %q after alpha lost it, want the thief still", got)
	}
	if !logged(logs, "Leader lease lost", `identity="alpha"`) {
		t.Errorf("no error log about the lost lease:\n%s", logs.String())
	}
}

func TestStandbyReturnsWhenItsContextIsDone(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	cfg := testConfig("held", "alpha")
	if err := holdLease(t.Context(), client, cfg, "other", time.Minute); err != nil {
		t.Fatalf("holding the lease as another candidate: %v", err)
	}
	ctx, cancel, logs := newLoggingContext(t)
	defer cancel()
	var led atomic.Bool
	result := campaign(ctx, client.CoordinationV1(), cfg, func(_, _ context.Context) { led.Store(true) })
	waitForLog(t, logs, "New leader elected", `leader="other"`)

	cancel()
	if err := receive(t, result, "a standby's Run did not return after its context was cancelled"); err != nil {
		t.Errorf("a standby's Run = %v, want nil", err)
	}
	if led.Load() {
		t.Error("a standby called lead")
	}
	if got := holder(getLease(t, client, cfg)); got != "other" {
		t.Errorf("the Lease is held by %q after a standby stopped, want %q still", got, "other")
	}
}

func TestRunReleasesTheLeaseWhenLeadReturnsOnItsOwn(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	cfg := testConfig("done", "alpha")
	ctx, cancel, _ := newLoggingContext(t)
	defer cancel()

	result := campaign(ctx, client.CoordinationV1(), cfg, func(_, _ context.Context) {})
	if err := receive(t, result, "Run did not return after lead did"); err != nil {
		t.Errorf("Run after lead returned = %v, want nil", err)
	}
	if ctx.Err() != nil {
		t.Fatal("the test's context ended before Run returned")
	}
	if got := holder(getLease(t, client, cfg)); got != "" {
		t.Errorf("the Lease is still held by %q after lead returned, want it released", got)
	}
}

// TestRunRefusesABadConfig: Run leaves validation to its caller, and
// client-go's refusal of what slipped past still comes back as an error.
func TestRunRefusesABadConfig(t *testing.T) {
	cfg := testConfig("bad", "alpha")
	cfg.RenewDeadline = cfg.LeaseDuration
	err := Run(t.Context(), fakeleases.NewClientset(nil).CoordinationV1(), cfg, nil, func(_, _ context.Context) {
		t.Error("lead was called despite a bad config")
	})
	want := "starting leader election for lease crddemo-system/bad: leaseDuration must be greater than renewDeadline"
	if err == nil || err.Error() != want {
		t.Errorf("Run with a bad config = %v, want %s", err, want)
	}
}

// TestRunReturnsWhenTheReleaseCannotReachTheAPIServer cuts the API server
// off between the end of lead and the release: the release must give up on
// its own, since Run waits for it.
func TestRunReturnsWhenTheReleaseCannotReachTheAPIServer(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	leases := &unreachableLeases{LeasesGetter: client.CoordinationV1()}
	cfg := testConfig("cut-off", "alpha")
	ctx, cancel, logs := newLoggingContext(t)
	defer cancel()
	leads := make(chan struct{})
	leadSawCancel := make(chan struct{})
	letLeadReturn := make(chan struct{})
	allowLeadToReturn := sync.OnceFunc(func() { close(letLeadReturn) })
	defer allowLeadToReturn()
	result := campaign(ctx, leases, cfg, func(leadCtx, _ context.Context) {
		close(leads)
		<-leadCtx.Done()
		close(leadSawCancel)
		<-letLeadReturn
	})
	receive(t, leads, "lead was not called")

	cancel()
	receive(t, leadSawCancel, "lead's context was not cancelled")
	leases.cut.Store(true)
	allowLeadToReturn()
	if err := receive(t, result, "Run did not return while the API server was unreachable"); err != nil {
		t.Errorf("Run after a graceful shutdown without a release = %v, want nil", err)
	}
	if !logged(logs, "Could not release the leader lease") {
		t.Errorf("no log line about the failed release:\n%s", logs.String())
	}
	if got := holder(getLease(t, client, cfg)); got != "alpha" {
		t.Errorf("the Lease is held by %q, want alpha's, whose release could not reach the API server", got)
	}
}

// TestRunStopsWritesWhenRenewalsHang cuts the leader off while it leads, so
// that its renewals hang: its write context ends for want of a renewal, and
// lead's context with it, and Run reports the lease lost.
func TestRunStopsWritesWhenRenewalsHang(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	leases := &unreachableLeases{LeasesGetter: client.CoordinationV1()}
	cfg := testConfig("hanging", "alpha")
	ctx, cancel, _ := newLoggingContext(t)
	defer cancel()
	type contexts struct{ lead, write context.Context }
	leading := make(chan contexts, 1)
	result := campaign(ctx, leases, cfg, func(leadCtx, writeCtx context.Context) {
		leading <- contexts{leadCtx, writeCtx}
		<-leadCtx.Done()
	})
	term := receive(t, leading, "lead was not called")
	if term.write.Err() != nil {
		t.Fatal("lead was given a write context that had ended already")
	}

	leases.cut.Store(true)
	receive(t, term.write.Done(), "the write context did not end while renewals hung")
	if cause := context.Cause(term.write); !errors.Is(cause, errRenewalOverdue) {
		t.Errorf("the write context ended with %v, want errRenewalOverdue", cause)
	}
	receive(t, term.lead.Done(), "lead's context did not end with the write context")
	if err := receive(t, result, "Run did not return after the lease was lost"); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("Run after renewals hung = %v, want ErrLeaseLost", err)
	}
}
