package synced_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/domac/crddemo/internal/synced"
	"github.com/domac/crddemo/internal/synced/syncedtest"
)

// FuzzSyncedStatus checks the status decision for any status a Mydemo may
// have: syncedtest.Status writes the generation and one Synced=True condition for
// it, keeps the rest, leaves its input alone, and is idempotent; and
// synced.IsCurrent tells exactly when there is nothing to write.
func FuzzSyncedStatus(f *testing.F) {
	syncedtest.AddSeeds(f)
	f.Fuzz(func(t *testing.T, generation, observed int64, hasSynced bool, status, reason, message string,
		conditionObserved, transitionUnixNano int64, otherType, otherCondition string) {
		demo := syncedtest.Fuzzed(generation, syncedtest.FuzzedStatus{Observed: observed, Synced: hasSynced,
			Status: status, Reason: reason, Message: message, ConditionObserved: conditionObserved,
			TransitionUnixNano: transitionUnixNano, OtherType: otherType, OtherCondition: otherCondition})
		if got, want := synced.IsCurrent(demo), syncedtest.WantCurrent(demo); got != want {
			t.Errorf("IsCurrent = %v, want %v for %+v at generation %d", got, want, demo.Status, generation)
		}

		input := demo.DeepCopy()
		before := time.Now()
		got := syncedtest.Status(demo)
		after := time.Now()

		// demo may be the informer cache's own object.
		if !reflect.DeepEqual(demo, input) {
			t.Fatalf("Status changed its input:\n%+v\nwas\n%+v", demo.Status, input.Status)
		}
		if len(got.Conditions) > 0 && len(demo.Status.Conditions) > 0 && &got.Conditions[0] == &demo.Status.Conditions[0] {
			t.Fatalf("Status returns the input's conditions, not a copy")
		}
		syncedtest.CheckStatus(t, demo, got, before, after)

		written := demo.DeepCopy()
		written.Status = got
		if !synced.IsCurrent(written) {
			t.Errorf("IsCurrent is false after a sync wrote %+v", got)
		}
		if again := syncedtest.Status(written); !reflect.DeepEqual(again, got) {
			t.Errorf("a second sync would write\n%+v\nover\n%+v", again, got)
		}
	})
}
