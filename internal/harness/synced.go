package harness

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// WaitSynced waits until the Mydemo namespace/name is at generation and
// crddemo has synced it, and returns it as it then is.
func WaitSynced(ctx context.Context, client clientset.Interface, namespace, name string, generation int64) (*crddemov1.Mydemo, error) {
	var demo *crddemov1.Mydemo
	var lastErr error
	err := wait.PollUntilContextCancel(ctx, PollInterval, true, func(ctx context.Context) (bool, error) {
		demo, lastErr = client.CrddemoV1().Mydemos(namespace).Get(ctx, name, metav1.GetOptions{})
		return lastErr == nil && demo.Generation == generation && synced.IsCurrent(demo), nil
	})
	if err != nil {
		if lastErr != nil {
			return nil, fmt.Errorf("waiting for mydemo %s/%s to be synced at generation %d (last error: %v): %w",
				namespace, name, generation, lastErr, err)
		}
		return nil, fmt.Errorf("waiting for mydemo %s/%s to be synced at generation %d (last status: %+v): %w",
			namespace, name, generation, demo.Status, err)
	}
	return demo, nil
}

// SyncedEvents lists the Synced events that crddemo recorded for demo (by
// UID, so that a Mydemo deleted and created again under the same name does
// not count).
func SyncedEvents(ctx context.Context, kube kubernetes.Interface, demo *crddemov1.Mydemo) ([]corev1.Event, error) {
	selector := fields.Set{
		"involvedObject.name": demo.Name,
		"involvedObject.uid":  string(demo.UID),
		"reason":              synced.Reason,
	}
	list, err := kube.CoreV1().Events(demo.Namespace).List(ctx, metav1.ListOptions{FieldSelector: selector.String()})
	if err != nil {
		return nil, fmt.Errorf("listing the Synced events of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
	}
	return list.Items, nil
}
