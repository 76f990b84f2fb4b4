package main

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	"github.com/domac/crddemo/pkg/client/clientset/versioned/fake"
)

func TestAudit(t *testing.T) {
	named := func(name string, generation, synced int64) *crddemov1.Mydemo {
		demo := demoAt(types.UID("uid-"+name), generation, synced)
		demo.Namespace, demo.Name = crddemoNamespace, name
		return demo
	}
	var events []runtime.Object
	eventsOf := func(demo *crddemov1.Mydemo, counts ...int32) {
		for i, count := range counts {
			e := syncedEvent(demo)
			e.Name = demo.Name + "." + string(rune('a'+i))
			e.Count = count
			events = append(events, e)
		}
	}
	done := named("done", 2, 2)
	eventsOf(done, 1, 1)
	twice := named("twice", 1, 1) // its status write was retried
	eventsOf(twice, 1, 1)
	repeated := named("repeated", 2, 2) // one event, its count raised
	eventsOf(repeated, 2)
	behind := named("behind", 2, 1)
	eventsOf(behind, 1, 1)
	noEvent := named("no-event", 2, 2)
	eventsOf(noEvent, 1)
	gone := named("gone", 1, 1)
	other := named("not-in-ledger", 1, 0) // the bench never wrote it

	l := newLedger()
	for _, demo := range []*crddemov1.Mydemo{done, twice, repeated, behind, noEvent, gone} {
		l.record(demo)
	}
	client := fake.NewSimpleClientset(done, twice, repeated, behind, noEvent, other)
	events = append(events, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: crddemoNamespace, Name: "elsewhere"},
		InvolvedObject: corev1.ObjectReference{UID: "uid-gone"},
		Reason:         synced.Reason,
	})
	kube := kubefake.NewSimpleClientset(events...)

	found, err := audit(t.Context(), client, kube, crddemoNamespace, l)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"behind", "gone", "no-event"}; !slices.Equal(found.lost, want) {
		t.Errorf("lost = %q, want %q", found.lost, want)
	}
	if found.extraEvents != 1 {
		t.Errorf("extra events = %d, want 1 (the retried one)", found.extraEvents)
	}
}
