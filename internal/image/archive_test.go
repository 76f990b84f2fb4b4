package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// writeTestArchive builds testSpec's image and writes its archive, named
// ref, into a file.
func writeTestArchive(t *testing.T, ref string) (v1.Image, string) {
	t.Helper()
	img, err := Build(testSpec())
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "image.tar")
	var buf bytes.Buffer
	if err := WriteArchive(&buf, img, r); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return img, path
}

// untar unpacks an archive into a directory, as a reader of OCI layouts
// wants it.
func untar(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestArchiveIsAnOCILayout reads the archive as Podman and containerd do:
// an OCI layout whose index names the image, for containerd by its full
// name, so that the kubelet, which asks for docker.io/library/crddemo:TAG
// when a pod says crddemo:TAG, finds it.
func TestArchiveIsAnOCILayout(t *testing.T) {
	img, archive := writeTestArchive(t, "crddemo:v1.2.3")
	index, err := layout.ImageIndexFromPath(untar(t, archive))
	if err != nil {
		t.Fatalf("reading the archive as an OCI layout: %v", err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1", len(manifest.Manifests))
	}
	desc := manifest.Manifests[0]
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest != want {
		t.Errorf("index.json names manifest %s, want the image's %s", desc.Digest, want)
	}
	if got := desc.Annotations["io.containerd.image.name"]; got != "docker.io/library/crddemo:v1.2.3" {
		t.Errorf("io.containerd.image.name = %q, want docker.io/library/crddemo:v1.2.3", got)
	}
	if got := desc.Annotations["org.opencontainers.image.ref.name"]; got != "crddemo:v1.2.3" {
		t.Errorf("org.opencontainers.image.ref.name = %q, want crddemo:v1.2.3", got)
	}
	if desc.ArtifactType != "" {
		t.Errorf("index.json's entry has artifactType %q, which OCI keeps for artifacts", desc.ArtifactType)
	}
	if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != "arm64" {
		t.Errorf("index.json's platform = %+v, want linux/arm64", desc.Platform)
	}
	read, err := index.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := read.Digest(); err != nil || got != want {
		t.Errorf("the layout's image has digest %s (%v), want %s", got, err, want)
	}
}

// TestArchiveIsADockerArchive reads the archive as docker load does, from
// manifest.json: the same config and layer, tagged with the name given.
func TestArchiveIsADockerArchive(t *testing.T) {
	img, archive := writeTestArchive(t, "crddemo:v1.2.3")
	tag, err := name.NewTag("crddemo:v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	read, err := tarball.ImageFromPath(archive, &tag)
	if err != nil {
		t.Fatalf("reading the archive as docker load does: %v", err)
	}
	for _, c := range []struct {
		what string
		get  func(v1.Image) (string, error)
	}{
		{"config", func(i v1.Image) (string, error) { h, err := i.ConfigName(); return h.String(), err }},
		{"layers", func(i v1.Image) (string, error) {
			layers, err := i.Layers()
			if err != nil {
				return "", err
			}
			var digests []string
			for _, l := range layers {
				d, err := l.Digest()
				if err != nil {
					return "", err
				}
				digests = append(digests, d.String())
			}
			return strings.Join(digests, " "), nil
		}},
	} {
		got, err := c.get(read)
		if err != nil {
			t.Fatalf("the docker archive's %s: %v", c.what, err)
		}
		want, err := c.get(img)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("the docker archive's %s = %s, want %s", c.what, got, want)
		}
	}
}

func TestArchiveEntries(t *testing.T) {
	_, archive := writeTestArchive(t, "crddemo:v1.2.3")
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	var docker []dockerManifest
	for _, e := range readTar(t, f) {
		names = append(names, e.name)
		if e.uid != 0 || e.gid != 0 || e.names != "" || !e.modTime.Equal(time.Unix(0, 0)) || !e.accessTime.IsZero() {
			t.Errorf("%s: owner %d:%d %q, mtime %v, atime %v; want root without names, 1970 and none",
				e.name, e.uid, e.gid, e.names, e.modTime, e.accessTime)
		}
		if e.name == "manifest.json" {
			if err := json.Unmarshal([]byte(e.data), &docker); err != nil {
				t.Fatalf("manifest.json: %v", err)
			}
		}
		if e.name == "oci-layout" && e.data != `{"imageLayoutVersion":"1.0.0"}` {
			t.Errorf("oci-layout = %s", e.data)
		}
	}
	// blobs/, blobs/sha256/, the layer, the config, the manifest, then the
	// files that point at them.
	if len(names) != 8 || !slices.Equal(names[:2], []string{"blobs/", "blobs/sha256/"}) ||
		!slices.Equal(names[5:], []string{"index.json", "manifest.json", "oci-layout"}) {
		t.Errorf("the archive holds %q", names)
	}
	if len(docker) != 1 || !slices.Equal(docker[0].RepoTags, []string{"crddemo:v1.2.3"}) ||
		docker[0].Config != names[3] || !slices.Equal(docker[0].Layers, names[2:3]) {
		t.Errorf("manifest.json = %+v, want crddemo:v1.2.3 with config %s and layer %s", docker, names[3], names[2])
	}
}

func TestArchiveIsReproducible(t *testing.T) {
	_, first := writeTestArchive(t, "crddemo:v1.2.3")
	_, second := writeTestArchive(t, "crddemo:v1.2.3")
	a, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("two archives of one image differ (%d and %d bytes)", len(a), len(b))
	}
}
