package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"
)

// signalContext returns a context that is cancelled by the first SIGINT or
// SIGTERM, which starts a graceful shutdown. A second signal exits at once,
// for when the user will not wait for in-flight work to finish.
func signalContext(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		klog.FromContext(ctx).Info("Shutting down gracefully; signal again to exit at once", "signal", sig)
		cancel()
		<-signals
		klog.Flush()
		os.Exit(1)
	}()
	return ctx
}
