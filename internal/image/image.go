// Package image assembles crddemo's container image in the process that
// calls it, so that building the image needs neither Docker nor a registry:
// an empty base, one layer with the static binary, the user and entrypoint
// that deploy/ expects, and nothing that differs between two builds of one
// commit. archive.go writes it as a tarball that Docker, Podman and
// containerd load.
package image

import (
	"errors"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// BinaryPath is where the binary lies in the image, and its entrypoint.
	BinaryPath = "/crddemo"
	// User is the uid:gid the image runs as: not root, and the one that
	// deploy/deployment.yaml asks for and the image's /etc/passwd calls
	// nonroot.
	User = "65532:65532"
)

// Spec is what goes into the image.
type Spec struct {
	// Binary is the crddemo executable. It must be static: the image has no
	// C library and no dynamic loader.
	Binary []byte
	// Architecture is the GOARCH it was built for, such as amd64.
	Architecture string
	// Version is the release stamped into the binary, and a label.
	Version string
	// Revision is the commit it was built from, a label if not empty.
	Revision string
	// Source is the repository's URL, a label if not empty.
	Source string
	// Created is the time the image says it was made, and the mtime of its
	// files: the commit's time rather than the clock's, so that a rebuild
	// gives the same digest.
	Created time.Time
}

// Build assembles the image that spec describes.
func Build(spec Spec) (v1.Image, error) {
	if len(spec.Binary) == 0 {
		return nil, errors.New("no binary to put into the image")
	}
	if spec.Architecture == "" {
		return nil, errors.New("the binary's architecture is not set")
	}
	if spec.Version == "" {
		return nil, errors.New("the image's version is not set")
	}
	created := spec.Created.UTC().Truncate(time.Second)
	layer, err := newLayer(spec.Binary, created)
	if err != nil {
		return nil, err
	}
	// OCI media types rather than empty.Image's Docker ones: both Docker
	// and Podman load them, and the OCI layout that holds them asks for them.
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History: v1.History{
			Created:   v1.Time{Time: created},
			CreatedBy: "go run ./hack/image",
			Comment:   "crddemo " + spec.Version + ", static, on an empty base",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("adding the layer to an empty image: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the image's config: %w", err)
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture = spec.Architecture
	cfg.OS = "linux"
	cfg.Created = v1.Time{Time: created}
	cfg.Config = v1.Config{
		User:       User,
		Entrypoint: []string{BinaryPath},
		WorkingDir: "/",
		Labels:     labels(spec, created),
	}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, fmt.Errorf("setting the image's config: %w", err)
	}
	return img, nil
}

// labels are the OCI annotation keys that tools show about an image, set as
// the image's labels.
func labels(spec Spec, created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":   "crddemo",
		"org.opencontainers.image.version": spec.Version,
		"org.opencontainers.image.created": created.Format(time.RFC3339),
	}
	if spec.Revision != "" {
		l["org.opencontainers.image.revision"] = spec.Revision
	}
	if spec.Source != "" {
		l["org.opencontainers.image.source"] = spec.Source
	}
	return l
}
