// Package serving runs crddemo's HTTP endpoints: the liveness and readiness
// probes, and the Prometheus metrics with optional profiling, over HTTPS for
// callers that the API server authenticates and authorizes.
package serving

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/klog/v2"
)

const (
	// readHeaderTimeout stops clients that open connections and send their
	// headers slowly from holding connections open forever.
	readHeaderTimeout = 10 * time.Second
	// writeTimeout bounds writing a response. net/http/pprof extends it by
	// the sampling time that a profile or trace asks for.
	writeTimeout = 30 * time.Second
	// idleTimeout closes kept-alive connections that a prober or scraper
	// stopped using.
	idleTimeout = 2 * time.Minute
	// shutdownTimeout bounds the wait for requests in flight once ctx is
	// done, so that SIGTERM stays fast even during a long profile.
	shutdownTimeout = 5 * time.Second
)

// Serve listens on addr, such as ":8080" or "127.0.0.1:0", and serves
// handler there until ctx is done, then shuts down within a few seconds. The
// listening happens before Serve returns, so a bad or busy address is an
// error at startup; name says which server it was, such as "metrics". Serve
// returns the address actually bound, which tells the port chosen for ":0".
//
// A failure after the start is logged, not returned.
func Serve(ctx context.Context, name, addr string, handler http.Handler) (net.Addr, error) {
	return serve(ctx, name, addr, handler, nil)
}

// ServeTLS is Serve over HTTPS, presenting the certificate of certs. It
// speaks HTTP/1.1 only, as kubebuilder's metrics servers do: a scrape needs
// nothing of HTTP/2, whose stream handling has been the way into several
// denial-of-service attacks on Go servers.
func ServeTLS(ctx context.Context, name, addr string, handler http.Handler, certs *Certificates) (net.Addr, error) {
	return serve(ctx, name, addr, handler, &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: certs.GetCertificate,
		NextProtos:     []string{"http/1.1"},
	})
}

// serve is Serve, over TLS if tlsConfig is not nil.
func serve(ctx context.Context, name, addr string, handler http.Handler, tlsConfig *tls.Config) (net.Addr, error) {
	var listenConfig net.ListenConfig
	listener, err := listenConfig.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serving %s on %q: %w", name, addr, err)
	}
	scheme := "http"
	if tlsConfig != nil {
		listener = tls.NewListener(listener, tlsConfig)
		scheme = "https"
	}
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		// No ReadTimeout: once it passes, the server cancels the request's
		// context, which would cut a 30-second CPU profile short.
		WriteTimeout: writeTimeout,
		IdleTimeout:  idleTimeout,
		// Requests get ctx's logger, but not its cancellation: requests in
		// flight when ctx is done may finish within shutdownTimeout.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// net/http logs failed TLS handshakes, such as a scraper that does
		// not trust the certificate; through klog, they keep the format of
		// every other line, JSON included.
		ErrorLog: klog.NewStandardLogger("INFO"),
	}
	klog.FromContext(ctx).Info("Serving", "name", name, "address", listener.Addr().String(), "scheme", scheme)
	go serveUntilDone(ctx, name, server, listener)
	return listener.Addr(), nil
}

// serveUntilDone serves on listener until ctx is done, then shuts server
// down gracefully, closing whatever connections are still busy after
// shutdownTimeout.
func serveUntilDone(ctx context.Context, name string, server *http.Server, listener net.Listener) {
	address := listener.Addr().String()
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	select {
	case err := <-served:
		utilruntime.HandleErrorWithContext(ctx, err, "Stopped serving", "name", name, "address", address)
		return
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		klog.FromContext(ctx).Info("Closing connections still busy after the shutdown timeout",
			"name", name, "address", address, "timeout", shutdownTimeout, "err", err)
		if err := server.Close(); err != nil {
			utilruntime.HandleErrorWithContext(ctx, err, "Closing the server", "name", name, "address", address)
		}
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		utilruntime.HandleErrorWithContext(ctx, err, "Stopped serving", "name", name, "address", address)
	}
}
