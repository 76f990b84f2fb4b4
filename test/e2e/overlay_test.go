//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/domac/crddemo/internal/controlplane"
)

// writeOverlay writes, under dir/base, the kustomization that make e2e
// applies: base, a directory of test/e2e, plus the ConfigMap that tells its
// pods the API server's address on the bridge, which changes at each run.
func writeOverlay(dir, base, apiserver string) (string, error) {
	host, port, err := net.SplitHostPort(apiserver)
	if err != nil {
		return "", fmt.Errorf("the API server's address %q: %w", apiserver, err)
	}
	root, err := controlplane.RepoRoot()
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, base)
	if err := os.Mkdir(overlay, 0o755); err != nil {
		return "", fmt.Errorf("creating the run's overlay: %w", err)
	}
	// kustomize takes a base by relative path only.
	rel, err := filepath.Rel(overlay, filepath.Join(root, "test", "e2e", base))
	if err != nil {
		return "", fmt.Errorf("locating test/e2e/%s from the run's overlay: %w", base, err)
	}
	kustomization := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - %s
configMapGenerator:
  - name: crddemo-e2e-apiserver
    namespace: crddemo-system
    literals:
      - host=%s
      - port=%s
    options:
      disableNameSuffixHash: true
`, rel, host, port)
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		return "", fmt.Errorf("writing the run's overlay: %w", err)
	}
	return overlay, nil
}

// kubectl runs bin/kubectl with args against the cluster and returns its
// output, failing the test if it fails.
func (c *testCluster) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.cp.Kubectl(context.Background(), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// repoPath returns the absolute path of name, relative to the repository.
func repoPath(t *testing.T, name string) string {
	t.Helper()
	root, err := controlplane.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, name)
}
