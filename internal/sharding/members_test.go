package sharding

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/fakeleases"
)

func TestMembersCountsLiveReplicasAndDropsDeadOnes(t *testing.T) {
	const duration = 100 * time.Millisecond
	client := fakeleases.NewClientset(nil)
	leases := client.CoordinationV1().Leases("crddemo-system")
	a := newMembers(leases, "crddemo", "a", duration)
	b := newMembers(leases, "crddemo", "b", duration)
	other := newMembers(leases, "another-group", "c", duration)
	for _, m := range []*members{a, b, other} {
		if err := m.renew(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.count(t.Context()); err != nil || n != 2 {
		t.Fatalf("count with b just renewed = %d, %v; want a and b, not another group's member", n, err)
	}

	// b stops renewing: it is counted for a lease duration after a saw its
	// last renewal, and its Lease is deleted once it is long stale.
	time.Sleep(duration)
	if n, err := a.count(t.Context()); err != nil || n != 1 {
		t.Fatalf("count a lease duration after b's last renewal = %d, %v; want a alone", n, err)
	}
	if _, err := leases.Get(t.Context(), b.name, metav1.GetOptions{}); err != nil {
		t.Fatalf("b's Lease is gone before it was long stale: %v", err)
	}
	time.Sleep(staleLeases * duration)
	if _, err := a.count(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Get(t.Context(), b.name, metav1.GetOptions{}); err == nil {
		t.Error("a dead member's Lease is still there after staleLeases lease durations")
	}

	// A member that leaves deletes its own Lease.
	if err := a.leave(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Get(t.Context(), a.name, metav1.GetOptions{}); err == nil {
		t.Error("a's Lease is still there after it left")
	}
}
