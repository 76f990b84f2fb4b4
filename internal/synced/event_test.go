package synced

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestNewEvent(t *testing.T) {
	demo := newMydemo(1)
	now := time.Now()
	event := NewEvent(demo, corev1.EventTypeNormal, Reason, Message, "node-1", "replica-a", now)

	ref := event.InvolvedObject
	if ref.Kind != "Mydemo" || ref.APIVersion != "crddemo.k8s.io/v1" || ref.Namespace != "default" ||
		ref.Name != "example-mydemo" || ref.UID != "uid-1" || ref.ResourceVersion != "42" {
		t.Errorf("involvedObject = %+v, want the Mydemo at its UID and resourceVersion", ref)
	}
	if event.Namespace != "default" || !strings.HasPrefix(event.Name, "example-mydemo.") {
		t.Errorf("the event is %s/%s, want a name of its own beside the Mydemo", event.Namespace, event.Name)
	}
	if event.Source.Component != Component || event.Source.Host != "node-1" ||
		event.ReportingController != Component || event.ReportingInstance != "replica-a" {
		t.Errorf("source %+v, reporting %s/%s; want crddemo on node-1, replica-a", event.Source,
			event.ReportingController, event.ReportingInstance)
	}
	if event.Type != corev1.EventTypeNormal || event.Reason != Reason || event.Message != Message || event.Count != 1 ||
		!event.FirstTimestamp.Time.Equal(now) || !event.LastTimestamp.Time.Equal(now) {
		t.Errorf("event = %+v, want a Normal Synced event counted once at %v", event, now)
	}
	if again := NewEvent(demo, corev1.EventTypeNormal, Reason, Message, "node-1", "replica-a", now.Add(time.Nanosecond)); again.Name == event.Name {
		t.Errorf("two events a nanosecond apart share the name %s", event.Name)
	}
}
