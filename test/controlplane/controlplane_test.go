package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/modfile"
	"k8s.io/client-go/discovery"
)

func TestStartServesPinnedVersionAndStopCleansUp(t *testing.T) {
	RequireOrSkip(t)
	want := pinnedKubernetesVersion(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cp, err := Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })

	discoveryClient, err := discovery.NewDiscoveryClientForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	server, err := discoveryClient.ServerVersion()
	if err != nil {
		t.Fatalf("GET /version through Config: %v", err)
	}
	if server.GitVersion != want {
		t.Errorf("API server version = %q, want %q as pinned in hack/tools/go.mod", server.GitVersion, want)
	}

	// kubectl is checked through the kubeconfig file, as crddemo and the
	// demo use it, and for its own stamped version.
	var stderr bytes.Buffer
	kubectl := cp.Kubectl(ctx, "version", "--output=json")
	kubectl.Stderr = &stderr
	out, err := kubectl.Output()
	if err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, stderr.String())
	}
	var versions struct {
		ClientVersion struct{ GitVersion string }
		ServerVersion struct{ GitVersion string }
	}
	if err := json.Unmarshal(out, &versions); err != nil {
		t.Fatalf("parsing kubectl version output %q: %v", out, err)
	}
	if versions.ClientVersion.GitVersion != want || versions.ServerVersion.GitVersion != want {
		t.Errorf("kubectl version: client %q, server %q; want %q for both",
			versions.ClientVersion.GitVersion, versions.ServerVersion.GitVersion, want)
	}

	running := processesMentioning(t, cp.dir)
	if len(running) != 2 {
		t.Errorf("want etcd and kube-apiserver running with %s in their arguments, found %q", cp.dir, running)
	}

	if err := cp.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := cp.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if left := processesMentioning(t, cp.dir); len(left) > 0 {
		t.Errorf("processes left running after Stop: %q", left)
	}
	if _, err := os.Stat(cp.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp dir %s after Stop: want it removed, Stat says %v", cp.dir, err)
	}
}

func TestRepoRootFromPackageDir(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if root != want {
		t.Errorf("RepoRoot() = %s, want %s", root, want)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	var tail tailBuffer
	line := strings.Repeat("x", 100) + "\n"
	for range 2 * logTail / len(line) {
		_, _ = tail.Write([]byte(line))
	}
	_, _ = tail.Write([]byte("the last line\n"))
	if len(tail.buf) != logTail {
		t.Errorf("kept %d bytes, want %d", len(tail.buf), logTail)
	}
	if got := tail.describe("etcd"); !strings.HasSuffix(got, "\tthe last line") {
		t.Errorf("describe ends with %q, want the last line written", got[len(got)-40:])
	}
}

// pinnedKubernetesVersion reads the version that the control plane must
// report from hack/tools/go.mod, so that no test repeats it.
func pinnedKubernetesVersion(t *testing.T) string {
	t.Helper()
	tools := parseGoMod(t, "hack/tools/go.mod")
	for _, req := range tools.Require {
		if req.Mod.Path == "k8s.io/kubernetes" {
			return req.Mod.Version
		}
	}
	t.Fatalf("hack/tools/go.mod requires no k8s.io/kubernetes")
	return ""
}

// parseGoMod parses the go.mod at path, relative to the repository root.
func parseGoMod(t *testing.T, path string) *modfile.File {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	file, err := modfile.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// processesMentioning returns the command lines of the processes that have
// text in their arguments, as etcd and kube-apiserver have the control
// plane's temp dir. It reads /proc, and skips the test where there is none.
func processesMentioning(t *testing.T, text string) []string {
	t.Helper()
	cmdlines, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil || len(cmdlines) == 0 {
		t.Skip("no /proc to look for leftover processes in")
	}
	var found []string
	for _, path := range cmdlines {
		cmdline, err := os.ReadFile(path)
		if err != nil { // the process has exited since the Glob
			continue
		}
		if args := string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})); strings.Contains(args, text) {
			found = append(found, args)
		}
	}
	return found
}
