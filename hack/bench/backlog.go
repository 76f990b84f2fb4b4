package main

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/domac/crddemo/internal/harness"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

const (
	// backlogDelay is how far into the cold phase's backlog the bench makes
	// its live changes: this long after crddemo synced its first object.
	backlogDelay = time.Second
	// backlogPoll is how often the backlog phase looks at the tracker,
	// which its watches keep current: no request to the API server.
	backlogPoll = 10 * time.Millisecond
	// backlogChanges is how many unsynced Mydemos the phase changes, picked
	// at random: in arrival order, the last of ten would wait for nearly
	// the whole backlog, wherever the initial list put them.
	backlogChanges = 10
)

// backlogResult is what the backlog phase measured: how long after the
// bench made them the last of its changes, and then a new Mydemo, were
// synced, and how many of the cold phase's objects were still unsynced at
// those moments.
type backlogResult struct {
	Changes        int     `json:"changes"`
	ChangeSeconds  float64 `json:"change_seconds"`
	ChangeUnsynced int     `json:"change_unsynced"`
	NewSeconds     float64 `json:"new_seconds"`
	NewUnsynced    int     `json:"new_unsynced"`
}

// awaitCold waits for the cold phase as await does, and meanwhile runs the
// backlog phase on the cold phase's objects.
func (b *bench) awaitCold(ctx context.Context, g *goal, started time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	measured := make(chan error, 1)
	go func() { measured <- b.backlog(ctx, g) }()
	if err := b.await(ctx, "cold", g, started, 0); err != nil {
		return err
	}
	if err := <-measured; err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	return nil
}

// backlog times live changes made while crddemo works through the cold
// phase's backlog: an annotation of backlogChanges unsynced Mydemos, then a
// new Mydemo. An annotation leaves the generation, and so the one Synced
// event per generation that the audit counts, as it was.
func (b *bench) backlog(ctx context.Context, g *goal) error {
	err := wait.PollUntilContextCancel(ctx, backlogPoll, true, func(context.Context) (bool, error) {
		return b.tracker.remaining(g) < g.want, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for crddemo's first sync: %w", err)
	}
	select {
	case <-time.After(backlogDelay):
	case <-ctx.Done():
		return context.Cause(ctx)
	}

	picked := b.tracker.pending(g, backlogChanges)
	b.say("backlog: %d of the %d still unsynced; annotating %d of them, then creating a new Mydemo",
		b.tracker.remaining(g), g.want, len(picked))
	names := map[types.UID]string{}
	for _, demo := range b.demos {
		names[demo.UID] = demo.Name
	}
	changed := time.Now()
	patch := []byte(`{"metadata":{"annotations":{"bench.crddemo.k8s.io/backlog":"changed"}}}`)
	for _, uid := range picked {
		if _, err := b.client.CrddemoV1().Mydemos(crddemoNamespace).Patch(ctx, names[uid], types.MergePatchType, patch,
			metav1.PatchOptions{FieldManager: benchFieldManager}); err != nil {
			return fmt.Errorf("annotating mydemo %s/%s: %w", crddemoNamespace, names[uid], err)
		}
	}
	res := &backlogResult{Changes: len(picked)}
	for _, uid := range picked {
		res.ChangeSeconds, res.ChangeUnsynced, err = b.timeSync(ctx, g, uid, 1, changed)
		if err != nil {
			return fmt.Errorf("waiting for the change to mydemo %s to be synced: %w", names[uid], err)
		}
	}

	created := time.Now()
	demo, err := harness.CreateMydemo(ctx, b.client, &crddemov1.Mydemo{
		ObjectMeta: metav1.ObjectMeta{Namespace: crddemoNamespace, Name: "backlog-new"},
		Spec:       crddemov1.MydemoSpec{IP: "127.0.0.1", Port: firstPort},
	})
	if err != nil {
		return err
	}
	b.ledger.record(demo)
	res.NewSeconds, res.NewUnsynced, err = b.timeSync(ctx, g, demo.UID, demo.Generation, created)
	if err != nil {
		return fmt.Errorf("waiting for the new mydemo %s to be synced: %w", demo.Name, err)
	}
	b.res.Backlog = res
	return nil
}

// timeSync waits until the tracker sees uid synced at generation, and
// returns how long that was after since, and how many of g's objects were
// still unsynced then.
func (b *bench) timeSync(ctx context.Context, g *goal, uid types.UID, generation int64, since time.Time) (float64, int, error) {
	var took time.Duration
	var unsynced int
	err := wait.PollUntilContextCancel(ctx, backlogPoll, true, func(context.Context) (bool, error) {
		if !b.tracker.isSynced(uid, generation) {
			return false, nil
		}
		took, unsynced = time.Since(since), b.tracker.remaining(g)
		return true, nil
	})
	return took.Seconds(), unsynced, err
}

// describeBacklog is the report's line for the backlog phase.
func describeBacklog(r *backlogResult, n int) string {
	return fmt.Sprintf("backlog, %v into the cold phase's: %d changes synced after %.2f s, with %d of %d still unsynced; "+
		"a Mydemo created then, after %.2f s, with %d still unsynced", backlogDelay, r.Changes, r.ChangeSeconds,
		r.ChangeUnsynced, n, r.NewSeconds, r.NewUnsynced)
}
