package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/domac/crddemo/internal/image"
)

// These tests run what make image runs: go build of crddemo, and the image
// around it. The first build on a machine compiles every dependency again
// for -trimpath and CGO_ENABLED=0, which takes minutes; Go's build cache
// makes every later one a link of a few seconds.

// buildTimeout bounds one build, a cold one on a busy 2-core machine
// included.
const buildTimeout = 20 * time.Minute

const (
	testVersion  = "v9.8.7-test"
	testRevision = "0123456789abcdef0123456789abcdef01234567"
)

// first is the image that the first test to need one builds, for the
// others to read; TestMain removes its directory.
var first struct {
	once    sync.Once
	dir     string
	archive string
	digest  v1.Hash
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if first.dir != "" {
		os.RemoveAll(first.dir)
	}
	os.Exit(code)
}

// buildImage runs the whole build into output, as make image would.
func buildImage(t *testing.T, output string) (v1.Hash, error) {
	t.Helper()
	opts, err := parseOptions([]string{"--version=" + testVersion, "--output=" + output,
		"--created=1764918000", "--revision=" + testRevision}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	var progress bytes.Buffer
	start := time.Now()
	digest, err := build(ctx, opts, &progress)
	t.Logf("built %s in %v: %s\n%s", output, time.Since(start).Round(time.Millisecond), digest, progress.String())
	return digest, err
}

// firstImage is the archive and digest of the first build.
func firstImage(t *testing.T) (string, v1.Hash) {
	t.Helper()
	first.once.Do(func() {
		first.dir, first.err = os.MkdirTemp("", "crddemo-image-test-")
		if first.err != nil {
			return
		}
		first.archive = filepath.Join(first.dir, "crddemo.tar")
		first.digest, first.err = buildImage(t, first.archive)
	})
	if first.err != nil {
		t.Fatalf("building the image: %v", first.err)
	}
	return first.archive, first.digest
}

// TestImageIsReproducible builds the image twice from the same sources, as
// make image does twice for one commit: the digests, and the archives'
// bytes, must be the same.
func TestImageIsReproducible(t *testing.T) {
	archive, digest := firstImage(t)
	again := filepath.Join(t.TempDir(), "again.tar")
	digestAgain, err := buildImage(t, again)
	if err != nil {
		t.Fatalf("building the image again: %v", err)
	}
	if digestAgain != digest {
		t.Errorf("two builds of one commit: digests %s and %s", digest, digestAgain)
	}
	if a, b := fileHash(t, archive), fileHash(t, again); a != b {
		t.Errorf("two builds of one commit: archives with sha256 %x and %x", a, b)
	}
}

// TestImageRunsAsDeployExpects reads the built archive back and checks what
// deploy/deployment.yaml relies on: user 65532:65532, /crddemo as the
// entrypoint, and a static binary that reports the version built.
func TestImageRunsAsDeployExpects(t *testing.T) {
	archive, digest := firstImage(t)
	img := readArchive(t, archive, digest)
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	if c.User != "65532:65532" || !slices.Equal(c.Entrypoint, []string{"/crddemo"}) ||
		cfg.OS != "linux" || cfg.Architecture != runtime.GOARCH {
		t.Errorf("user %q, entrypoint %q, platform %s/%s; want 65532:65532, [/crddemo], linux/%s",
			c.User, c.Entrypoint, cfg.OS, cfg.Architecture, runtime.GOARCH)
	}
	if c.Labels["org.opencontainers.image.version"] != testVersion || c.Labels["org.opencontainers.image.revision"] != testRevision {
		t.Errorf("labels %v, want version %s and revision %s", c.Labels, testVersion, testRevision)
	}

	binary := filepath.Join(t.TempDir(), "crddemo")
	if err := os.WriteFile(binary, imageFile(t, img, "crddemo"), 0o755); err != nil {
		t.Fatal(err)
	}
	assertStatic(t, binary)

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "--version").Output()
	if err != nil {
		t.Fatalf("running the image's binary with --version: %v", err)
	}
	want := "crddemo " + testVersion + " ("
	if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "linux/"+runtime.GOARCH) {
		t.Errorf("the image's crddemo --version = %q, want %q... linux/%s", out, want, runtime.GOARCH)
	}
}

// TestArchiveLoadsIntoPodman loads the built archive with podman load, into
// a store of the test's own, and checks the name, digest, user and
// entrypoint that Podman sees. Podman needs no engine running, but it needs
// installing (apt-get install podman): without it the test skips.
func TestArchiveLoadsIntoPodman(t *testing.T) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (apt-get install podman), so the archive is not loaded into it")
	}
	archive, digest := firstImage(t)
	store := t.TempDir()
	// vfs rather than overlay: nothing is mounted that would outlive the
	// test's directory.
	global := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"),
		"--tmpdir", filepath.Join(store, "tmp"), "--storage-driver", "vfs", "--events-backend", "none"}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, podman, append(global, "load", "-i", archive)...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman load -i %s: %v\n%s", archive, err, out)
	}
	name := "docker.io/library/crddemo:" + testVersion
	if !strings.Contains(string(out), "Loaded image: "+name+"\n") {
		t.Errorf("podman load says %q, want that it loaded %s", out, name)
	}
	out, err = exec.CommandContext(ctx, podman, append(global, "image", "inspect",
		"--format", "{{.Digest}} {{.Config.User}} {{.Config.Entrypoint}}", name)...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman image inspect %s: %v\n%s", name, err, out)
	}
	if got, want := strings.TrimSpace(string(out)), digest.String()+" 65532:65532 [/crddemo]"; got != want {
		t.Errorf("podman sees %q, want %q", got, want)
	}
}

// TestArchiveImportsIntoContainerd imports the built archive with ctr images
// import into a containerd of the test's own, the way an image reaches a
// kubelet's runtime without a registry, and checks that containerd stores it
// under the full name the kubelet asks for when a pod says crddemo:TAG. It
// skips unless containerd and ctr are installed (apt-get install containerd)
// and the test runs as root, which containerd needs.
func TestArchiveImportsIntoContainerd(t *testing.T) {
	containerd, err := exec.LookPath("containerd")
	if err != nil {
		t.Skip("containerd is not installed (apt-get install containerd), so the archive is not imported into it")
	}
	ctr, err := exec.LookPath("ctr")
	if err != nil {
		t.Skip("ctr is not installed (apt-get install containerd), so the archive is not imported into containerd")
	}
	if os.Geteuid() != 0 {
		t.Skip("containerd runs as root only, and the test does not")
	}
	archive, digest := firstImage(t)

	dir := t.TempDir()
	socket := filepath.Join(dir, "containerd.sock")
	// Everything in dir, and no CRI plugin: this containerd serves no
	// kubelet, and must not touch the machine's own.
	config := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
[debug]
  address = %[5]q
[plugins."io.containerd.internal.v1.opt"]
  path = %[6]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), socket, socket+".ttrpc",
		filepath.Join(dir, "debug.sock"), filepath.Join(dir, "opt"))
	configFile := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "containerd.log")
	logs, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	daemonLog := func() string {
		data, _ := os.ReadFile(logFile)
		return string(data)
	}
	daemon := exec.Command(containerd, "--config", configFile)
	daemon.Stdout, daemon.Stderr = logs, logs
	if err := daemon.Start(); err != nil {
		t.Fatalf("starting containerd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- daemon.Wait() }()
	t.Cleanup(func() {
		daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			daemon.Process.Kill()
			<-exited
		}
	})

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	run := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, ctr, append([]string{"--address", socket, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
		return string(out), err
	}
	for {
		if _, err := run("version"); err == nil {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("containerd exited before it served: %v\n%s", err, daemonLog())
		case <-ctx.Done():
			t.Fatalf("containerd did not serve on %s within 2 minutes:\n%s", socket, daemonLog())
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The native snapshotter unpacks by copying, so that no overlay mount
	// outlives the test.
	if out, err := run("images", "import", "--snapshotter", "native", archive); err != nil {
		t.Fatalf("ctr images import %s: %v\n%s", archive, err, out)
	}
	name := "docker.io/library/crddemo:" + testVersion
	out, err := run("images", "list", "name=="+name)
	if err != nil {
		t.Fatalf("ctr images list: %v\n%s", err, out)
	}
	if !strings.Contains(out, name+" ") || !strings.Contains(out, " "+digest.String()+" ") {
		t.Errorf("containerd lists, for %s:\n%s\nwant the image %s", name, out, digest)
	}
}

// TestWriteArchiveReplacesTheFile checks that the archive appears whole or
// not at all: written beside its path and renamed, readable by all, with no
// temporary file left, and that a path it cannot write is one error that
// names it.
func TestWriteArchiveReplacesTheFile(t *testing.T) {
	img, err := image.Build(image.Spec{Binary: []byte("binary"), Architecture: "amd64", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := image.ParseReference("crddemo:v1")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "releases")
	path := filepath.Join(dir, "crddemo-v1.tar")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("an older archive"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeArchive(path, img, ref); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 || info.Size() < 1024 {
		t.Errorf("%s: mode %v, %d bytes; want 0644 and the archive", path, info.Mode().Perm(), info.Size())
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%s holds %d files, want the archive alone", dir, len(entries))
	}

	blocked := filepath.Join(path, "crddemo.tar") // a directory that is a file
	err = writeArchive(blocked, img, ref)
	if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
		t.Errorf("writeArchive(%s) = %v, want one line that names %s", blocked, err, path)
	}
}

// readArchive reads the image from the archive's OCI layout, and checks that
// it is the one the build reported.
func readArchive(t *testing.T, archive string, digest v1.Hash) v1.Image {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", archive, err)
		}
		target := filepath.Join(dir, filepath.FromSlash(hdr.Name))
		if hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		out, err := os.Create(target)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	index, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading %s as an OCI layout: %v", archive, err)
	}
	img, err := index.Image(digest)
	if err != nil {
		t.Fatalf("the archive has no image %s: %v", digest, err)
	}
	return img
}

// imageFile is the content of one file of the image's file system.
func imageFile(t *testing.T, img v1.Image, name string) []byte {
	t.Helper()
	fsys := mutate.Extract(img)
	defer fsys.Close()
	tr := tar.NewReader(fsys)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("looking for %s in the image: %v", name, err)
		}
		if hdr.Name == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

// assertStatic fails unless the binary is an ELF executable that needs no
// dynamic loader and no shared library, which the image has not, and is
// stripped.
func assertStatic(t *testing.T, binary string) {
	t.Helper()
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatalf("the image's binary is not ELF: %v", err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC {
		t.Errorf("the image's binary is of ELF type %v, want a static executable (%v)", f.Type, elf.ET_EXEC)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the image's binary has a %v program header: it is dynamically linked", p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("the image's binary needs shared libraries %q (%v)", libs, err)
	}
	// -s -w: no symbol table and no DWARF, which a container never reads.
	for _, name := range []string{".symtab", ".debug_info"} {
		if f.Section(name) != nil {
			t.Errorf("the image's binary has a %s section: it was not built with -ldflags -s -w", name)
		}
	}
}

// fileHash is the sha256 of a file.
func fileHash(t *testing.T, path string) [sha256.Size]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}
