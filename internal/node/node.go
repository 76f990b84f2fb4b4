//go:build linux

// Package node runs a one-node Kubernetes cluster's node side next to a
// control plane from internal/controlplane: kube-controller-manager,
// kube-scheduler, containerd and a kubelet, with pods in network namespaces
// of their own on a bridge that it creates. make e2e runs deploy/ on it, so
// that the manifests are proven as pods, not only as API objects.
//
// It changes the host: it needs root, creates a bridge and cgroups, and
// mounts what the kubelet and containerd mount. Stop undoes all of it.
package node

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Name is the node's name in the API.
const Name = "crddemo-e2e"

// readyTimeout is how long the node gets to register and become Ready: the
// kubelet waits for containerd and the CNI config, on a busy 2-core machine.
const readyTimeout = 3 * time.Minute

// Config is what Start needs from the control plane and the build.
type Config struct {
	// BinDir holds kubelet, kube-controller-manager and kube-scheduler
	// (hack/testbin.sh) and containerd with its shim and ctr.
	BinDir string
	// Dir is an empty directory for the node's state, logs and mounts;
	// Stop removes what is in it.
	Dir string
	// Kubeconfig is an admin kubeconfig whose server is the API server's
	// address on the bridge.
	Kubeconfig string
	// RESTConfig is the same admin access, for waiting on the node.
	RESTConfig *rest.Config
	// CACert is the PEM CA of the API server's serving certificate, which
	// kube-controller-manager publishes to every namespace as ca.crt.
	CACert []byte
	// ServiceAccountKeyFile is the API server's token signing key.
	ServiceAccountKeyFile string
	// Bridge is the network the pods get their addresses on, created
	// already (Bridge.Create).
	Bridge Bridge
	// SandboxImage is the image of every pod's sandbox container, already
	// in an archive at SandboxArchive, imported before the kubelet starts.
	SandboxImage   string
	SandboxArchive string
}

// Node is the running node side: the controllers, containerd and the
// kubelet.
type Node struct {
	cfg        Config
	started    time.Time
	containerd *containerd
	daemons    []*daemon
}

// Start starts containerd, imports the sandbox image,
// starts kube-controller-manager, kube-scheduler and the kubelet, and waits
// until the node is Ready. On any error, what it had started is stopped.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("running a node needs root: the kubelet and containerd mount filesystems, make cgroups and network namespaces")
	}
	n := &Node{cfg: cfg, started: time.Now()}
	if err := n.start(ctx); err != nil {
		return nil, errors.Join(err, n.Stop())
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	cfg := n.cfg
	var err error
	n.containerd, err = startContainerd(ctx, cfg)
	if err != nil {
		return err
	}
	if err := n.containerd.importImage(ctx, cfg.SandboxArchive); err != nil {
		return err
	}
	for _, start := range []func() (*daemon, error){
		func() (*daemon, error) { return startControllerManager(cfg) },
		func() (*daemon, error) { return startScheduler(cfg) },
		func() (*daemon, error) { return startKubelet(cfg, n.containerd.socket()) },
	} {
		d, err := start()
		if err != nil {
			return err
		}
		n.daemons = append(n.daemons, d)
	}
	return n.waitReady(ctx)
}

// ImportImage imports the image archive at path into the runtime's
// Kubernetes namespace, where the kubelet finds it without a registry.
func (n *Node) ImportImage(ctx context.Context, path string) error {
	return n.containerd.importImage(ctx, path)
}

// TagImage gives the image src, imported already, the name dst too, such as
// the one a Deployment's pods ask for.
func (n *Node) TagImage(ctx context.Context, src, dst string) error {
	if _, err := n.containerd.ctr(ctx, "images", "tag", "--force", src, dst); err != nil {
		return fmt.Errorf("naming image %s %s: %w", src, dst, err)
	}
	return nil
}

// waitReady waits until the kubelet has registered the node and reports it
// Ready, which needs containerd and the CNI config to work.
func (n *Node) waitReady(ctx context.Context) error {
	client, err := kubernetes.NewForConfig(n.cfg.RESTConfig)
	if err != nil {
		return fmt.Errorf("creating a client to wait for the node: %w", err)
	}
	var last string
	err = wait.PollUntilContextTimeout(ctx, time.Second, readyTimeout, true, func(ctx context.Context) (bool, error) {
		for _, d := range n.daemons {
			if d.exited() {
				return false, fmt.Errorf("%s exited while the node was starting: %s", d.name, d.describe())
			}
		}
		node, err := client.CoreV1().Nodes().Get(ctx, Name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				last = fmt.Sprintf("Ready=%s: %s", c.Status, c.Message)
				return c.Status == corev1.ConditionTrue, nil
			}
		}
		last = "no Ready condition yet"
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting %v for node %s to be Ready (last: %s; logs in %s): %w", readyTimeout, Name, last, n.cfg.Dir, err)
	}
	return nil
}

// LogDir is where each daemon's output goes, one file each.
func (n *Node) LogDir() string {
	return filepath.Join(n.cfg.Dir, "logs")
}

// Stop stops the kubelet and the controllers, then every container left
// and containerd, and unmounts what they mounted under Dir. It is safe on a
// partly started node.
func (n *Node) Stop() error {
	var errs []error
	for i := len(n.daemons) - 1; i >= 0; i-- {
		errs = append(errs, n.daemons[i].stop())
	}
	if n.containerd != nil {
		errs = append(errs, n.containerd.stop())
	}
	errs = append(errs, removeNetnsSince(n.started), unmountUnder(n.cfg.Dir), removeKubepodsCgroups())
	return errors.Join(errs...)
}

// PodCIDR returns the prefix pods get their addresses from.
func (n *Node) PodCIDR() netip.Prefix {
	return n.cfg.Bridge.Prefix
}
