package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The account files name the user the image runs as, so that tools that map
// a uid to a name (ps, id, Go's os/user) find one; nothing in crddemo needs
// them. The home directory is / because the image has no other.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/:/sbin/nologin\n"
	group = "root:x:0:\n" +
		"nonroot:x:65532:\n"
)

// layerFile is one entry of the image's only layer.
type layerFile struct {
	name string
	mode int64
	dir  bool
	data []byte
}

// layerFiles are the layer's entries, in the order they are written: the
// binary, and the account files under etc/. Everything belongs to root, so
// that the user the image runs as can change none of it.
func layerFiles(binary []byte) []layerFile {
	return []layerFile{
		{name: BinaryPath[1:], mode: 0o755, data: binary},
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
	}
}

// layerTar writes the layer's files as a tar stream in which nothing but the
// files' contents can differ between two builds: a fixed order, mtimes of
// modTime, owner root and no user or group names, in the ustar format, which
// has no access or change times.
func layerTar(binary []byte, modTime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range layerFiles(binary) {
		hdr := &tar.Header{
			Name:     f.name,
			Mode:     f.mode,
			Typeflag: tar.TypeReg,
			Size:     int64(len(f.data)),
			ModTime:  modTime,
			Format:   tar.FormatUSTAR,
		}
		if f.dir {
			hdr.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("writing the tar header of %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("writing %s into the layer: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("closing the layer's tar stream: %w", err)
	}
	return buf.Bytes(), nil
}

// newLayer is the image's only layer, gzip-compressed as registries and
// runtimes expect; Go's gzip writes no name or time into its header, so the
// compressed bytes are as reproducible as the tar stream.
func newLayer(binary []byte, modTime time.Time) (v1.Layer, error) {
	tarStream, err := layerTar(binary, modTime)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarStream)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("compressing the layer: %w", err)
	}
	return layer, nil
}
