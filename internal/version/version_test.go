package version

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestGetDescribesThisBinary(t *testing.T) {
	buildInfo, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary carries no build information")
	}
	want := Info{
		Version:  "v0.0.0-dev",
		ClientGo: moduleVersion(buildInfo, "k8s.io/client-go"),
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if got := Get(); got != want {
		t.Errorf("Get() = %+v, want %+v", got, want)
	}
}

func TestString(t *testing.T) {
	info := Info{Version: "v1.2.3", ClientGo: "v0.37.2", Go: "go1.26.8", Platform: "linux/amd64"}
	want := "crddemo v1.2.3 (client-go v0.37.2, go1.26.8, linux/amd64)"
	if got := info.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestReleaseIsSetAtBuildTime builds a program that prints Get() with the
// same -X flag as the Makefile, so that renaming the variable or moving the
// package breaks this test rather than silently printing v0.0.0-dev.
func TestReleaseIsSetAtBuildTime(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	binary := filepath.Join(t.TempDir(), "printversion")
	build := exec.CommandContext(ctx, "go", "build", "-o", binary,
		"-ldflags", "-X github.com/domac/crddemo/internal/version.version=v1.2.3",
		"./testdata/printversion")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building testdata/printversion: %v\n%s", err, out)
	}
	clientGo, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", "k8s.io/client-go").Output()
	if err != nil {
		t.Fatalf("asking go list for the client-go version: %v", err)
	}

	out, err := exec.CommandContext(ctx, binary).Output()
	if err != nil {
		t.Fatalf("running printversion: %v", err)
	}
	want := "crddemo v1.2.3 (client-go " + strings.TrimSpace(string(clientGo)) + ", " +
		runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if string(out) != want {
		t.Errorf("printversion printed %q, want %q", out, want)
	}
}
