package leaderelection

import (
	"context"
	"sync/atomic"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
)

// unreachableLeases passes lease calls on until cut is set; from then on
// they wait for their context to end, as requests to an API server that
// never answers do when the client has no timeout of its own.
type unreachableLeases struct {
	coordinationv1client.LeasesGetter
	cut atomic.Bool
}

func (u *unreachableLeases) Leases(namespace string) coordinationv1client.LeaseInterface {
	return unreachableLeaseInterface{LeaseInterface: u.LeasesGetter.Leases(namespace), cut: &u.cut}
}

// unreachableLeaseInterface overrides the calls that client-go's LeaseLock
// makes.
type unreachableLeaseInterface struct {
	coordinationv1client.LeaseInterface
	cut *atomic.Bool
}

func (l unreachableLeaseInterface) Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error) {
	if l.cut.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return l.LeaseInterface.Get(ctx, name, opts)
}

func (l unreachableLeaseInterface) Create(ctx context.Context, lease *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error) {
	if l.cut.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return l.LeaseInterface.Create(ctx, lease, opts)
}

func (l unreachableLeaseInterface) Update(ctx context.Context, lease *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	if l.cut.Load() {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return l.LeaseInterface.Update(ctx, lease, opts)
}
