package sharding

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/domac/crddemo/internal/fakeleases"
	"github.com/domac/crddemo/internal/shard"
)

func TestRangeLeasesHeldJudgesByRenewalsSeen(t *testing.T) {
	client := fakeleases.NewClientset(nil)
	leases := client.CoordinationV1().Leases("crddemo-system")
	now := metav1.NowMicro()
	lease := func(name, holder string) *coordinationv1.Lease {
		return &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(holder), LeaseDurationSeconds: ptr.To[int32](1),
				RenewTime: &now},
		}
	}
	four, six := shard.Split(4), shard.Split(6)
	for _, l := range []*coordinationv1.Lease{
		lease(ShardLeaseName("crddemo", four[0]), "a"),
		lease(ShardLeaseName("crddemo", six[5]), ""), // released
		lease(ShardLeaseName("other", six[0]), "c"),  // another group's
		lease("crddemo", "d"),                        // the leader's
	} {
		if _, err := leases.Create(t.Context(), l, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	r := newRangeLeases(leases, "crddemo", time.Second)
	held, err := r.held(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || held[0].holder != "a" || held[0].hashes != four[0] {
		t.Fatalf("held = %+v, want only a's Lease of %v", held, four[0])
	}
	if got := overlapping(held, six[1], ""); len(got) != 1 {
		t.Errorf("overlapping(%v) = %+v, want a's Lease of %v", six[1], got, four[0])
	}
	if got := overlapping(held, six[2], ""); len(got) != 0 {
		t.Errorf("overlapping(%v) = %+v, want none", six[2], got)
	}
	if got := overlapping(held, four[0], ShardLeaseName("crddemo", four[0])); len(got) != 0 {
		t.Errorf("overlapping(own Lease) = %+v, want none", got)
	}

	// Unrenewed for its lease duration since this replica first read it,
	// a's Lease is no longer held, whatever its renewTime says.
	time.Sleep(time.Second)
	if held, err := r.held(t.Context()); err != nil || len(held) != 0 {
		t.Fatalf("held after a lease duration without a renewal = %+v, %v; want none", held, err)
	}
}
