package harness

import (
	"github.com/domac/crddemo/internal/process"
)

// Crddemo is the crddemo binary running as a child process, with its probes
// and metrics on loopback ports of its own.
type Crddemo struct {
	*process.Process
	// Probes and Metrics are the host:port of its /healthz and /readyz, and
	// of its /metrics.
	Probes, Metrics string
}

// StartCrddemo runs the crddemo binary with args, serving its probes and
// metrics on free loopback ports, so that several never collide on the
// default :8081. The metrics are plain HTTP (--metrics-secure=false), for a
// scrape without a token; args come after these flags, and so win.
func StartCrddemo(binary string, args []string, opts process.Options) (*Crddemo, error) {
	probes, err := FreeLocalAddress()
	if err != nil {
		return nil, err
	}
	metrics, err := FreeLocalAddress()
	if err != nil {
		return nil, err
	}
	args = append([]string{"--health-probe-bind-address=" + probes, "--metrics-bind-address=" + metrics,
		"--metrics-secure=false"}, args...)
	p, err := process.Start(binary, args, opts)
	if err != nil {
		return nil, err
	}
	return &Crddemo{Process: p, Probes: probes, Metrics: metrics}, nil
}
