//go:build linux

package node

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// k8sNamespace is containerd's namespace for what the CRI plugin, and so
// the kubelet, sees.
const k8sNamespace = "k8s.io"

// cniBinDir is where Debian's containernetworking-plugins puts the plugins.
const cniBinDir = "/usr/lib/cni"

// containerd is the node's container runtime.
type containerd struct {
	*daemon
	dir string
}

// containerdConfig is containerd's config: everything under the node's dir,
// the CRI plugin's streaming server (kubectl exec, logs -f) on loopback,
// cgroupfs (the kubelet's driver here), no oom_score_adj below containerd's
// own, and the CNI config this package writes. Version 2 is the schema that containerd 1.6 reads and containerd 2
// still accepts.
var containerdConfig = template.Must(template.New("config.toml").Parse(`version = 2
root = "{{.Dir}}/root"
state = "{{.Dir}}/state"

[grpc]
  address = "{{.Socket}}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{.SandboxImage}}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # Sandboxes get oom_score_adj -998 otherwise, which needs CAP_SYS_RESOURCE:
  # where the test runs without it, runc fails with "failed to update
  # /proc/self/oom_score_adj: Permission denied".
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{{.CNIBinDir}}"
    conf_dir = "{{.CNIConfDir}}"
`))

// cniConfig is the pods' network: a veth on the bridge each, addresses from
// host-local, no default route and no masquerading, so that a pod reaches
// the host's address on the bridge and the other pods, and nothing else.
var cniConfig = template.Must(template.New("10-crddemo-e2e.conflist").Parse(`{
  "cniVersion": "1.0.0",
  "name": "crddemo-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "{{.Bridge.Name}}",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "{{.Dir}}/cni-ipam",
        "ranges": [[{"subnet": "{{.Bridge.Prefix.Masked}}", "rangeStart": "{{.Bridge.HostAddr.Next}}"}]]
      }
    },
    {"type": "loopback"}
  ]
}
`))

// startContainerd writes containerd's and the CNI's config under cfg.Dir,
// starts containerd and waits until it answers.
func startContainerd(ctx context.Context, cfg Config) (*containerd, error) {
	dir := filepath.Join(cfg.Dir, "containerd")
	cniDir := filepath.Join(dir, "cni")
	if err := os.MkdirAll(cniDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating containerd's dir: %w", err)
	}
	c := &containerd{dir: dir}
	values := map[string]any{
		"Dir":          dir,
		"Socket":       c.socket(),
		"SandboxImage": cfg.SandboxImage,
		"CNIBinDir":    cniBinDir,
		"CNIConfDir":   cniDir,
		"Bridge":       cfg.Bridge,
	}
	configPath := filepath.Join(dir, "config.toml")
	if err := writeTemplate(configPath, containerdConfig, values); err != nil {
		return nil, err
	}
	if err := writeTemplate(filepath.Join(cniDir, "10-crddemo-e2e.conflist"), cniConfig, values); err != nil {
		return nil, err
	}
	path, err := lookPath(cfg, "containerd")
	if err != nil {
		return nil, err
	}
	c.daemon, err = startDaemon(cfg, "containerd", path, []string{"--config", configPath}, "PATH="+searchPath(cfg))
	if err != nil {
		return nil, err
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		if c.exited() {
			return false, fmt.Errorf("containerd exited: %s", c.describe())
		}
		conn, err := net.Dial("unix", c.socket())
		if err != nil {
			return false, nil
		}
		conn.Close()
		return true, nil
	})
	if err != nil {
		return c, fmt.Errorf("waiting for containerd to listen on %s: %w", c.socket(), err)
	}
	return c, nil
}

// socket is containerd's gRPC socket.
func (c *containerd) socket() string {
	return filepath.Join(c.dir, "containerd.sock")
}

// ctr runs containerd's ctr against this containerd in the k8s.io namespace.
func (c *containerd) ctr(ctx context.Context, args ...string) (string, error) {
	path, err := exec.LookPath("ctr")
	if err != nil {
		return "", fmt.Errorf("containerd's ctr is not on PATH: %w", err)
	}
	cmd := exec.CommandContext(ctx, path, append([]string{"--address", c.socket(), "--namespace", k8sNamespace}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("ctr %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// importImage imports an image archive (docker save or OCI) for the kubelet.
func (c *containerd) importImage(ctx context.Context, archive string) error {
	if _, err := c.ctr(ctx, "images", "import", "--no-unpack=false", archive); err != nil {
		return fmt.Errorf("importing %s into containerd: %w", archive, err)
	}
	return nil
}

// stop kills every container left, so that no shim outlives containerd,
// then stops containerd.
func (c *containerd) stop() error {
	if c.daemon == nil || c.exited() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []string
	if out, err := c.ctr(ctx, "tasks", "list", "--quiet"); err == nil {
		for _, id := range strings.Fields(out) {
			// Best effort: a killed task may be gone before the delete.
			_, _ = c.ctr(ctx, "tasks", "kill", "--signal", "SIGKILL", id)
			_, _ = c.ctr(ctx, "tasks", "delete", "--force", id)
		}
	}
	if err := c.daemon.stop(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("stopping containerd: %s", strings.Join(errs, "; "))
	}
	return nil
}

// writeTemplate renders tmpl with values into the file at path.
func writeTemplate(path string, tmpl *template.Template, values any) error {
	var b strings.Builder
	if err := tmpl.Execute(&b, values); err != nil {
		return fmt.Errorf("rendering %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
