package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2/ktesting"

	"github.com/domac/crddemo/internal/synced"
)

func TestAPIEventRecorderWritesEvent(t *testing.T) {
	client := kubefake.NewSimpleClientset()
	recorder := newAPIEventRecorder(client.CoreV1(), "node-1", "node-1_abc")
	demo := newMydemo("example-mydemo", 1)
	demo.UID = types.UID("8a6d17f7-17f3-4a1d-8250-bb092678ae7e")
	_, ctx := ktesting.NewTestContext(t)

	if err := recorder.Event(ctx, demo, corev1.EventTypeNormal, synced.Reason, synced.Message); err != nil {
		t.Fatal(err)
	}

	events, err := client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing events: %v", err)
	}
	if len(events.Items) != 1 {
		t.Fatalf("got %d events, want 1", len(events.Items))
	}
	got := events.Items[0]
	want := corev1.ObjectReference{
		APIVersion: "crddemo.k8s.io/v1", Kind: "Mydemo", Namespace: "default", Name: "example-mydemo",
		UID: demo.UID, ResourceVersion: "1",
	}
	if got.InvolvedObject != want {
		t.Errorf("involvedObject = %+v, want %+v", got.InvolvedObject, want)
	}
	if got.Type != corev1.EventTypeNormal || got.Reason != "Synced" || got.Message != "Mydemo synced successfully" {
		t.Errorf("event = %s/%s/%q, want Normal/Synced/%q", got.Type, got.Reason, got.Message, "Mydemo synced successfully")
	}
	if got.Source != (corev1.EventSource{Component: "crddemo", Host: "node-1"}) || got.Count != 1 {
		t.Errorf("source = %+v, count = %d; want crddemo on node-1, count 1", got.Source, got.Count)
	}
	if got.ReportingController != "crddemo" || got.ReportingInstance != "node-1_abc" {
		t.Errorf("reporting controller, instance = %q, %q; want crddemo, node-1_abc", got.ReportingController, got.ReportingInstance)
	}
	if !strings.HasPrefix(got.Name, "example-mydemo.") || got.FirstTimestamp.IsZero() || got.LastTimestamp != got.FirstTimestamp {
		t.Errorf("name = %q, first = %v, last = %v; want a name from the object and equal timestamps",
			got.Name, got.FirstTimestamp, got.LastTimestamp)
	}
}

func TestAPIEventRecorderAggregatesRepeats(t *testing.T) {
	client := kubefake.NewSimpleClientset()
	recorder := newAPIEventRecorder(client.CoreV1(), "node-1", "node-1_abc")
	demo := newMydemo("example-mydemo", 1)
	_, ctx := ktesting.NewTestContext(t)

	for range 3 {
		if err := recorder.Event(ctx, demo, corev1.EventTypeNormal, synced.Reason, synced.Message); err != nil {
			t.Fatal(err)
		}
	}

	events, err := client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events.Items) != 1 || events.Items[0].Count != 3 {
		t.Fatalf("events = %+v, want one Event with count 3", events.Items)
	}
	var creates, patches int
	for _, action := range client.Actions() {
		switch action.GetVerb() {
		case "create":
			creates++
		case "patch":
			patches++
		}
	}
	if creates != 1 || patches != 2 {
		t.Errorf("%d creates and %d patches, want the first event created and the repeats patched", creates, patches)
	}
	// Another object's event is an Event of its own.
	if err := recorder.Event(ctx, newMydemo("other", 1), corev1.EventTypeNormal, synced.Reason, synced.Message); err != nil {
		t.Fatal(err)
	}
	if events, _ := client.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{}); len(events.Items) != 2 {
		t.Errorf("%d Events after another object's, want 2", len(events.Items))
	}
}

// TestAPIEventRecorderLeavesRetriesToTheWorkqueue: a failed write is tried
// once and fails the sync; the sync's retry writes the event, and a write
// whose answer was lost is counted on the Event it created, not created
// again.
func TestAPIEventRecorderLeavesRetriesToTheWorkqueue(t *testing.T) {
	client := kubefake.NewSimpleClientset()
	var tries int
	client.PrependReactor("create", "events", func(action k8stesting.Action) (bool, runtime.Object, error) {
		switch tries++; tries {
		case 1:
			return true, nil, apierrors.NewServiceUnavailable("restarting")
		case 2:
			// Created, but the answer is lost on the way back.
			event := action.(k8stesting.CreateAction).GetObject().(*corev1.Event)
			if err := client.Tracker().Create(corev1.SchemeGroupVersion.WithResource("events"), event, event.Namespace); err != nil {
				t.Fatal(err)
			}
			return true, nil, errors.New("read: connection reset by peer")
		}
		return false, nil, nil
	})
	recorder := newAPIEventRecorder(client.CoreV1(), "node-1", "node-1_abc")
	_, ctx := ktesting.NewTestContext(t)
	demo := newMydemo("example-mydemo", 1)

	for try, wantErr := range []bool{true, true, false} {
		err := recorder.Event(ctx, demo, corev1.EventTypeNormal, synced.Reason, synced.Message)
		if (err != nil) != wantErr {
			t.Fatalf("Event, try %d = %v, want an error: %v", try+1, err, wantErr)
		}
	}
	if tries != 2 {
		t.Errorf("%d creates, want 2: one per sync, and none after the lost answer", tries)
	}
	events, err := client.CoreV1().Events("default").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The correlator counts every try, the one that created nothing too.
	if len(events.Items) != 1 || events.Items[0].Count != 3 {
		t.Errorf("%d Events (%+v), want one, counted three times", len(events.Items), events.Items)
	}
}

func TestAPIEventRecorderReportsAFailedWrite(t *testing.T) {
	client := kubefake.NewSimpleClientset()
	var tries int
	client.PrependReactor("create", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		tries++
		return true, nil, apierrors.NewForbidden(corev1.Resource("events"), "", errors.New("not allowed"))
	})
	recorder := newAPIEventRecorder(client.CoreV1(), "node-1", "node-1_abc")
	_, ctx := ktesting.NewTestContext(t)

	err := recorder.Event(ctx, newMydemo("example-mydemo", 1), corev1.EventTypeNormal, synced.Reason, synced.Message)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "writing the Synced event of mydemo default/example-mydemo") {
		t.Fatalf("error = %v, want the Forbidden error, saying what was being written", err)
	}
	if tries != 1 {
		t.Errorf("a refused event was tried %d times, want once: trying again cannot help", tries)
	}
}
