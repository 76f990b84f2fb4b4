//go:build linux

// Package e2e runs deploy/ as pods on a real node: kube-apiserver and etcd
// from internal/controlplane, kube-controller-manager, kube-scheduler,
// containerd and a kubelet from internal/node, and crddemo's image imported
// into containerd. `make e2e` runs it, as root; plain `go test ./...` skips
// it with a message that names make e2e, since it changes the host (a
// bridge, cgroups, mounts).
package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/image"
	"github.com/domac/crddemo/internal/node"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// enableEnv names the variable that make e2e sets to 1 to run the suite;
// with it, anything missing fails the suite rather than skipping it.
const enableEnv = "CRDDEMO_E2E"

// imageEnv and imageArchiveEnv name crddemo's image reference and the
// archive that holds it, which make e2e builds with make image and passes on:
// the suite runs the image a user would, not one of its own.
const (
	imageEnv        = "CRDDEMO_E2E_IMAGE"
	imageArchiveEnv = "CRDDEMO_E2E_IMAGE_ARCHIVE"
)

// bridge is the pods' network. 10.244.77.0/24 is inside the range that
// Kubernetes tools use for pods by habit, and on no interface here: Start
// fails if the host routes it already.
var bridge = node.Bridge{Name: "crddemo-e2e0", Prefix: netip.MustParsePrefix("10.244.77.0/24")}

// waitTimeout bounds each wait on the cluster: pods start in seconds, but a
// first image unpack and a busy 2-core machine can take a minute.
const waitTimeout = 3 * time.Minute

// pollInterval is how often a test looks again at the state it waits for.
const pollInterval = 250 * time.Millisecond

// cluster is the running cluster, nil when the suite is skipped or its
// setup failed (setupErr says why).
var (
	cluster  *testCluster
	setupErr error
)

// testCluster is what the tests use of the running cluster.
type testCluster struct {
	cp     *controlplane.ControlPlane
	node   *node.Node
	kube   kubernetes.Interface
	client clientset.Interface
	// dir holds the run's files: images, the node's state and logs, the
	// overlay made for this run.
	dir string
	// keep leaves dir in place when the cluster stops.
	keep bool
	// bridgeUp is set once the bridge exists, for stop to delete it.
	bridgeUp bool
	// overlay and shardedOverlay are the kustomizations that apply
	// test/e2e/overlay and test/e2e/sharded with this run's API server
	// address.
	overlay, shardedOverlay string
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv(enableEnv) != "1" {
		return m.Run()
	}
	// A Ctrl-C must not leave the bridge, mounts and daemons behind: stop
	// the cluster, then die of the signal as the test binary would have.
	ctx, cancel := signal.NotifyContext(context.Background(), controlplane.ShutdownSignals()...)
	defer cancel()
	started := time.Now()
	c, err := startCluster(ctx)
	if err != nil {
		setupErr = err
		// The tests report the error, each as its own failure.
		return m.Run()
	}
	fmt.Printf("e2e: cluster up in %v (logs in %s)\n", time.Since(started).Round(time.Second), c.node.LogDir())
	cluster = c
	code := m.Run()
	if code != 0 {
		// Keep the node's logs and state to explain the failure.
		c.keep = true
	}
	if err := c.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stopping the cluster:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// requireCluster returns the cluster, or skips the test when the suite is
// not enabled, or fails it when the cluster could not start.
func requireCluster(t *testing.T) *testCluster {
	t.Helper()
	if os.Getenv(enableEnv) != "1" {
		t.Skipf("the e2e suite runs pods on a real node and changes the host; run it with make e2e (as root), which sets %s=1", enableEnv)
	}
	if cluster == nil {
		t.Fatalf("starting the e2e cluster: %v", setupErr)
	}
	return cluster
}

// startCluster builds the probe image, starts the control plane on the
// bridge address, the node, and imports crddemo's image, the one make image
// built.
func startCluster(ctx context.Context) (_ *testCluster, err error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("make e2e must run as root: the node mounts filesystems and makes cgroups and network namespaces")
	}
	imageRef, imageArchive, err := releasedImage()
	if err != nil {
		return nil, err
	}
	bin, err := controlplane.BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "crddemo-e2e-")
	if err != nil {
		return nil, fmt.Errorf("creating the e2e temp dir: %w", err)
	}
	c := &testCluster{dir: dir}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.stop())
		}
	}()

	probeArchive := filepath.Join(dir, "probe.tar")
	if err := buildProbeImage(ctx, dir, probeArchive); err != nil {
		return nil, err
	}
	if err := bridge.Create(); err != nil {
		return nil, err
	}
	c.bridgeUp = true
	c.cp, err = controlplane.Start(ctx,
		controlplane.ServeOn(bridge.HostAddr()),
		// envtest turns the ServiceAccount admission plugin off; a real
		// cluster, and so this one, runs it.
		controlplane.APIServerFlag("disable-admission-plugins", ""),
		// The node's name resolves nowhere: kubectl logs and exec reach the
		// kubelet at its address on the bridge.
		controlplane.APIServerFlag("kubelet-preferred-address-types", "InternalIP"),
		// deploy/sharded's replicas each list and watch only their shards'
		// Mydemos where the API server shards them.
		controlplane.APIServerFlag("feature-gates", "ShardedListAndWatch=true"))
	if err != nil {
		return nil, err
	}
	c.node, err = node.Start(ctx, node.Config{
		BinDir:                bin,
		Dir:                   filepath.Join(dir, "node"),
		Kubeconfig:            c.cp.KubeconfigPath,
		RESTConfig:            c.cp.Config,
		CACert:                c.cp.CACert(),
		ServiceAccountKeyFile: c.cp.ServiceAccountKeyFile(),
		Bridge:                bridge,
		SandboxImage:          probeImage,
		SandboxArchive:        probeArchive,
	})
	if err != nil {
		return nil, err
	}
	if err := c.node.ImportImage(ctx, imageArchive); err != nil {
		return nil, err
	}
	if err := c.node.TagImage(ctx, imageRef, deployedImage); err != nil {
		return nil, err
	}
	if c.kube, err = kubernetes.NewForConfig(c.cp.Config); err != nil {
		return nil, err
	}
	if c.client, err = clientset.NewForConfig(c.cp.Config); err != nil {
		return nil, err
	}
	if c.overlay, err = writeOverlay(dir, "overlay", c.cp.APIServerAddr()); err != nil {
		return nil, err
	}
	if c.shardedOverlay, err = writeOverlay(dir, "sharded", c.cp.APIServerAddr()); err != nil {
		return nil, err
	}
	return c, nil
}

// releasedImage returns the full name under which containerd stores the
// image that imageEnv names, as the archive imageArchiveEnv gives it that
// name, and the archive's path.
func releasedImage() (ref, archive string, err error) {
	name, archive := os.Getenv(imageEnv), os.Getenv(imageArchiveEnv)
	if name == "" || archive == "" {
		return "", "", fmt.Errorf("%s and %s name the image to run and its archive; make e2e sets them to make image's output", imageEnv, imageArchiveEnv)
	}
	if _, err := os.Stat(archive); err != nil {
		return "", "", fmt.Errorf("crddemo's image archive (%s): %w; make image writes it", imageArchiveEnv, err)
	}
	parsed, err := image.ParseReference(name)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", imageEnv, err)
	}
	return parsed.FullName(), archive, nil
}

// stop stops the node, then the control plane, and removes the run's
// files.
func (c *testCluster) stop() error {
	var errs []error
	if c.node != nil {
		errs = append(errs, c.node.Stop())
	}
	errs = append(errs, c.cp.Stop())
	if c.bridgeUp {
		errs = append(errs, bridge.Delete())
	}
	if err := errors.Join(errs...); err != nil {
		// Keep the logs to explain the failure.
		return fmt.Errorf("%w (files kept in %s)", err, c.dir)
	}
	if c.keep {
		fmt.Fprintln(os.Stderr, "e2e: the run's files are kept in", c.dir)
		return nil
	}
	return os.RemoveAll(c.dir)
}
