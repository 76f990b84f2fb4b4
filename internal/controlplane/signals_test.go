package controlplane

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestNotifyShutdownCancelsWithTheSignalAsCause(t *testing.T) {
	// A second registration keeps SIGTERM caught until the test ends, so
	// that a signal still in flight when stop is called cannot end the test
	// binary.
	guard := make(chan os.Signal, 1)
	signal.Notify(guard, syscall.SIGTERM)
	defer signal.Stop(guard)

	ctx, stop := NotifyShutdown(context.Background())
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM did not cancel the context within 10s")
	}
	if cause := context.Cause(ctx); cause == nil || !strings.Contains(cause.Error(), "terminated") {
		t.Errorf("cause = %v, want one that names SIGTERM", cause)
	}
}
