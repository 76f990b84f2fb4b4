package priorityqueue

import "testing"

func TestPriorityString(t *testing.T) {
	if got := Live.String(); got != "live" {
		t.Errorf("Live.String() = %q, want live", got)
	}
	if got := Backlog.String(); got != "backlog" {
		t.Errorf("Backlog.String() = %q, want backlog", got)
	}
	if Live <= Backlog {
		t.Error("Live must rank above Backlog: Touch promotes only to a higher priority")
	}
}
