//go:build linux

package node

import (
	"fmt"
	"os"
	"path/filepath"
)

// startControllerManager starts kube-controller-manager with the
// controllers a Deployment needs (deployment, replicaset), those that make
// a namespace usable (serviceaccount, its token controller, the root CA
// publisher) and garbage collection, which delete -k relies on. It serves
// nothing: --secure-port=0.
func startControllerManager(cfg Config) (*daemon, error) {
	dir := filepath.Join(cfg.Dir, "kube-controller-manager")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating kube-controller-manager's dir: %w", err)
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, cfg.CACert, 0o644); err != nil {
		return nil, fmt.Errorf("writing the API server's CA for kube-controller-manager: %w", err)
	}
	path, err := lookPath(cfg, "kube-controller-manager")
	if err != nil {
		return nil, err
	}
	return startDaemon(cfg, "kube-controller-manager", path, []string{
		"--kubeconfig=" + cfg.Kubeconfig,
		"--service-account-private-key-file=" + cfg.ServiceAccountKeyFile,
		"--root-ca-file=" + caFile,
		"--leader-elect=false",
		"--secure-port=0",
		"--controllers=*",
	})
}

// startScheduler starts kube-scheduler, serving nothing either.
func startScheduler(cfg Config) (*daemon, error) {
	path, err := lookPath(cfg, "kube-scheduler")
	if err != nil {
		return nil, err
	}
	return startDaemon(cfg, "kube-scheduler", path, []string{
		"--kubeconfig=" + cfg.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	})
}
