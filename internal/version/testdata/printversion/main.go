// Command printversion prints what `crddemo --version` prints. The version
// package's tests build it with -ldflags -X, as the Makefile and hack/image
// build crddemo, to check that a release number set that way shows.
package main

import (
	"fmt"

	// Linking one small client-go package puts client-go in the binary's
	// build information, as it is in crddemo's.
	_ "k8s.io/client-go/pkg/version"

	"github.com/domac/crddemo/internal/version"
)

func main() {
	fmt.Println(version.Get())
}
