package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// options are the bench's command line.
type options struct {
	n       int
	crddemo string
	// crddemoFlags are passed to crddemo after the flags the bench sets.
	crddemoFlags []string
	timeout      time.Duration
}

// reservedFlags are crddemo's flags that the bench sets itself: it runs
// crddemo against its own control plane, and scrapes its /metrics on a port
// it chose, over plain HTTP without a token. Health probes get a free port
// too, so that two benches, or a crddemo someone else runs on this machine,
// never collide on :8081.
var reservedFlags = []string{"kubeconfig", "master", "metrics-bind-address", "metrics-secure", "health-probe-bind-address"}

// parseOptions parses the bench's flags. crddemo's own flags come from
// repeated --crddemo-flag, and from whatever follows a "--".
func parseOptions(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() {
		fmt.Fprintln(output, `Usage: go run ./hack/bench [flags] [-- crddemo flags]

Starts a control plane, measures how fast the API server accepts the writes
crddemo must make for N objects, then runs crddemo on N objects (cold start,
update, burst of new ones) and prints how close it comes.

Flags:`)
		fs.PrintDefaults()
	}
	fs.IntVar(&o.n, "n", 1000, "objects per phase")
	fs.StringVar(&o.crddemo, "crddemo", "releases/crddemo", "path of the crddemo binary to run")
	fs.Func("crddemo-flag", "a flag for crddemo, such as --crddemo-flag=--workers=16 (repeatable)", func(value string) error {
		o.crddemoFlags = append(o.crddemoFlags, value)
		return nil
	})
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "longest each phase may take, its untimed setup included, before the bench gives up")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.crddemoFlags = append(o.crddemoFlags, fs.Args()...)
	return o, o.validate()
}

func (o options) validate() error {
	if o.n < 1 {
		return fmt.Errorf("--n=%d: need at least one object", o.n)
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout=%v: must be positive", o.timeout)
	}
	for _, f := range o.crddemoFlags {
		if !strings.HasPrefix(f, "-") {
			return fmt.Errorf("crddemo flag %q: not a flag (crddemo takes no arguments)", f)
		}
		name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		for _, reserved := range reservedFlags {
			if name == reserved {
				return fmt.Errorf("crddemo flag %q: the bench sets --%s itself", f, reserved)
			}
		}
	}
	return nil
}
