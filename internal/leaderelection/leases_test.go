package leaderelection

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/util/retry"
)

// getLease returns the Lease that cfg names.
func getLease(t *testing.T, client *fake.Clientset, cfg Config) *coordinationv1.Lease {
	t.Helper()
	lease, err := client.CoordinationV1().Leases(cfg.Namespace).Get(t.Context(), cfg.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting lease %s/%s: %v", cfg.Namespace, cfg.Name, err)
	}
	return lease
}

// holder is the Lease's holder identity, empty when nobody holds it.
func holder(lease *coordinationv1.Lease) string {
	if lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// holdLease writes the Lease that cfg names as another candidate, identity,
// does when it acquires or renews it: held for duration from now.
func holdLease(ctx context.Context, client *fake.Clientset, cfg Config, identity string, duration time.Duration) error {
	leases := client.CoordinationV1().Leases(cfg.Namespace)
	now := metav1.NowMicro()
	seconds := int32(duration / time.Second)
	spec := coordinationv1.LeaseSpec{
		HolderIdentity:       &identity,
		LeaseDurationSeconds: &seconds,
		AcquireTime:          &now,
		RenewTime:            &now,
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		lease, err := leases.Get(ctx, cfg.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = leases.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
				Spec:       spec,
			}, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		lease.Spec = spec
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		return err
	})
}
