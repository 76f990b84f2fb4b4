package serving

import (
	"net"
	"strings"
	"testing"
)

func TestStartServesOnlyWhatIsOn(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().String()

	if err := Start(t.Context(), Config{}, nil, nil); err != nil {
		t.Errorf("Start with every server off = %v, want nil", err)
	}
	// A server that is on tries to listen, and says which one failed.
	err = Start(t.Context(), Config{Probes: &ProbesConfig{Address: taken}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "serving health probes on") {
		t.Errorf("Start of the probes on a busy address = %v, want an error naming the health probes", err)
	}
	err = Start(t.Context(), Config{Metrics: &MetricsConfig{Address: taken}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "serving metrics on") {
		t.Errorf("Start of the metrics on a busy address = %v, want an error naming the metrics", err)
	}
}

func TestOffIsTheDisabledAddressOnly(t *testing.T) {
	for addr, want := range map[string]bool{"0": true, ":0": false, "": false, "127.0.0.1:8080": false} {
		if got := Off(addr); got != want {
			t.Errorf("Off(%q) = %v, want %v", addr, got, want)
		}
	}
}
