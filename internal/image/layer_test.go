package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// tarEntry is what a test checks of one tar entry.
type tarEntry struct {
	name     string
	typeflag byte
	mode     int64
	uid, gid int
	// names are the owner's user and group names, which must be empty.
	names string
	// modTime is the only time an entry may carry.
	modTime, accessTime, changeTime time.Time
	data                            string
}

// readTar lists a tar stream's entries.
func readTar(t *testing.T, stream io.Reader) []tarEntry {
	t.Helper()
	var entries []tarEntry
	tr := tar.NewReader(stream)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		}
		if err != nil {
			t.Fatalf("reading the tar stream: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s from the tar stream: %v", hdr.Name, err)
		}
		entries = append(entries, tarEntry{
			name: hdr.Name, typeflag: hdr.Typeflag, mode: hdr.Mode, uid: hdr.Uid, gid: hdr.Gid,
			names: hdr.Uname + hdr.Gname, modTime: hdr.ModTime.UTC(), accessTime: hdr.AccessTime, changeTime: hdr.ChangeTime,
			data: string(data),
		})
	}
}

func TestLayerTarHoldsTheBinaryAndTheAccounts(t *testing.T) {
	modTime := time.Unix(1_700_000_000, 0).UTC()
	stream, err := layerTar([]byte("binary"), modTime)
	if err != nil {
		t.Fatal(err)
	}
	want := []tarEntry{
		{name: "crddemo", typeflag: tar.TypeReg, mode: 0o755, modTime: modTime, data: "binary"},
		{name: "etc/", typeflag: tar.TypeDir, mode: 0o755, modTime: modTime},
		{name: "etc/group", typeflag: tar.TypeReg, mode: 0o644, modTime: modTime, data: group},
		{name: "etc/passwd", typeflag: tar.TypeReg, mode: 0o644, modTime: modTime, data: passwd},
	}
	got := readTar(t, bytes.NewReader(stream))
	if len(got) != len(want) {
		t.Fatalf("the layer holds %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestAccountsNameTheImageUser holds /etc/passwd and /etc/group to User, so
// that the uid the image runs as is the one they call nonroot.
func TestAccountsNameTheImageUser(t *testing.T) {
	uid, gid, _ := strings.Cut(User, ":")
	if !strings.Contains(passwd, "\nnonroot:x:"+uid+":"+gid+":") {
		t.Errorf("/etc/passwd has no nonroot entry for %s:\n%s", User, passwd)
	}
	if !strings.Contains(group, "\nnonroot:x:"+gid+":") {
		t.Errorf("/etc/group has no nonroot entry for gid %s:\n%s", gid, group)
	}
}

func TestNewLayerIsReproducible(t *testing.T) {
	modTime := time.Unix(1_700_000_000, 0)
	binary := bytes.Repeat([]byte("crddemo"), 100_000)
	digest := func(binary []byte, modTime time.Time) string {
		t.Helper()
		layer, err := newLayer(binary, modTime)
		if err != nil {
			t.Fatal(err)
		}
		d, err := layer.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	first := digest(binary, modTime)
	if again := digest(binary, modTime); again != first {
		t.Errorf("two layers of the same binary and time: digests %s and %s", first, again)
	}
	// The time and the binary are all that change the layer.
	if later := digest(binary, modTime.Add(time.Second)); later == first {
		t.Errorf("a layer a second later has the same digest %s", first)
	}
	if other := digest(append(binary, '!'), modTime); other == first {
		t.Errorf("a layer of another binary has the same digest %s", first)
	}
}
