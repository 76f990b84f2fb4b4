package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBuildReportsGoBuildErrors checks that a go build that fails is one
// error that says what was built and carries go's own message, and that it
// leaves no archive behind.
func TestBuildReportsGoBuildErrors(t *testing.T) {
	output := filepath.Join(t.TempDir(), "crddemo.tar")
	opts, err := parseOptions([]string{"--version=v1", "--arch=nosucharch", "--output=" + output}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	_, err = build(ctx, opts, io.Discard)
	if err == nil {
		t.Fatal("building for GOARCH=nosucharch succeeded")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "go build of github.com/domac/crddemo: ") || !strings.Contains(msg, "nosucharch") {
		t.Errorf("error = %q, want one that names the go build and the architecture go refused", msg)
	}
	if _, err := os.Stat(output); !os.IsNotExist(err) {
		t.Errorf("a failed build left %s: %v", output, err)
	}
}

func TestQuoteArgs(t *testing.T) {
	got := quoteArgs([]string{"build", "-ldflags", "-s -w -X a=b", "-o", "out"})
	if want := "build -ldflags '-s -w -X a=b' -o out"; got != want {
		t.Errorf("quoteArgs = %q, want %q", got, want)
	}
}
