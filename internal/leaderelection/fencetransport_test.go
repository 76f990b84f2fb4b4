package leaderelection

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFenceTransportRefusesAWriteAfterAFreeze stands for a leader frozen
// (SIGSTOP) between a write's context check and its sending, past its renew
// deadline: on resume the fence's timer has not fired yet, so the context
// still looks live, and only the check at send time can stop the write.
func TestFenceTransportRefusesAWriteAfterAFreeze(t *testing.T) {
	var received atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { received.Add(1) }))
	t.Cleanup(server.Close)
	client := &http.Client{Transport: FenceTransport(http.DefaultTransport)}
	send := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPatch, server.URL+"/apis/crddemo.k8s.io/v1/mydemos", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	const window = time.Minute
	f := newFence(t.Context(), window)
	frozenAt := time.Now()
	f.now = func() time.Time { return frozenAt }
	f.renewed(frozenAt)
	writeCtx, cancel := context.WithTimeout(f.context(), time.Hour)
	defer cancel()

	if err := send(writeCtx); err != nil || received.Load() != 1 {
		t.Fatalf("a write within the window: %v, %d requests received; want it sent", err, received.Load())
	}
	if err := send(context.Background()); err != nil || received.Load() != 2 {
		t.Fatalf("a request outside any fence: %v, %d requests received; want it sent", err, received.Load())
	}

	// The write has passed its context check; then the process is frozen
	// for longer than the window, and resumes before the timer fires.
	if writeCtx.Err() != nil {
		t.Fatal("the write's context was done before the freeze")
	}
	f.now = func() time.Time { return frozenAt.Add(window + time.Second) }
	err := send(writeCtx)
	if !errors.Is(err, errRenewalOverdue) || received.Load() != 2 {
		t.Errorf("a write sent after a freeze past the deadline: %v, %d requests received; want %v and none sent",
			err, received.Load(), errRenewalOverdue)
	}
	if !f.overdue() || writeCtx.Err() == nil {
		t.Errorf("after the refused write: overdue %v, write context %v; want the fence down", f.overdue(), writeCtx.Err())
	}
}

// TestFenceTransportPassesWhatNoFenceGuards checks that a fence not yet
// armed, or a request outside any fence, is sent.
func TestFenceTransportPassesWhatNoFenceGuards(t *testing.T) {
	var received atomic.Int32
	server := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { received.Add(1) }))
	t.Cleanup(server.Close)
	client := &http.Client{Transport: FenceTransport(http.DefaultTransport)}
	f := newFence(t.Context(), time.Minute)
	for _, ctx := range []context.Context{t.Context(), f.context()} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, server.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		resp.Body.Close()
	}
	if received.Load() != 2 {
		t.Errorf("%d requests received, want 2", received.Load())
	}
}
