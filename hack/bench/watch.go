package main

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/domac/crddemo/internal/harness"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	crddemoinformers "github.com/domac/crddemo/pkg/client/informers/externalversions"
)

// watch feeds t the Mydemos of namespace and their Synced events, through
// informers, until stop is called, which the bench does before it stops the
// control plane (the informers would complain of its going). It returns once
// both caches have synced.
func (t *tracker) watch(ctx context.Context, client clientset.Interface, kube kubernetes.Interface,
	namespace string) (stop func(), err error) {
	demoFactory := crddemoinformers.NewSharedInformerFactoryWithOptions(client, 0, crddemoinformers.WithNamespace(namespace))
	demos := demoFactory.Crddemo().V1().Mydemos().Informer()
	eventFactory := kubeinformers.NewSharedInformerFactoryWithOptions(kube, 0, kubeinformers.WithNamespace(namespace),
		kubeinformers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = harness.SyncedEventSelector }))
	events := eventFactory.Core().V1().Events().Informer()

	// The caches hold only what the tracker reads, so that the bench's own
	// memory stays small at N=10,000.
	err = errors.Join(
		demos.SetTransform(func(obj any) (any, error) {
			if demo, ok := obj.(*crddemov1.Mydemo); ok {
				demo.ManagedFields = nil
			}
			return obj, nil
		}),
		events.SetTransform(func(obj any) (any, error) {
			if e, ok := obj.(*corev1.Event); ok {
				return &corev1.Event{
					ObjectMeta:     metav1.ObjectMeta{Namespace: e.Namespace, Name: e.Name, UID: e.UID, ResourceVersion: e.ResourceVersion},
					InvolvedObject: corev1.ObjectReference{UID: e.InvolvedObject.UID},
					Count:          e.Count,
				}, nil
			}
			return obj, nil
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("setting up the bench's watches: %w", err)
	}

	// A deleted Mydemo or event changes nothing the bench waits for: it
	// deletes no Mydemo, and events outlive the run (their TTL is an hour).
	_, err = demos.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { t.observeMydemo(obj.(*crddemov1.Mydemo)) },
		UpdateFunc: func(_, obj any) { t.observeMydemo(obj.(*crddemov1.Mydemo)) },
	})
	if err != nil {
		return nil, fmt.Errorf("watching Mydemos: %w", err)
	}
	_, err = events.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			e := obj.(*corev1.Event)
			t.observeEvents(e.InvolvedObject.UID, occurrences(e))
		},
		UpdateFunc: func(oldObj, obj any) {
			e := obj.(*corev1.Event)
			t.observeEvents(e.InvolvedObject.UID, occurrences(e)-occurrences(oldObj.(*corev1.Event)))
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watching Synced events: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	demoFactory.Start(ctx.Done())
	eventFactory.Start(ctx.Done())
	stop = func() {
		cancel()
		demoFactory.Shutdown()
		eventFactory.Shutdown()
	}
	if !cache.WaitForCacheSync(ctx.Done(), demos.HasSynced, events.HasSynced) {
		cause := context.Cause(ctx)
		stop()
		return nil, fmt.Errorf("waiting for the bench's watches of %s to start: %w", namespace, cause)
	}
	return stop, nil
}

// occurrences is how many times an event happened. An event written through
// the events.k8s.io API shows a count of 0 in core/v1 until it repeats.
func occurrences(e *corev1.Event) int64 {
	return int64(max(e.Count, 1))
}
