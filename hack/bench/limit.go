package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// benchFieldManager names the bench in the managedFields of what it writes
// in crddemo's stead.
const benchFieldManager = "crddemo-bench"

// patchStatus writes the status as crddemo does (controller.go): a JSON
// merge patch of the status subresource, with no resourceVersion to
// conflict on.
func patchStatus(ctx context.Context, client clientset.Interface, demo *crddemov1.Mydemo) error {
	patch, err := json.Marshal(map[string]any{"status": syncedStatus(demo.Generation)})
	if err != nil {
		return fmt.Errorf("encoding the status patch of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
	}
	if _, err := client.CrddemoV1().Mydemos(demo.Namespace).Patch(ctx, demo.Name, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: benchFieldManager}, "status"); err != nil {
		return fmt.Errorf("patching the status of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
	}
	return nil
}

// measureLimit times writers parallel clients that make, for each of demos,
// the writes crddemo makes for it: its Synced event, then its status. No
// controller runs meanwhile: this is the API server's floor for the work.
func measureLimit(ctx context.Context, client clientset.Interface, kube kubernetes.Interface,
	demos []*crddemov1.Mydemo) (time.Duration, error) {
	started := time.Now()
	err := forEach(ctx, len(demos), func(ctx context.Context, i int) error {
		demo := demos[i]
		if _, err := kube.CoreV1().Events(demo.Namespace).Create(ctx, syncedEvent(demo), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating the Synced event of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
		}
		return patchStatus(ctx, client, demo)
	})
	return time.Since(started), err
}

// syncedStatus is the status crddemo writes when it has synced generation
// (status.go): that generation observed, and a True Synced condition.
func syncedStatus(generation int64) crddemov1.MydemoStatus {
	var status crddemov1.MydemoStatus
	status.ObservedGeneration = generation
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type:               "Synced",
		Status:             metav1.ConditionTrue,
		Reason:             "Synced",
		Message:            "Mydemo synced successfully",
		ObservedGeneration: generation,
	})
	return status
}

// syncedEvent is the event crddemo records when it syncs demo (events.go),
// field for field, so that the API server stores as much as it does for
// crddemo's.
func syncedEvent(demo *crddemov1.Mydemo) *corev1.Event {
	now := metav1.Now()
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: demo.Name + ".", Namespace: demo.Namespace},
		InvolvedObject: corev1.ObjectReference{
			APIVersion:      crddemov1.SchemeGroupVersion.String(),
			Kind:            "Mydemo",
			Namespace:       demo.Namespace,
			Name:            demo.Name,
			UID:             demo.UID,
			ResourceVersion: demo.ResourceVersion,
		},
		Type:                corev1.EventTypeNormal,
		Reason:              "Synced",
		Message:             "Mydemo synced successfully",
		Source:              corev1.EventSource{Component: "crddemo", Host: "bench"},
		ReportingController: "crddemo",
		ReportingInstance:   "bench",
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
	}
}
