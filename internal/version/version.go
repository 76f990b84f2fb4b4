// Package version says which build of crddemo is running, for
// `crddemo --version` and for the first log line: the release, the client-go
// it talks to the API server with, and the Go toolchain and platform.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is the release, set when building a release with
//
//	-ldflags "-X github.com/domac/crddemo/internal/version.version=v1.2.3"
//
// The default marks a developer's build, which has no release number.
var version = "v0.0.0-dev"

// clientGoModule is the module whose version Info reports, since API server
// compatibility depends on it more than on anything else linked in.
const clientGoModule = "k8s.io/client-go"

// Info describes the running binary.
type Info struct {
	// Version is crddemo's release, such as v1.2.3.
	Version string
	// ClientGo is the version of the k8s.io/client-go module linked in, or
	// "unknown" when the binary carries no module information.
	ClientGo string
	// Go is the version of the Go toolchain that built the binary.
	Go string
	// Platform is the operating system and architecture, such as linux/amd64.
	Platform string
}

// Get describes the running binary.
func Get() Info {
	buildInfo, _ := debug.ReadBuildInfo() // nil when built without module support
	return Info{
		Version:  version,
		ClientGo: moduleVersion(buildInfo, clientGoModule),
		Go:       runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// String gives the one line that `crddemo --version` prints, such as
// "crddemo v1.2.3 (client-go v0.37.2, go1.26.8, linux/amd64)".
func (i Info) String() string {
	return fmt.Sprintf("crddemo %s (client-go %s, %s, %s)", i.Version, i.ClientGo, i.Go, i.Platform)
}
