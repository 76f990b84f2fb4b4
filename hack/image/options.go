package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"time"

	"github.com/domac/crddemo/internal/image"
)

// options are the program's command line.
type options struct {
	version  string
	ref      image.Reference
	output   string
	revision string
	source   string
	created  time.Time
	arch     string
}

// versionPattern is what a version may hold: what git describe prints, and
// semver's + for build metadata. It goes into -ldflags, which splits at
// spaces, and into labels and file names.
var versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*$`)

// parseOptions parses the flags; a mistake is one line naming the flag.
func parseOptions(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	// Quiet while parsing, so that a mistake is the one line that main
	// prints rather than that line and the whole usage.
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.version, "version", "", "the release to stamp into the binary and label the image with, such as v1.2.3 (required)")
	tag := fs.String("tag", "", "the image's name and tag (default crddemo:VERSION)")
	fs.StringVar(&o.output, "output", "", "the archive to write (default releases/crddemo-VERSION.tar)")
	fs.StringVar(&o.revision, "revision", "", "the commit built, for the org.opencontainers.image.revision label")
	fs.StringVar(&o.source, "source", "https://github.com/domac/crddemo", "the repository, for the org.opencontainers.image.source label")
	created := fs.Int64("created", 0, "the image's creation time and its files' mtime, in seconds since 1970, such as the commit's time (git log -1 --format=%ct)")
	fs.StringVar(&o.arch, "arch", runtime.GOARCH, "the GOARCH to build the binary for")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: go run ./hack/image --version=VERSION [flags]\n\nBuilds crddemo's container image into an archive that docker load, podman load and ctr images import read.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(output)
			fs.Usage()
		}
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: every setting is a flag", fs.Arg(0))
	}
	if o.version == "" {
		return options{}, errors.New("--version is required, such as --version=v1.2.3 (make image passes git describe)")
	}
	if !versionPattern.MatchString(o.version) {
		return options{}, fmt.Errorf("--version=%q: use letters, digits and . _ + - only", o.version)
	}
	if *created < 0 {
		return options{}, fmt.Errorf("--created=%d: the time must be 0 or later", *created)
	}
	o.created = time.Unix(*created, 0).UTC()
	if *tag == "" {
		*tag = "crddemo:" + o.version
	}
	ref, err := image.ParseReference(*tag)
	if err != nil {
		return options{}, fmt.Errorf("--tag: %w", err)
	}
	o.ref = ref
	if o.output == "" {
		o.output = "releases/crddemo-" + o.version + ".tar"
	}
	if o.arch == "" {
		return options{}, errors.New("--arch is empty: name a GOARCH such as amd64")
	}
	return o, nil
}
