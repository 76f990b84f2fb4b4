package harness

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	"github.com/domac/crddemo/pkg/client/clientset/versioned/fake"
)

func named(demo *crddemov1.Mydemo, name string) *crddemov1.Mydemo {
	demo.Name, demo.UID = name, types.UID("uid-"+name)
	return demo
}

func syncedEvent(demo *crddemov1.Mydemo) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: demo.Namespace, Name: demo.Name + ".1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Mydemo", Name: demo.Name, UID: demo.UID},
		Reason:         synced.Reason,
	}
}

func TestFindUnsynced(t *testing.T) {
	done := named(mydemo(1, 1, metav1.ConditionTrue), "done")
	noEvent := named(mydemo(1, 1, metav1.ConditionTrue), "no-event")
	behind := named(mydemo(2, 1, metav1.ConditionTrue), "behind")
	client := fake.NewSimpleClientset(done, noEvent, behind)
	kube := kubefake.NewSimpleClientset(syncedEvent(done), syncedEvent(behind))

	u, err := FindUnsynced(t.Context(), client, kube, "default")
	if err != nil {
		t.Fatal(err)
	}
	if u.Count() != 2 || len(u.Behind) != 1 || u.Behind[0] != "behind" || len(u.WithoutEvent) != 1 || u.WithoutEvent[0] != "no-event" {
		t.Errorf("FindUnsynced = %v, want behind [behind] and without an event [no-event]", u)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*PollInterval)
	defer cancel()
	if _, err := WaitAllSynced(ctx, client, kube, "default"); err == nil || !strings.Contains(err.Error(), "1 without a Synced event [no-event]") {
		t.Errorf("WaitAllSynced = %v, want an error that names what is still unsynced", err)
	}

	if _, err := kube.CoreV1().Events("default").Create(t.Context(), syncedEvent(noEvent), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CrddemoV1().Mydemos("default").UpdateStatus(t.Context(),
		named(mydemo(2, 2, metav1.ConditionTrue), "behind"), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if u, err := WaitAllSynced(ctx, client, kube, "default"); err != nil || u.Count() != 0 {
		t.Errorf("WaitAllSynced once all are synced = %v, %v", u, err)
	}
}
