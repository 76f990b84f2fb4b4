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
	// readHeaderTimeout bounds the TLS handshake and the request's header,
	// so that a caller sending them slowly holds a connection for seconds,
	// not forever. A probe or scrape sends its header in one packet.
	readHeaderTimeout = 5 * time.Second
	// maxHeaderBytes bounds a request's header: a ServiceAccount token is
	// about 1 KiB, and header lines past 8 KiB are refused by common
	// proxies anyway. net/http reads up to 4 KiB past it, then answers 431.
	maxHeaderBytes = 8 << 10
	// maxRequestURIBytes bounds a request's path and query, which the
	// guard's cache key and SubjectAccessReview carry: crddemo's longest,
	// such as /debug/pprof/profile?seconds=30, are a few dozen bytes.
	maxRequestURIBytes = 256
	// writeTimeout bounds writing a response. net/http/pprof extends it by
	// the sampling time that a profile or trace asks for.
	writeTimeout = 30 * time.Second
	// idleTimeout closes kept-alive connections that a prober or scraper
	// stopped using, and gives their slot (connlimit.go) back. It is a
	// Prometheus scrape interval, so that a scraper every 30 s or less keeps
	// its connection.
	idleTimeout = time.Minute
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
// What a caller can make the server hold is bounded: see maxHeaderBytes,
// maxRequestURIBytes, readHeaderTimeout and the connection caps of
// connlimit.go.
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
	listener = newLimitListener(ctx, name, listener, maxConnections, maxConnectionsPerHost)
	scheme := "http"
	if tlsConfig != nil {
		listener = tls.NewListener(listener, tlsConfig)
		scheme = "https"
	}
	server := &http.Server{
		Handler:           limitRequestURI(handler),
		ReadHeaderTimeout: readHeaderTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// No ReadTimeout: once it passes, the server cancels the request's
		// context, which would cut a 30-second CPU profile short.
		WriteTimeout: writeTimeout,
		IdleTimeout:  idleTimeout,
		// Requests get ctx's logger, but not its cancellation: requests in
		// flight when ctx is done may finish within shutdownTimeout.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:    serverErrorLog(ctx, name),
	}
	klog.FromContext(ctx).Info("Serving", "name", name, "address", listener.Addr().String(), "scheme", scheme)
	go serveUntilDone(ctx, name, server, listener)
	return listener.Addr(), nil
}

// limitRequestURI answers 414 to a request whose path and query are longer
// than maxRequestURIBytes, before handler, and so before any review, sees
// it.
func limitRequestURI(handler http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > maxRequestURIBytes {
			http.Error(w, fmt.Sprintf("URI Too Long: the path and query may have at most %d bytes", maxRequestURIBytes),
				http.StatusRequestURITooLong)
			return
		}
		handler.ServeHTTP(w, r)
	})
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
