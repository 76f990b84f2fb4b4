package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The annotations on index.json's entry that name the image: containerd
// stores it under io.containerd.image.name, which must be the full name
// that the kubelet asks for, and Podman 4.3 takes that name too; the OCI
// one, which the spec defines, is what Podman falls back to.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

// ociLayout marks a directory, or here a tar stream, as an OCI image layout.
const ociLayout = `{"imageLayoutVersion":"1.0.0"}`

// dockerManifest is one entry of a docker save archive's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// WriteArchive writes img, named ref, as one tar stream that is at the same
// time an OCI image layout (oci-layout, index.json and blobs/sha256/) and,
// through a manifest.json that points at the same blobs, a docker save
// archive: docker save writes this pair itself since Docker 25. Older
// Docker engines read only manifest.json; containerd's import (ctr images
// import, which the kubelet's runtime uses) and Podman read the OCI layout.
// Every entry has a fixed mtime and owner, and the entries a fixed order, so
// that one image always gives the same bytes.
func WriteArchive(w io.Writer, img v1.Image, ref Reference) error {
	manifest, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("reading the image's manifest: %w", err)
	}
	manifestDigest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("hashing the image's manifest: %w", err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("reading the image's config: %w", err)
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		return fmt.Errorf("hashing the image's config: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("listing the image's layers: %w", err)
	}
	index, err := indexJSON(img, ref)
	if err != nil {
		return err
	}
	docker, err := dockerManifestJSON(configDigest, layers, ref)
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(archiveHeader(dir, tar.TypeDir, 0)); err != nil {
			return fmt.Errorf("writing %s into the archive: %w", dir, err)
		}
	}
	for _, layer := range layers {
		if err := writeLayerBlob(tw, layer); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{blobPath(configDigest), config},
		{blobPath(manifestDigest), manifest},
		{"index.json", index},
		{"manifest.json", docker},
		{"oci-layout", []byte(ociLayout)},
	} {
		if err := writeArchiveFile(tw, f.name, bytes.NewReader(f.data), int64(len(f.data))); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finishing the archive: %w", err)
	}
	return nil
}

// indexJSON is the OCI layout's index.json: one entry, for img, that names
// it.
func indexJSON(img v1.Image, ref Reference) ([]byte, error) {
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("hashing the image's manifest: %w", err)
	}
	size, err := img.Size()
	if err != nil {
		return nil, fmt.Errorf("sizing the image's manifest: %w", err)
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return nil, fmt.Errorf("reading the image's media type: %w", err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("parsing the image's config: %w", err)
	}
	// Written out rather than through mutate.AppendManifests, which would
	// also set artifactType to the config's media type: a field that OCI
	// keeps for artifacts, not images.
	index, err := json.Marshal(v1.IndexManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIImageIndex,
		Manifests: []v1.Descriptor{{
			MediaType: mediaType,
			Size:      size,
			Digest:    digest,
			Platform:  &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture},
			Annotations: map[string]string{
				annotationContainerdName: ref.FullName(),
				annotationRefName:        ref.String(),
			},
		}},
	})
	if err != nil {
		return nil, fmt.Errorf("making index.json: %w", err)
	}
	return index, nil
}

// dockerManifestJSON is docker save's manifest.json: the config and layers,
// by their paths in the OCI layout, and the name.
func dockerManifestJSON(config v1.Hash, layers []v1.Layer, ref Reference) ([]byte, error) {
	docker := dockerManifest{Config: blobPath(config), RepoTags: []string{ref.String()}}
	for _, layer := range layers {
		digest, err := layer.Digest()
		if err != nil {
			return nil, fmt.Errorf("hashing a layer: %w", err)
		}
		docker.Layers = append(docker.Layers, blobPath(digest))
	}
	data, err := json.Marshal([]dockerManifest{docker})
	if err != nil {
		return nil, fmt.Errorf("making manifest.json: %w", err)
	}
	return data, nil
}

// blobPath is where the OCI layout keeps the blob with this digest.
func blobPath(digest v1.Hash) string {
	return "blobs/" + digest.Algorithm + "/" + digest.Hex
}

// writeLayerBlob copies a layer's compressed bytes into the archive.
func writeLayerBlob(tw *tar.Writer, layer v1.Layer) error {
	digest, err := layer.Digest()
	if err != nil {
		return fmt.Errorf("hashing a layer: %w", err)
	}
	size, err := layer.Size()
	if err != nil {
		return fmt.Errorf("sizing layer %s: %w", digest, err)
	}
	blob, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("reading layer %s: %w", digest, err)
	}
	defer blob.Close()
	return writeArchiveFile(tw, blobPath(digest), blob, size)
}

// writeArchiveFile writes one regular file of size bytes into the archive.
func writeArchiveFile(tw *tar.Writer, name string, r io.Reader, size int64) error {
	if err := tw.WriteHeader(archiveHeader(name, tar.TypeReg, size)); err != nil {
		return fmt.Errorf("writing %s into the archive: %w", name, err)
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("writing %s into the archive: %w", name, err)
	}
	return nil
}

// archiveHeader is an entry's header: owned by root, dated 1970, so that
// who built the archive, and when, is never part of it.
func archiveHeader(name string, typeflag byte, size int64) *tar.Header {
	mode := int64(0o644)
	if typeflag == tar.TypeDir {
		mode = 0o755
	}
	return &tar.Header{
		Name:     name,
		Typeflag: typeflag,
		Mode:     mode,
		Size:     size,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatUSTAR,
	}
}
