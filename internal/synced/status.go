package synced

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// Condition is the Synced condition that a sync of demo reports. It keeps
// the lastTransitionTime of demo's Synced condition when that is True
// already, and is otherwise stamped now.
func Condition(demo *crddemov1.Mydemo) metav1.Condition {
	conditions := []metav1.Condition{}
	if old := meta.FindStatusCondition(demo.Status.Conditions, ConditionType); old != nil {
		conditions = append(conditions, *old)
	}
	meta.SetStatusCondition(&conditions, metav1.Condition{
		Type:               ConditionType,
		Status:             metav1.ConditionTrue,
		Reason:             Reason,
		Message:            Message,
		ObservedGeneration: demo.Generation,
	})
	return conditions[0]
}

// IsCurrent reports whether demo's status is already what a sync would
// write, so that there is nothing to do for it.
func IsCurrent(demo *crddemov1.Mydemo) bool {
	cond := meta.FindStatusCondition(demo.Status.Conditions, ConditionType)
	return demo.Status.ObservedGeneration == demo.Generation && cond != nil &&
		cond.Status == metav1.ConditionTrue && cond.Reason == Reason && cond.Message == Message &&
		cond.ObservedGeneration == demo.Generation
}

// WriteStatus writes the status that a sync of demo reports, and returns the
// Mydemo as the API server then holds it.
//
// It is a server-side apply of the status subresource by FieldManager with
// only the fields crddemo owns, observedGeneration and the Synced condition:
// conditions that other writers set stay as they are (the conditions are a
// map keyed by type).
//
// demo's resourceVersion goes with it as a precondition, so the API server
// refuses the write with 409 Conflict once the object has changed since the
// cache saw it. That is what keeps a Mydemo deleted and created again under
// the same name from getting the old one's status: a UID would not, since
// for the status subresource the API server takes all metadata from the
// object it stores.
func WriteStatus(ctx context.Context, client clientset.Interface, demo *crddemov1.Mydemo) (*crddemov1.Mydemo, error) {
	patch, err := statusApply(demo)
	if err != nil {
		return nil, err
	}
	return client.CrddemoV1().Mydemos(demo.Namespace).Patch(ctx, demo.Name, types.ApplyPatchType, patch,
		metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)}, "status")
}

// statusApply is the apply configuration that WriteStatus sends.
func statusApply(demo *crddemov1.Mydemo) ([]byte, error) {
	patch, err := json.Marshal(map[string]any{
		"apiVersion": crddemov1.SchemeGroupVersion.String(),
		"kind":       "Mydemo",
		"metadata": map[string]any{
			"name":            demo.Name,
			"namespace":       demo.Namespace,
			"resourceVersion": demo.ResourceVersion,
		},
		"status": map[string]any{
			"observedGeneration": demo.Generation,
			"conditions":         []metav1.Condition{Condition(demo)},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the status of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
	}
	return patch, nil
}
