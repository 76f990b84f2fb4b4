package controlplane_test

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

	"k8s.io/client-go/discovery"

	"github.com/domac/crddemo/internal/controlplane"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

func TestStartServesPinnedVersionAndStopCleansUp(t *testing.T) {
	testcontrolplane.RequireOrSkip(t)
	want, err := controlplane.PinnedKubernetesVersion()
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cp, err := controlplane.Start(ctx)
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

	running := processesMentioning(t, cp.Dir())
	if len(running) != 2 {
		t.Errorf("want etcd and kube-apiserver running with %s in their arguments, found %q", cp.Dir(), running)
	}

	if err := cp.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := cp.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if left := processesMentioning(t, cp.Dir()); len(left) > 0 {
		t.Errorf("processes left running after Stop: %q", left)
	}
	if _, err := os.Stat(cp.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp dir %s after Stop: want it removed, Stat says %v", cp.Dir(), err)
	}
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
