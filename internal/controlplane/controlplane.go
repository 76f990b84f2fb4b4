// Package controlplane runs a throwaway Kubernetes control plane, etcd and
// kube-apiserver with no nodes, from the binaries that hack/testbin.sh builds
// into the repository's bin/. hack/demo, hack/local-cluster and, through
// test/controlplane, the integration tests all start it here, so that they
// share one set of binaries at the versions hack/tools/go.mod pins, one
// temp-dir layout and one cleanup path.
//
// It wraps sigs.k8s.io/controller-runtime/pkg/envtest, which starts etcd and
// kube-apiserver each in a process group of its own. A Ctrl-C in the terminal
// therefore never reaches them: whoever calls Start must catch
// ShutdownSignals and call Stop, or they outlive it.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/modfile"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/domac/crddemo/internal/porthold"
)

// modulePath identifies the repository root: the directory whose go.mod
// declares it. hack/tools has a go.mod of its own, under another name.
const modulePath = "github.com/domac/crddemo"

// binaries are the programs Start needs in bin/, as hack/testbin.sh names them.
var binaries = []string{"etcd", "kube-apiserver", "kubectl"}

const (
	// startTimeout is how long etcd and kube-apiserver each get to become
	// healthy. envtest's 20 s default is too short for kube-apiserver on a
	// 2-core machine that is also compiling.
	startTimeout = 60 * time.Second
	// stopTimeout is how long each gets to exit after SIGTERM before envtest
	// sends SIGKILL.
	stopTimeout = 20 * time.Second
	// logTail is how much of each process's output is kept, and tailLines
	// how many of its last lines are shown, to explain a failed start.
	logTail   = 4 << 10
	tailLines = 10
)

// ControlPlane is a running etcd and kube-apiserver listening on loopback.
// Everything it writes, including etcd's data, lives in one temp dir that
// Stop removes.
type ControlPlane struct {
	// Config connects as an admin (group system:masters).
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file holding Config, for programs such
	// as crddemo and kubectl.
	KubeconfigPath string
	// KubectlPath is bin/kubectl, whose version matches the server's.
	KubectlPath string

	dir   string
	plane *envtest.ControlPlane
	// apiserverAddr is the host:port kube-apiserver serves on, kept across
	// its restarts.
	apiserverAddr string

	// mu serializes Stop, StopAPIServer and StartAPIServer: envtest's
	// processes are not safe for concurrent use, and Stop may come from a
	// signal handler while a test restarts the API server.
	mu sync.Mutex
	// apiserverDown is set between StopAPIServer and the StartAPIServer that
	// succeeds, and apiserverPort then holds the API server's port, unless
	// the hold failed.
	apiserverDown bool
	apiserverPort *porthold.Port
	stopped       bool
	stopErr       error
}

// RepoRoot returns the absolute path of the crddemo repository. It looks up
// from the working directory first, since tests run in their package's
// directory and the programs from the root; it falls back to where this
// source file was compiled from, for a program run from elsewhere.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the crddemo repository: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isRepoRoot(dir) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if dir, ok := compiledRepoRoot(); ok {
		return dir, nil
	}
	return "", fmt.Errorf("cannot find the crddemo repository (a go.mod declaring module %s) in %s or above it", modulePath, wd)
}

// BinDir returns the absolute path of the repository's bin/, where
// hack/testbin.sh puts etcd, kube-apiserver and kubectl.
func BinDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin"), nil
}

// Missing returns the names of the binaries that Start needs but bin/ lacks;
// all of them if bin/ itself cannot be found.
func Missing() []string {
	dir, err := BinDir()
	if err != nil {
		return slices.Clone(binaries)
	}
	var missing []string
	for _, name := range binaries {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	return missing
}

// Start starts etcd and kube-apiserver from bin/ and waits until the API
// server serves the default namespace. It installs nothing: callers add the
// CRD when their scenario calls for it. opts change how kube-apiserver runs,
// for the few tests that need it to run otherwise.
//
// Start cannot interrupt the processes while they boot (a few seconds); if
// ctx ends meanwhile, it stops them once they are up and returns ctx's error.
// On any error, everything Start had begun is already stopped and removed.
func Start(ctx context.Context, opts ...Option) (*ControlPlane, error) {
	settings, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if missing := Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("%s missing from %s: run make testbin (hack/testbin.sh) to build them",
			strings.Join(missing, ", "), bin)
	}
	dir, err := os.MkdirTemp("", "crddemo-controlplane-")
	if err != nil {
		return nil, fmt.Errorf("creating the control plane's temp dir: %w", err)
	}
	cp := &ControlPlane{
		KubeconfigPath: filepath.Join(dir, "kubeconfig"),
		KubectlPath:    filepath.Join(bin, "kubectl"),
		dir:            dir,
	}
	if err := cp.start(ctx, bin, settings); err != nil {
		return nil, errors.Join(err, cp.Stop())
	}
	return cp, nil
}

// start does the work of Start in cp's temp dir, leaving the cleanup of a
// failure to the caller.
func (cp *ControlPlane) start(ctx context.Context, bin string, settings settings) error {
	// envtest would make temp dirs of its own for etcd's data and the API
	// server's certificates, and could leave one behind after a failed start;
	// inside cp.dir, Stop removes them whatever happened.
	certDir := filepath.Join(cp.dir, "kube-apiserver")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		return fmt.Errorf("creating the API server's certificate dir: %w", err)
	}
	etcdLog, apiserverLog := &tailBuffer{}, &tailBuffer{}
	cp.plane = &envtest.ControlPlane{
		Etcd: &envtest.Etcd{
			Path:         filepath.Join(bin, "etcd"),
			DataDir:      filepath.Join(cp.dir, "etcd"),
			StartTimeout: startTimeout,
			StopTimeout:  stopTimeout,
			Out:          etcdLog,
			Err:          etcdLog,
		},
		APIServer: &envtest.APIServer{
			Path:         filepath.Join(bin, "kube-apiserver"),
			CertDir:      certDir,
			StartTimeout: startTimeout,
			StopTimeout:  stopTimeout,
			Out:          apiserverLog,
			Err:          apiserverLog,
		},
		KubectlPath: cp.KubectlPath,
	}
	if err := settings.configure(cp.plane.APIServer); err != nil {
		return err
	}
	// Using envtest.ControlPlane rather than envtest.Environment skips the
	// latter's five silent retries of a failed start and its reading of
	// KUBEBUILDER_ASSETS and USE_EXISTING_CLUSTER, which could swap in other
	// binaries or a real cluster.
	if err := cp.plane.Start(); err != nil {
		// envtest runs etcd --help and kube-apiserver --help in the caller's
		// process group, where a Ctrl-C kills them and fails the start.
		if ctx.Err() != nil {
			return fmt.Errorf("starting the control plane: %w", context.Cause(ctx))
		}
		// kube-apiserver starts only once etcd is up, so if it wrote anything
		// it is the one that failed; etcd's output would only show envtest
		// stopping it.
		output := apiserverLog.describe("kube-apiserver")
		if output == "" {
			output = etcdLog.describe("etcd")
		}
		return fmt.Errorf("starting etcd and kube-apiserver from %s: %w%s", bin, err, output)
	}
	cp.apiserverAddr = cp.plane.APIServer.SecureServing.HostPort()
	if ctx.Err() != nil {
		return fmt.Errorf("starting the control plane: %w", context.Cause(ctx))
	}

	admin, err := cp.plane.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, &rest.Config{
		// The API server is the caller's alone: client-side throttling would
		// only slow tests down.
		QPS:   1000,
		Burst: 2000,
	})
	if err != nil {
		return fmt.Errorf("provisioning the admin user: %w", err)
	}
	cp.Config = admin.Config()
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return fmt.Errorf("writing the admin kubeconfig: %w", err)
	}
	if err := os.WriteFile(cp.KubeconfigPath, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("writing the admin kubeconfig: %w", err)
	}

	return waitForDefaultNamespace(ctx, cp.Config)
}

// waitForDefaultNamespace waits until the API server has created the default
// namespace. It reports healthy before its bootstrap controller does so, and
// the first kubectl apply of a namespaced object would fail in that window.
func waitForDefaultNamespace(ctx context.Context, cfg *rest.Config) error {
	return waitAPI(ctx, cfg, "the API server to create the default namespace", func(ctx context.Context, client kubernetes.Interface) error {
		_, err := client.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		return err
	})
}

// apiWait is how long waitAPI waits.
const apiWait = 30 * time.Second

// waitAPI calls check every 100 ms until it succeeds, for at most apiWait;
// what is what it waits for, for the error.
func waitAPI(ctx context.Context, cfg *rest.Config, what string, check func(context.Context, kubernetes.Interface) error) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating a client for the API server: %w", err)
	}
	var lastErr error
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, apiWait, true, func(ctx context.Context) (bool, error) {
		lastErr = check(ctx, client)
		return lastErr == nil, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		}
		return fmt.Errorf("waited %v for %s: %w", apiWait, what, lastErr)
	}
	return nil
}

// Kubectl returns a command that runs bin/kubectl against this control plane.
// Its discovery and HTTP caches go to the control plane's temp dir rather
// than ~/.kube/cache, where every run's new port would leave a directory.
func (cp *ControlPlane) Kubectl(ctx context.Context, args ...string) *exec.Cmd {
	flags := []string{
		"--kubeconfig=" + cp.KubeconfigPath,
		"--cache-dir=" + filepath.Join(cp.dir, "kubectl-cache"),
	}
	return exec.CommandContext(ctx, cp.KubectlPath, append(flags, args...)...)
}

// CACert returns the PEM certificate of the CA that signed the API server's
// serving certificate: what a pod's ca.crt must hold to verify it.
func (cp *ControlPlane) CACert() []byte {
	return cp.plane.APIServer.SecureServing.CA
}

// ServiceAccountKeyFile returns the path of the private key that the API
// server signs ServiceAccount tokens with and verifies them by (envtest's
// sa-signer.key), for a kube-controller-manager that issues tokens too.
func (cp *ControlPlane) ServiceAccountKeyFile() string {
	return filepath.Join(cp.plane.APIServer.CertDir, "sa-signer.key")
}

// Dir is the temp dir that holds everything the control plane writes,
// etcd's data included; Stop removes it.
func (cp *ControlPlane) Dir() string {
	return cp.dir
}

// Stop stops kube-apiserver and etcd and removes the temp dir, whether the
// API server runs or StopAPIServer or a failed StartAPIServer left it
// stopped. It is safe to call more than once and on a nil ControlPlane;
// later calls return the first call's result. It waits for a
// StartAPIServer under way to finish.
func (cp *ControlPlane) Stop() error {
	if cp == nil {
		return nil
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.stopped {
		return cp.stopErr
	}
	cp.stopped = true
	var errs []error
	if cp.plane != nil {
		// envtest's Stop of an API server that has exited already, as
		// StopAPIServer leaves it, is a no-op.
		if err := cp.plane.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping etcd and kube-apiserver: %w", err))
		}
	}
	if err := cp.apiserverPort.Release(); err != nil {
		errs = append(errs, err)
	}
	if err := os.RemoveAll(cp.dir); err != nil {
		errs = append(errs, fmt.Errorf("removing the control plane's temp dir: %w", err))
	}
	cp.stopErr = errors.Join(errs...)
	return cp.stopErr
}

// PinnedKubernetesVersion returns the Kubernetes release that
// hack/tools/go.mod pins, such as v1.37.2: the version bin/kube-apiserver and
// bin/kubectl report.
func PinnedKubernetesVersion() (string, error) {
	tools, err := parseGoMod("hack/tools/go.mod")
	if err != nil {
		return "", err
	}
	for _, req := range tools.Require {
		if req.Mod.Path == "k8s.io/kubernetes" {
			return req.Mod.Version, nil
		}
	}
	return "", errors.New("hack/tools/go.mod requires no k8s.io/kubernetes")
}

// parseGoMod parses the go.mod at path, relative to the repository root.
func parseGoMod(path string) (*modfile.File, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		return nil, err
	}
	file, err := modfile.Parse(path, data, nil)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", path, err)
	}
	return file, nil
}

// isRepoRoot reports whether dir holds the go.mod of the crddemo module.
func isRepoRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && modfile.ModulePath(data) == modulePath
}

// compiledRepoRoot returns the repository this file was compiled in, if the
// build kept absolute source paths (no -trimpath) and the repository is still
// there.
func compiledRepoRoot() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	dir := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	return dir, isRepoRoot(dir)
}

// tailBuffer keeps the last logTail bytes written to it. The processes'
// output is of no interest until one fails to start, and then only its end.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - logTail; over > 0 {
		t.buf = slices.Delete(t.buf, 0, over)
	}
	return len(p), nil
}

// describe returns the last tailLines lines kept, as an indented block to
// append to an error, or nothing if there were none.
func (t *tailBuffer) describe(name string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	if lines[0] == "" {
		return ""
	}
	lines = lines[max(0, len(lines)-tailLines):]
	return fmt.Sprintf("\n%s's last output:\n\t%s", name, strings.Join(lines, "\n\t"))
}
