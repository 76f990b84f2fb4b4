//go:build linux

package node

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"text/template"
)

// kubeletConfig is the kubelet's configuration for this node. What differs
// from the defaults, and why:
//   - failCgroupV1: false and cgroupfs: a machine without systemd and with
//     cgroup v1, as the sandbox this was written on, must still run pods;
//     on cgroup v2 both are what the kubelet would use anyway.
//   - failSwapOn: false: the node runs on whatever machine runs the tests.
//   - the kubelet's API on the bridge address, answering anyone: the API
//     server (kubectl logs, exec) has no client certificate for it here, and
//     the bridge is reachable only from this host.
//   - no eviction thresholds: a test machine's full disk must fail a test
//     with an error, not evict crddemo's pods silently.
var kubeletConfig = template.Must(template.New("kubelet.yaml").Parse(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://{{.Socket}}
address: {{.Address}}
port: {{.Port}}
readOnlyPort: 0
healthzPort: 0
podLogsDir: {{.Dir}}/pod-logs
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
evictionHard:
  memory.available: "0%"
  nodefs.available: "0%"
  imagefs.available: "0%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
registerNode: true
`))

// startKubelet writes the kubelet's config and starts it, registering as
// Name with the bridge address as its IP.
func startKubelet(cfg Config, socket string) (*daemon, error) {
	dir := filepath.Join(cfg.Dir, "kubelet")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the kubelet's dir: %w", err)
	}
	addr := cfg.Bridge.HostAddr()
	port, err := freePortOn(addr.String())
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(dir, "config.yaml")
	if err := writeTemplate(configPath, kubeletConfig, map[string]any{
		"Socket":  socket,
		"Address": addr,
		"Port":    port,
		"Dir":     dir,
	}); err != nil {
		return nil, err
	}
	path, err := lookPath(cfg, "kubelet")
	if err != nil {
		return nil, err
	}
	return startDaemon(cfg, "kubelet", path, []string{
		"--config=" + configPath,
		"--kubeconfig=" + cfg.Kubeconfig,
		"--root-dir=" + filepath.Join(dir, "root"),
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--hostname-override=" + Name,
		"--node-ip=" + addr.String(),
		"--v=2",
	}, "PATH="+searchPath(cfg))
}

// freePortOn returns a TCP port that is free on host now.
func freePortOn(host string) (int, error) {
	listener, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("finding a free port on %s: %w", host, err)
	}
	defer listener.Close()
	_, port, _ := net.SplitHostPort(listener.Addr().String())
	return strconv.Atoi(port)
}
