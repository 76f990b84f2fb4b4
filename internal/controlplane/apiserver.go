package controlplane

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/domac/crddemo/internal/porthold"
)

// errStopped is the error of a fault injected into a control plane that Stop
// has stopped.
var errStopped = errors.New("the control plane is stopped")

// APIServerAddr returns the host:port that kube-apiserver serves on, as in
// Config.Host; it stays the same across StopAPIServer and StartAPIServer. A
// harness.Proxy in front of the API server forwards to it.
func (cp *ControlPlane) APIServerAddr() string {
	return cp.apiserverAddr
}

// StopAPIServer stops kube-apiserver gracefully, with SIGTERM, and leaves
// etcd running with its data. Until StartAPIServer, connections to the API
// server's address are refused, as they would be by a crashed or restarting
// API server, and its port stays reserved for the restart.
func (cp *ControlPlane) StopAPIServer() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	switch {
	case cp.stopped:
		return fmt.Errorf("stopping kube-apiserver: %w", errStopped)
	case cp.apiserverDown:
		return errors.New("stopping kube-apiserver: it is stopped already")
	}
	return cp.stopAPIServer()
}

// stopAPIServer does the work of StopAPIServer, with cp.mu held.
func (cp *ControlPlane) stopAPIServer() error {
	err := cp.plane.APIServer.Stop()
	// envtest fails to stop a process only once it has sent it SIGKILL or
	// found it gone: either way, the API server is down.
	cp.apiserverDown = true
	if err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	if cp.apiserverPort != nil { // still held since a failed restart
		return nil
	}
	// Nothing listens on the port now. Hold it, or another program could
	// take it before the restart: envtest reserves the ports it picks only
	// against other envtests, and for two minutes, and the kernel hands any
	// free port to a program that binds to port 0.
	port, err := porthold.Take(cp.apiserverAddr)
	if err != nil {
		return fmt.Errorf("kube-apiserver is stopped, but its port could not be kept for its restart: %w", err)
	}
	cp.apiserverPort = port
	return nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the
// same etcd, address and certificates, so that Config, KubeconfigPath and
// every client built from them work again unchanged. It waits until the API
// server is ready and serves the default namespace, as Start does.
//
// Like Start, it cannot interrupt kube-apiserver while it boots; if ctx ends
// meanwhile, it returns ctx's error once the API server is up. On any error
// the API server is stopped again, as after StopAPIServer, so that a test can
// retry, and Stop cleans up either way.
func (cp *ControlPlane) StartAPIServer(ctx context.Context) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	switch {
	case cp.stopped:
		return fmt.Errorf("starting kube-apiserver: %w", errStopped)
	case !cp.apiserverDown:
		return errors.New("starting kube-apiserver: it is running; StopAPIServer first")
	case ctx.Err() != nil:
		return fmt.Errorf("starting kube-apiserver: %w", context.Cause(ctx))
	}
	if err := cp.startAPIServer(ctx); err != nil {
		return errors.Join(err, cp.stopAPIServer())
	}
	cp.apiserverDown = false
	return nil
}

// startAPIServer does the work of StartAPIServer, with cp.mu held, leaving
// the cleanup of a failure to the caller.
func (cp *ControlPlane) startAPIServer(ctx context.Context) error {
	server := cp.plane.APIServer
	// A fresh buffer, so that a failure is explained by the new process's
	// output, not by the old one's shutdown.
	output := &tailBuffer{}
	server.Out, server.Err = output, output
	// envtest's APIServer can be started again: Start makes a new process
	// state but keeps the port it picked the first time, keeps the serving
	// certificate that it finds in CertDir and the client CA that signed
	// Config's certificate, and rebuilds the same flags.
	if err := server.Start(); err != nil {
		return fmt.Errorf("restarting kube-apiserver: %w%s", err, output.describe("kube-apiserver"))
	}
	// kube-apiserver could bind the held port (see porthold) and now
	// listens on it: the hold has done its work.
	err := cp.apiserverPort.Release()
	cp.apiserverPort = nil
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("restarting kube-apiserver: %w", context.Cause(ctx))
	}
	if err := waitReady(ctx, cp.Config); err != nil {
		return fmt.Errorf("restarting kube-apiserver: %w", err)
	}
	return waitForDefaultNamespace(ctx, cp.Config)
}

// waitReady waits until the API server's /readyz answers ok. envtest waits
// only for /healthz, which passes before the API server's informers have
// synced.
func waitReady(ctx context.Context, cfg *rest.Config) error {
	return waitAPI(ctx, cfg, "the API server's /readyz to pass", func(ctx context.Context, client kubernetes.Interface) error {
		_, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	})
}
