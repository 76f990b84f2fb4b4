package harness

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// Unsynced names the Mydemos of namespace that crddemo has not fully synced
// yet: those whose status is behind their generation, and those that have no
// Synced event. With two lists, whatever the number of objects, it is cheap
// enough to poll for thousands of them.
type Unsynced struct {
	Behind, WithoutEvent []string
}

// Count is how many objects are not fully synced.
func (u Unsynced) Count() int {
	return len(u.Behind) + len(u.WithoutEvent)
}

func (u Unsynced) String() string {
	return fmt.Sprintf("%d with their status behind %v, %d without a Synced event %v",
		len(u.Behind), abbreviate(u.Behind), len(u.WithoutEvent), abbreviate(u.WithoutEvent))
}

// SyncedEventSelector is the field selector of the events crddemo records
// for a sync.
var SyncedEventSelector = fields.Set{"involvedObject.kind": "Mydemo", "reason": synced.Reason}.String()

// ListSynced lists the Mydemos of namespace and their Synced events: what an
// audit of crddemo's work reads, in two requests whatever the number of
// objects.
func ListSynced(ctx context.Context, client clientset.Interface, kube kubernetes.Interface,
	namespace string) (*crddemov1.MydemoList, *corev1.EventList, error) {
	demos, err := client.CrddemoV1().Mydemos(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the Mydemos of %s: %w", namespace, err)
	}
	events, err := kube.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: SyncedEventSelector})
	if err != nil {
		return nil, nil, fmt.Errorf("listing the Synced events of %s: %w", namespace, err)
	}
	return demos, events, nil
}

// FindUnsynced lists the Mydemos of namespace and their Synced events, and
// returns those not fully synced.
func FindUnsynced(ctx context.Context, client clientset.Interface, kube kubernetes.Interface, namespace string) (Unsynced, error) {
	demos, events, err := ListSynced(ctx, client, kube, namespace)
	if err != nil {
		return Unsynced{}, err
	}
	hasEvent := map[types.UID]bool{}
	for _, e := range events.Items {
		hasEvent[e.InvolvedObject.UID] = true
	}
	var u Unsynced
	for i := range demos.Items {
		demo := &demos.Items[i]
		if !synced.IsCurrent(demo) {
			u.Behind = append(u.Behind, demo.Name)
		}
		if !hasEvent[demo.UID] {
			u.WithoutEvent = append(u.WithoutEvent, demo.Name)
		}
	}
	return u, nil
}

// WaitAllSynced waits until every Mydemo of namespace is fully synced. On
// failure it returns what was still unsynced.
func WaitAllSynced(ctx context.Context, client clientset.Interface, kube kubernetes.Interface, namespace string) (Unsynced, error) {
	var last Unsynced
	var lastErr error
	err := wait.PollUntilContextCancel(ctx, PollInterval, true, func(ctx context.Context) (bool, error) {
		last, lastErr = FindUnsynced(ctx, client, kube, namespace)
		return lastErr == nil && last.Count() == 0, nil
	})
	if err != nil {
		if lastErr != nil {
			return last, fmt.Errorf("waiting for every Mydemo of %s to be synced (last error: %v): %w", namespace, lastErr, err)
		}
		return last, fmt.Errorf("waiting for every Mydemo of %s to be synced, still %v: %w", namespace, last, err)
	}
	return last, nil
}

// abbreviate keeps an error message short when thousands are listed.
func abbreviate(names []string) []string {
	const shown = 5
	if len(names) <= shown {
		return names
	}
	return append(slices.Clone(names[:shown]), "...")
}
