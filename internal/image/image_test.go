package image

import (
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testSpec is a complete Spec with a binary that is only bytes: the image
// does not look inside it.
func testSpec() Spec {
	return Spec{
		Binary:       []byte("\x7fELF not really"),
		Architecture: "arm64",
		Version:      "v1.2.3",
		Revision:     "0123456789abcdef0123456789abcdef01234567",
		Source:       "https://github.com/domac/crddemo",
		Created:      time.Date(2026, 12, 5, 7, 0, 0, 500, time.FixedZone("CET", 3600)),
	}
}

func TestBuildConfig(t *testing.T) {
	img, err := Build(testSpec())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	if cfg.OS != "linux" || cfg.Architecture != "arm64" || !cfg.Created.Time.Equal(created) {
		t.Errorf("os %q, architecture %q, created %v; want linux, arm64, %v", cfg.OS, cfg.Architecture, cfg.Created.Time, created)
	}
	c := cfg.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/crddemo"}) || len(c.Cmd) != 0 || c.WorkingDir != "/" {
		t.Errorf("user %q, entrypoint %q, cmd %q, working dir %q; want 65532:65532, [/crddemo], none, /",
			c.User, c.Entrypoint, c.Cmd, c.WorkingDir)
	}
	if len(c.Env) != 0 || len(c.ExposedPorts) != 0 || len(c.Volumes) != 0 {
		t.Errorf("env %q, ports %v, volumes %v; want none: the Deployment sets what crddemo needs", c.Env, c.ExposedPorts, c.Volumes)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.title":    "crddemo",
		"org.opencontainers.image.version":  "v1.2.3",
		"org.opencontainers.image.revision": "0123456789abcdef0123456789abcdef01234567",
		"org.opencontainers.image.source":   "https://github.com/domac/crddemo",
		"org.opencontainers.image.created":  "2026-12-05T06:00:00Z",
	}
	if len(c.Labels) != len(wantLabels) {
		t.Errorf("labels %v, want %v", c.Labels, wantLabels)
	}
	for k, v := range wantLabels {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if len(cfg.History) != 1 || !cfg.History[0].Created.Time.Equal(created) {
		t.Errorf("history %+v, want one entry created at %v", cfg.History, created)
	}

	manifest, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if manifest.MediaType != types.OCIManifestSchema1 || manifest.Config.MediaType != types.OCIConfigJSON ||
		len(manifest.Layers) != 1 || manifest.Layers[0].MediaType != types.OCILayer {
		t.Errorf("manifest %+v, want an OCI manifest, config and one gzip layer", manifest)
	}
}

func TestBuildLeavesOutEmptyLabels(t *testing.T) {
	spec := testSpec()
	spec.Revision, spec.Source = "", ""
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"org.opencontainers.image.revision", "org.opencontainers.image.source"} {
		if v, ok := cfg.Config.Labels[k]; ok {
			t.Errorf("label %s = %q, want none when it is not known", k, v)
		}
	}
}

// TestBuildFileSystem reads the files of the image as a runtime unpacks
// them: the binary at the entrypoint, executable, and the account files.
func TestBuildFileSystem(t *testing.T) {
	spec := testSpec()
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	fsys := mutate.Extract(img)
	defer fsys.Close()
	// Extract cleans names, as a runtime does: etc/ becomes etc.
	var names []string
	for _, e := range readTar(t, fsys) {
		names = append(names, e.name)
		if e.name == strings.TrimPrefix(BinaryPath, "/") && (e.data != string(spec.Binary) || e.mode != 0o755) {
			t.Errorf("%s: mode %o, %d bytes; want 755 and the binary's %d bytes", e.name, e.mode, len(e.data), len(spec.Binary))
		}
		if e.uid != 0 || e.gid != 0 {
			t.Errorf("%s belongs to %d:%d, want root, which the image's user is not", e.name, e.uid, e.gid)
		}
	}
	if want := []string{"crddemo", "etc", "etc/group", "etc/passwd"}; !slices.Equal(names, want) {
		t.Errorf("the image holds %q, want %q", names, want)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	digest := func(spec Spec) v1.Hash {
		t.Helper()
		img, err := Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := digest(testSpec())
	if again := digest(testSpec()); again != first {
		t.Errorf("two builds of one spec: digests %s and %s", first, again)
	}
	later := testSpec()
	later.Created = later.Created.Add(time.Hour)
	if d := digest(later); d == first {
		t.Errorf("an image created an hour later has the same digest %s", d)
	}
}

func TestBuildRefusesAnIncompleteSpec(t *testing.T) {
	for _, c := range []struct {
		change func(*Spec)
		want   string
	}{
		{func(s *Spec) { s.Binary = nil }, "no binary"},
		{func(s *Spec) { s.Architecture = "" }, "architecture"},
		{func(s *Spec) { s.Version = "" }, "version"},
	} {
		spec := testSpec()
		c.change(&spec)
		if _, err := Build(spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build = %v, want an error about the %s", err, c.want)
		}
	}
}
