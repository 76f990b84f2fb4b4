// Package fakeleases is a fake clientset for tests of code that takes and
// renews Leases, as client-go's leader election does.
package fakeleases

import (
	"errors"
	"strconv"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// NewClientset returns a fake clientset whose Leases carry resource
// versions and UIDs, and refuse updates based on a stale version, and
// deletes whose preconditions do not match, with a Conflict, as the API
// server does. client-go's fake tracker stores every update as it comes,
// which would let two candidates overwrite each other and both lead, and
// ignores a delete's preconditions.
// onWrite, if not nil, sees every Lease stored, while the fake's lock is
// held: it must not block.
func NewClientset(onWrite func(*coordinationv1.Lease)) *fake.Clientset {
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
		if lease.UID == "" {
			lease.UID = types.UID("uid-" + strconv.Itoa(version+1))
		}
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
	client.PrependReactor("delete", "leases", func(action clienttesting.Action) (bool, runtime.Object, error) {
		del := action.(clienttesting.DeleteActionImpl)
		stored, err := tracker.Get(action.GetResource(), action.GetNamespace(), del.Name)
		if err != nil {
			return true, nil, err
		}
		if p := del.DeleteOptions.Preconditions; p != nil {
			lease := stored.(*coordinationv1.Lease)
			if p.UID != nil && *p.UID != lease.UID || p.ResourceVersion != nil && *p.ResourceVersion != lease.ResourceVersion {
				return true, nil, apierrors.NewConflict(action.GetResource().GroupResource(), del.Name,
					errors.New("precondition failed"))
			}
		}
		return true, nil, tracker.Delete(action.GetResource(), action.GetNamespace(), del.Name, del.DeleteOptions)
	})
	return client
}
