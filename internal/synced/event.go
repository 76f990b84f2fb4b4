package synced

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// NewEvent is a core/v1 Event about demo, as crddemo writes them and
// `kubectl describe` shows them, recorded at now by the replica instance
// on host.
func NewEvent(demo *crddemov1.Mydemo, eventType, reason, message, host, instance string, now time.Time) *corev1.Event {
	at := metav1.NewTime(now)
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			// A name of its own, unique by the clock as client-go's recorder
			// makes them, so that a create retried after a lost answer finds
			// the Event it made instead of making a second.
			Name:      fmt.Sprintf("%s.%x", demo.Name, now.UnixNano()),
			Namespace: demo.Namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			APIVersion:      crddemov1.SchemeGroupVersion.String(),
			Kind:            "Mydemo",
			Namespace:       demo.Namespace,
			Name:            demo.Name,
			UID:             demo.UID,
			ResourceVersion: demo.ResourceVersion,
		},
		Type:                eventType,
		Reason:              reason,
		Message:             message,
		Source:              corev1.EventSource{Component: Component, Host: host},
		ReportingController: Component,
		ReportingInstance:   instance,
		FirstTimestamp:      at,
		LastTimestamp:       at,
		Count:               1,
	}
}
