package leaderelection

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/retry"
)

// newFakeLeases returns a fake clientset whose Leases carry resource
// versions and refuse updates based on a stale one with a Conflict, as the
// API server does. client-go's fake tracker stores every update as it
// comes, which would let two candidates overwrite each other and both lead.
// onWrite, if not nil, sees every Lease stored, while the fake's lock is
// held: it must not block.
func newFakeLeases(onWrite func(*coordinationv1.Lease)) *fake.Clientset {
	client := fake.NewClientset()
	tracker := client.Tracker()
	// The fake runs one reaction at a time, so version needs no lock.
	version := 0
	store := func(action clienttesting.Action, lease *coordinationv1.Lease, save func() error) (bool, runtime.Object, error) {
		version++
		lease.ResourceVersion = strconv.Itoa(version)
		if err := save(); err != nil {
			return true, nil, err
		}
		if onWrite != nil {
			onWrite(lease.DeepCopy())
		}
		return true, lease, nil
	}
	client.PrependReactor("create", "leases", func(action clienttesting.Action) (bool, runtime.Object, error) {
		create := action.(clienttesting.CreateActionImpl)
		lease := create.GetObject().(*coordinationv1.Lease).DeepCopy()
		return store(action, lease, func() error {
			return tracker.Create(action.GetResource(), lease, action.GetNamespace(), create.CreateOptions)
		})
	})
	client.PrependReactor("update", "leases", func(action clienttesting.Action) (bool, runtime.Object, error) {
		update := action.(clienttesting.UpdateActionImpl)
		lease := update.GetObject().(*coordinationv1.Lease).DeepCopy()
		stored, err := tracker.Get(action.GetResource(), action.GetNamespace(), lease.Name)
		if err != nil {
			return true, nil, err
		}
		if stored.(*coordinationv1.Lease).ResourceVersion != lease.ResourceVersion {
			return true, nil, apierrors.NewConflict(action.GetResource().GroupResource(), lease.Name,
				errors.New("the object has been modified"))
		}
		return store(action, lease, func() error {
			return tracker.Update(action.GetResource(), lease, action.GetNamespace(), update.UpdateOptions)
		})
	})
	return client
}

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
