package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/klog/v2"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

const (
	// reasonSynced and messageSynced describe a successful sync, in the Synced
	// event and in the Synced status condition alike.
	reasonSynced  = "Synced"
	messageSynced = "Mydemo synced successfully"

	// eventSource is the component that `kubectl describe` shows as the
	// event's source.
	eventSource = "crddemo"
)

// eventRecorder records Kubernetes Events about Mydemo objects, which users
// read with `kubectl describe md NAME`. An event is part of the sync that
// records it: an error fails the sync, which is then retried.
type eventRecorder interface {
	Event(ctx context.Context, demo *crddemov1.Mydemo, eventType, reason, message string) error
}

// apiEventRecorder writes each event to the API server before it returns.
// client-go's record.EventBroadcaster queues events in memory instead, drops
// them once 1,000 are waiting and may lose the queue on shutdown; writing
// from the sync itself means a finished sync has written its event, at the
// pace the client's QPS allows.
type apiEventRecorder struct {
	events typedcorev1.EventsGetter
	// host names the machine or pod in each event's source, as kubelet and
	// kube-controller-manager do.
	host string
	// instance is this replica's leader election identity, so that the
	// events of several replicas tell which one wrote them.
	instance string
}

// Event logs the event and writes it.
func (r *apiEventRecorder) Event(ctx context.Context, demo *crddemov1.Mydemo, eventType, reason, message string) error {
	logger := klog.FromContext(ctx)
	logger.Info("Event occurred", "object", klog.KObj(demo), "kind", "Mydemo",
		"type", eventType, "reason", reason, "message", message)

	now := metav1.NewTime(time.Now())
	event := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: demo.Name + ".",
			Namespace:    demo.Namespace,
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
		Source:              corev1.EventSource{Component: eventSource, Host: r.host},
		ReportingController: eventSource,
		ReportingInstance:   r.instance,
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
	}
	if _, err := r.events.Events(demo.Namespace).Create(ctx, event, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("writing the %s event of mydemo %s: %w", reason, klog.KObj(demo), err)
	}
	return nil
}
