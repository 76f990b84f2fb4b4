package harness

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestWaitReady(t *testing.T) {
	var ready atomic.Bool
	// The fourth probe while unready ends the first wait, however slow the
	// machine: a deadline in time could pass before the first answer.
	short, cancel := context.WithCancel(t.Context())
	defer cancel()
	var unready atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			if unready.Add(1) == 4 {
				cancel()
			}
			http.Error(w, "not yet", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer server.Close()
	addr := strings.TrimPrefix(server.URL, "http://")

	if err := WaitReady(short, addr); err == nil || !strings.Contains(err.Error(), "500 not yet") {
		t.Fatalf("WaitReady while unready = %v, want an error with the last answer", err)
	}

	ready.Store(true)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := WaitReady(ctx, addr); err != nil {
		t.Fatalf("WaitReady once ready: %v", err)
	}
}
