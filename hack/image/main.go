// Command image builds crddemo's container image without Docker: it builds
// a static crddemo binary (CGO_ENABLED=0, -trimpath, the version stamped)
// and puts it, in this process, on an empty base with
// github.com/google/go-containerregistry (internal/image), running as
// 65532:65532 with /crddemo as its entrypoint. It writes the image as one
// archive, releases/crddemo-VERSION.tar by default, that docker load,
// podman load and containerd's ctr images import all read.
//
// Two builds of one commit give the same image digest: Go's builds are
// reproducible with -trimpath, and the image's times come from --created
// (make image passes the commit's time) rather than from the clock.
//
// Usage, from the repository root (make image runs this with the Makefile's
// VERSION):
//
//	go run ./hack/image --version=v1.2.3 [--tag=crddemo:v1.2.3] \
//	    [--output=releases/crddemo-v1.2.3.tar] [--revision=COMMIT] [--created=SECONDS] [--arch=amd64]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/domac/crddemo/internal/image"
)

func main() {
	opts, err := parseOptions(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	digest, err := build(ctx, opts, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("Wrote %s: %s, %s\n", opts.output, opts.ref, digest)
	fmt.Printf("Load it with docker load -i %[1]s, podman load -i %[1]s, or on a node: ctr -n k8s.io images import %[1]s\n", opts.output)
}

// build builds the binary and the image, writes the archive and returns the
// image's digest, saying on progress what it runs.
func build(ctx context.Context, opts options, progress io.Writer) (v1.Hash, error) {
	dir, err := os.MkdirTemp("", "crddemo-image-")
	if err != nil {
		return v1.Hash{}, fmt.Errorf("making a directory for the binary: %w", err)
	}
	defer os.RemoveAll(dir)
	binary, err := buildBinary(ctx, dir, opts, progress)
	if err != nil {
		return v1.Hash{}, err
	}
	img, err := image.Build(image.Spec{
		Binary:       binary,
		Architecture: opts.arch,
		Version:      opts.version,
		Revision:     opts.revision,
		Source:       opts.source,
		Created:      opts.created,
	})
	if err != nil {
		return v1.Hash{}, fmt.Errorf("assembling the image: %w", err)
	}
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("hashing the image: %w", err)
	}
	if err := writeArchive(opts.output, img, opts.ref); err != nil {
		return v1.Hash{}, err
	}
	return digest, nil
}

// writeArchive writes the image's archive to a temporary file beside path
// and renames it into place, so that path is never a half-written archive
// that a loader would reject with a less clear error.
func writeArchive(path string, img v1.Image, ref image.Reference) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".crddemo-image-*.tar")
	if err != nil {
		return fmt.Errorf("creating the archive in %s: %w", dir, err)
	}
	defer os.Remove(f.Name()) // fails harmlessly once renamed
	w := bufio.NewWriterSize(f, 1<<20)
	if err := image.WriteArchive(w, img, ref); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; an archive is for others to load too.
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("making %s readable: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("moving the archive to %s: %w", path, err)
	}
	return nil
}
