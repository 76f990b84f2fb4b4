package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const (
	// mainPackage is crddemo's main package, which go build finds from any
	// directory of the module.
	mainPackage = "github.com/domac/crddemo"
	// versionVariable is what the Makefile's VERSION_LDFLAGS set too.
	versionVariable = "github.com/domac/crddemo/internal/version.version"
)

// buildArgs are go build's arguments for the image's binary: -trimpath keeps
// the build machine's paths out of it, so that two machines build the same
// bytes; -s -w drop the symbol table and DWARF, which a container never
// reads; -X stamps the version that crddemo --version reports.
func buildArgs(version, output string) []string {
	return []string{"build", "-trimpath",
		"-ldflags", "-s -w -X " + versionVariable + "=" + version,
		"-o", output, mainPackage}
}

// buildEnv makes the binary static, for linux on arch: without cgo the Go
// runtime needs no C library, and the image has none.
func buildEnv(arch string) []string {
	return []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch}
}

// buildBinary builds crddemo into dir and returns its bytes, saying on
// progress what it runs.
func buildBinary(ctx context.Context, dir string, opts options, progress io.Writer) ([]byte, error) {
	output := filepath.Join(dir, "crddemo")
	args := buildArgs(opts.version, output)
	env := buildEnv(opts.arch)
	fmt.Fprintf(progress, "%s go %s\n", strings.Join(env, " "), quoteArgs(args))
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = progress
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build of %s: %w\n%s", mainPackage, err, strings.TrimSpace(stderr.String()))
	}
	binary, err := os.ReadFile(output)
	if err != nil {
		return nil, fmt.Errorf("reading the binary go build wrote: %w", err)
	}
	return binary, nil
}

// quoteArgs joins args for a shell, quoting those with spaces.
func quoteArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") {
			a = "'" + a + "'"
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}
