//go:build linux

package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/image"
)

const (
	// probeImage is the test image: test/e2e/probe, the node's sandbox
	// image and the ephemeral container that looks inside crddemo's pods.
	probeImage = "crddemo.test/e2e-probe:v1"
	// deployedImage is the name test/e2e/overlay gives crddemo's image,
	// crddemo:e2e, as the kubelet asks containerd for it.
	deployedImage = "docker.io/library/crddemo:e2e"
)

// buildProbeImage builds test/e2e/probe as a static binary and writes an
// image of it, probeImage, to archive: the binary alone on an empty base, as
// its entrypoint, run as crddemo's image's user, so that from a pod it can
// read crddemo's entries in /proc.
func buildProbeImage(ctx context.Context, dir, archive string) error {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return err
	}
	binary := filepath.Join(dir, "e2e-probe")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", binary, "./test/e2e/probe")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building test/e2e/probe: %w\n%s", err, out)
	}
	content, err := os.ReadFile(binary)
	if err != nil {
		return err
	}
	entrypoint := "/" + filepath.Base(binary)
	layer, err := binaryLayer(entrypoint, content)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return fmt.Errorf("assembling image %s: %w", probeImage, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("assembling image %s: %w", probeImage, err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Config = v1.Config{Entrypoint: []string{entrypoint}, User: image.User, WorkingDir: "/"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return fmt.Errorf("assembling image %s: %w", probeImage, err)
	}
	tag, err := name.NewTag(probeImage)
	if err != nil {
		return fmt.Errorf("image reference %q: %w", probeImage, err)
	}
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		return fmt.Errorf("writing image %s to %s: %w", probeImage, archive, err)
	}
	return nil
}

// binaryLayer is a layer holding one executable file at path.
func binaryLayer(path string, content []byte) (v1.Layer, error) {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	if err := w.WriteHeader(&tar.Header{Name: path[1:], Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := w.Write(content); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}
