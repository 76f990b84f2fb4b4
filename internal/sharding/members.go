package sharding

import (
	"context"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// MemberOfLabel marks the membership Leases of one group of replicas, whose
// value is the group's --leader-elect-resource-name. hack/bench counts them
// to know when every replica it started has joined.
const MemberOfLabel = "crddemo.k8s.io/member-of"

// members keeps this replica's membership Lease, renewed every retry period,
// and counts the replicas of its group whose Leases are live: one Lease per
// replica is how the replicas learn how many share the shards.
//
// A Lease counts as live while its renewTime has changed within the lease
// duration, by this replica's own clock since it saw the change, as
// client-go's elector judges a leader: the clocks of two replicas never
// meet.
type members struct {
	leases   coordinationv1client.LeaseInterface
	group    string
	identity string
	// name is this replica's own Lease.
	name     string
	duration time.Duration

	mu sync.Mutex
	// seen is, for each other member's Lease, its renewTime as last read
	// and when this replica first read that value.
	seen map[string]observation
	// joined is the resourceVersion of this replica's first write of its
	// Lease: the moment it joined the group.
	joined string
}

// staleLeases is how many lease durations a member's Lease may go unrenewed
// before another member deletes it: a replica killed without leaving would
// otherwise leave its Lease behind for good.
const staleLeases = 10

// observation is a member's renewTime as read, and when it was first read.
type observation struct {
	renewTime string
	at        time.Time
}

func newMembers(leases coordinationv1client.LeaseInterface, group, identity string, duration time.Duration) *members {
	return &members{
		leases:   leases,
		group:    group,
		identity: identity,
		name:     memberLeaseName(group, identity),
		duration: duration,
		seen:     map[string]observation{},
	}
}

// renew creates this replica's Lease, or renews it.
func (m *members) renew(ctx context.Context) error {
	now := metav1.NewMicroTime(time.Now())
	lease, err := m.leases.Get(ctx, m.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease, err = m.leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: m.name, Labels: map[string]string{MemberOfLabel: m.group}},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(m.identity),
				LeaseDurationSeconds: ptr.To(int32(m.duration / time.Second)),
				AcquireTime:          &now,
				RenewTime:            &now,
			},
		}, metav1.CreateOptions{})
	} else if err == nil {
		lease.Spec.RenewTime = &now
		lease, err = m.leases.Update(ctx, lease, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("renewing the membership Lease %s: %w", m.name, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.joined == "" {
		m.joined = lease.ResourceVersion
	}
	return nil
}

// joinedAt is the resourceVersion at which this replica joined the group,
// "" until it has.
func (m *members) joinedAt() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.joined
}

// count lists the group's Leases and returns how many replicas are live,
// this one included.
func (m *members) count(ctx context.Context) (int, error) {
	list, err := m.leases.List(ctx, metav1.ListOptions{
		LabelSelector: labels.SelectorFromSet(labels.Set{MemberOfLabel: m.group}).String(),
	})
	if err != nil {
		return 0, fmt.Errorf("listing the membership Leases of %s: %w", m.group, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	live := 1
	listed := map[string]bool{}
	for _, lease := range list.Items {
		if lease.Name == m.name {
			continue
		}
		listed[lease.Name] = true
		renewed := ""
		if lease.Spec.RenewTime != nil {
			renewed = lease.Spec.RenewTime.String()
		}
		last, ok := m.seen[lease.Name]
		if !ok || last.renewTime != renewed {
			last = observation{renewTime: renewed, at: now}
			m.seen[lease.Name] = last
		}
		unrenewed := now.Sub(last.at)
		if unrenewed < m.duration {
			live++
		}
		if unrenewed > staleLeases*m.duration {
			// Only if it is still the version seen, so that a member that
			// comes back meanwhile keeps its Lease.
			err := m.leases.Delete(ctx, lease.Name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{ResourceVersion: &lease.ResourceVersion}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				klog.FromContext(ctx).Error(err, "Could not delete a dead member's Lease", "lease", lease.Name)
			}
		}
	}
	for name := range m.seen {
		if !listed[name] {
			delete(m.seen, name)
		}
	}
	return live, nil
}

// leave deletes this replica's Lease, so that the others count one replica
// fewer at once rather than a lease duration later.
func (m *members) leave(ctx context.Context) error {
	err := m.leases.Delete(ctx, m.name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the membership Lease %s: %w", m.name, err)
	}
	return nil
}
