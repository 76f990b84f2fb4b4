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
)

func TestAPIEventRecorderWritesEvent(t *testing.T) {
	client := kubefake.NewSimpleClientset()
	recorder := &apiEventRecorder{events: client.CoreV1(), host: "node-1", instance: "node-1_abc"}
	demo := newMydemo("example-mydemo", 1)
	demo.UID = types.UID("8a6d17f7-17f3-4a1d-8250-bb092678ae7e")
	_, ctx := ktesting.NewTestContext(t)

	if err := recorder.Event(ctx, demo, corev1.EventTypeNormal, reasonSynced, messageSynced); err != nil {
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
	if got.GenerateName != "example-mydemo." || got.FirstTimestamp.IsZero() || got.LastTimestamp != got.FirstTimestamp {
		t.Errorf("generateName = %q, first = %v, last = %v; want a name from the object and equal timestamps",
			got.GenerateName, got.FirstTimestamp, got.LastTimestamp)
	}
}

func TestAPIEventRecorderReportsAFailedWrite(t *testing.T) {
	client := kubefake.NewSimpleClientset()
	client.PrependReactor("create", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("events"), "", errors.New("not allowed"))
	})
	recorder := &apiEventRecorder{events: client.CoreV1(), host: "node-1"}
	_, ctx := ktesting.NewTestContext(t)

	err := recorder.Event(ctx, newMydemo("example-mydemo", 1), corev1.EventTypeNormal, reasonSynced, messageSynced)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "writing the Synced event of mydemo default/example-mydemo") {
		t.Fatalf("error = %v, want the Forbidden error, saying what was being written", err)
	}
}
