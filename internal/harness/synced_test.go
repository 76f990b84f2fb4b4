package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	"github.com/domac/crddemo/pkg/client/clientset/versioned/fake"
)

// mydemo is the Mydemo default/x at generation, whose status observed
// observed and has crddemo's Synced condition with the status condition
// ("" for none).
func mydemo(generation, observed int64, condition metav1.ConditionStatus) *crddemov1.Mydemo {
	demo := &crddemov1.Mydemo{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "x", Generation: generation}}
	demo.Status.ObservedGeneration = observed
	if condition != "" {
		demo.Status.Conditions = []metav1.Condition{{Type: synced.ConditionType, Status: condition,
			Reason: synced.Reason, Message: synced.Message, ObservedGeneration: observed}}
	}
	return demo
}

func TestWaitSynced(t *testing.T) {
	client := fake.NewSimpleClientset(mydemo(2, 1, metav1.ConditionTrue))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	// The status catches up while WaitSynced polls.
	go func() {
		time.Sleep(3 * PollInterval)
		_, _ = client.CrddemoV1().Mydemos("default").UpdateStatus(ctx, mydemo(2, 2, metav1.ConditionTrue), metav1.UpdateOptions{})
	}()
	demo, err := WaitSynced(ctx, client, "default", "x", 2)
	if err != nil || demo.Status.ObservedGeneration != 2 {
		t.Fatalf("WaitSynced = %+v, %v; want generation 2 synced", demo, err)
	}
}

func TestWaitSyncedSaysWhatItLastSaw(t *testing.T) {
	client := fake.NewSimpleClientset(mydemo(2, 1, metav1.ConditionTrue))
	ctx, cancel := context.WithTimeout(t.Context(), 5*PollInterval)
	defer cancel()

	_, err := WaitSynced(ctx, client, "default", "x", 2)
	if err == nil || !strings.Contains(err.Error(), "ObservedGeneration:1") {
		t.Fatalf("error = %v, want one that shows the status last seen", err)
	}
	_, err = WaitSynced(ctx, client, "default", "missing", 1)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("error = %v, want one that shows the last error", err)
	}
}
