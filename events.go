package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
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
// from the sync itself means a finished sync has written its event, and a
// slow API server slows the workers down instead of filling a queue.
//
// Repeats are handled as client-go's broadcaster handles them, by its
// record.EventCorrelator: the same event about the same object raises the
// count of the Event already written (kubectl describe shows "x2 over 5s")
// instead of creating another, and an object's burst of more than 25 within
// minutes is filtered as spam.
type apiEventRecorder struct {
	events typedcorev1.EventsGetter
	// host names the machine or pod in each event's source, as kubelet and
	// kube-controller-manager do.
	host string
	// instance is this replica's leader election identity, so that the
	// events of several replicas tell which one wrote them.
	instance   string
	correlator *record.EventCorrelator
}

func newAPIEventRecorder(events typedcorev1.EventsGetter, host, instance string) *apiEventRecorder {
	return &apiEventRecorder{
		events:     events,
		host:       host,
		instance:   instance,
		correlator: record.NewEventCorrelator(clock.RealClock{}),
	}
}

// Event logs the event and writes it, or raises the count of the one
// already written.
func (r *apiEventRecorder) Event(ctx context.Context, demo *crddemov1.Mydemo, eventType, reason, message string) error {
	logger := klog.FromContext(ctx)
	logger.Info("Event occurred", "object", klog.KObj(demo), "kind", "Mydemo",
		"type", eventType, "reason", reason, "message", message)

	correlated, err := r.correlator.EventCorrelate(synced.NewEvent(demo, eventType, reason, message, r.host, r.instance, time.Now()))
	if err != nil {
		return fmt.Errorf("correlating the %s event of mydemo %s: %w", reason, klog.KObj(demo), err)
	}
	if correlated.Skip {
		// The object already has this event, many times over: its count
		// stands for this one too.
		observeEventWrite("filtered")
		return nil
	}
	// A failed write fails the sync, which the workqueue retries. The
	// correlator has counted this try already, so the retry raises the
	// count of the Event that this one may have created, unseen, instead
	// of creating a second.
	written, err := r.write(ctx, correlated)
	if err != nil {
		observeEventWrite("error")
		return fmt.Errorf("writing the %s event of mydemo %s: %w", reason, klog.KObj(demo), err)
	}
	r.correlator.UpdateState(written)
	return nil
}

// write patches the count of the Event that the correlator says exists, or
// creates a new one; a patched Event that has since been deleted is created
// afresh.
func (r *apiEventRecorder) write(ctx context.Context, correlated *record.EventCorrelateResult) (*corev1.Event, error) {
	event := correlated.Event
	events := r.events.Events(event.Namespace)
	if event.Count > 1 && len(correlated.Patch) > 0 {
		written, err := events.Patch(ctx, event.Name, types.StrategicMergePatchType, correlated.Patch, metav1.PatchOptions{})
		if !apierrors.IsNotFound(err) {
			if err == nil {
				observeEventWrite("aggregated")
			}
			return written, err
		}
	}
	fresh := event.DeepCopy()
	fresh.ResourceVersion = ""
	written, err := events.Create(ctx, fresh, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// An earlier try created it, but its answer was lost.
		written, err = fresh, nil
	}
	if err == nil {
		observeEventWrite("created")
	}
	return written, err
}
