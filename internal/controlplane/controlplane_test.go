package controlplane

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRepoRootFromPackageDir(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if root != want {
		t.Errorf("RepoRoot() = %s, want %s", root, want)
	}
}

func TestTailBufferKeepsTheEnd(t *testing.T) {
	var tail tailBuffer
	line := strings.Repeat("x", 100) + "\n"
	for range 2 * logTail / len(line) {
		_, _ = tail.Write([]byte(line))
	}
	_, _ = tail.Write([]byte("the last line\n"))
	if len(tail.buf) != logTail {
		t.Errorf("kept %d bytes, want %d", len(tail.buf), logTail)
	}
	if got := tail.describe("etcd"); !strings.HasSuffix(got, "\tthe last line") {
		t.Errorf("describe ends with %q, want the last line written", got[len(got)-40:])
	}
}
