package main

import (
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

const (
	// conditionSynced is the status condition that tells users, and
	// `kubectl get md`, whether the controller has processed a Mydemo.
	conditionSynced = "Synced"

	// fieldManager names crddemo in the managedFields of what it writes.
	fieldManager = "crddemo"
)

// syncedStatus is the status that a successful sync of demo reports: the
// generation it saw and a Synced condition. Starting from the current
// conditions keeps lastTransitionTime when the condition does not change.
func syncedStatus(demo *crddemov1.Mydemo) crddemov1.MydemoStatus {
	status := *demo.Status.DeepCopy()
	status.ObservedGeneration = demo.Generation
	meta.SetStatusCondition(&status.Conditions, metav1.Condition{
		Type:               conditionSynced,
		Status:             metav1.ConditionTrue,
		Reason:             reasonSynced,
		Message:            messageSynced,
		ObservedGeneration: demo.Generation,
	})
	return status
}

// statusIsCurrent reports whether demo's status is already what a sync would
// write, so that there is nothing to do for it.
func statusIsCurrent(demo *crddemov1.Mydemo) bool {
	return equality.Semantic.DeepEqual(demo.Status, syncedStatus(demo))
}
