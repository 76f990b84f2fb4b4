package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/process"
)

// stopGrace is how long crddemo gets to exit after SIGTERM before the bench
// kills it. crddemo bounds a sync to 30 s, so a graceful stop fits.
const stopGrace = 45 * time.Second

// crddemoProcess is the crddemo binary the bench runs and measures.
type crddemoProcess struct {
	proc    *process.Process
	metrics string // its --metrics-bind-address
}

// startCrddemo runs the crddemo binary at path against kubeconfig, with
// flags after the bench's own.
func startCrddemo(path, kubeconfig string, flags []string) (*crddemoProcess, error) {
	c, err := harness.StartCrddemo(path, append([]string{"--kubeconfig=" + kubeconfig}, flags...), process.Options{})
	if err != nil {
		return nil, err
	}
	return &crddemoProcess{proc: c.Process, metrics: c.Metrics}, nil
}

// usage is what crddemo has used so far.
type usage struct {
	procStats
	// requests counts its API requests by HTTP method; failed counts those
	// that got no 2xx answer (or none at all).
	requests map[string]int
	failed   int
	// shardsOwned and cached are crddemo_shards_owned and the sum of
	// crddemo_shard_cached_objects: 0 when crddemo runs without --shards,
	// which exports neither.
	shardsOwned int
	cached      int
}

// total is the number of API requests.
func (u usage) total() int {
	var n int
	for _, count := range u.requests {
		n += count
	}
	return n
}

// usage reads crddemo's CPU time and peak RSS from /proc, and its API
// requests from its /metrics (client-go's rest_client_requests_total).
func (c *crddemoProcess) usage(ctx context.Context) (usage, error) {
	stats, err := readProcStats(c.proc.PID())
	if err != nil {
		return usage{}, err
	}
	m, err := harness.Scrape(ctx, c.metrics)
	if err != nil {
		return usage{}, err
	}
	u := usage{procStats: stats, requests: map[string]int{}}
	for method, n := range m.SumBy("rest_client_requests_total", "method") {
		u.requests[method] = int(n)
	}
	for code, n := range m.SumBy("rest_client_requests_total", "code") {
		if !strings.HasPrefix(code, "2") {
			u.failed += int(n)
		}
	}
	u.shardsOwned = int(m.Sum("crddemo_shards_owned", nil))
	u.cached = int(m.Sum("crddemo_shard_cached_objects", nil))
	return u, nil
}

// stop sends crddemo SIGTERM and returns how long it took to exit, and how.
func (c *crddemoProcess) stop() (time.Duration, *os.ProcessState) {
	started := time.Now()
	state := c.proc.Stop(stopGrace)
	return time.Since(started), state
}

// whileRunning returns a context that is also cancelled, with the end of
// crddemo's output as the cause, if crddemo exits: a phase then fails at
// once rather than at its timeout.
func (c *crddemoProcess) whileRunning(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-c.proc.Exited():
			cancel(fmt.Errorf("crddemo exited (%v); its last output:\n%s", c.proc.State(), c.tail()))
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// tail is the end of crddemo's output, for an error report.
func (c *crddemoProcess) tail() string {
	lines := strings.Split(c.proc.Output(), "\n")
	return "\t" + strings.Join(lines[max(0, len(lines)-20):], "\n\t")
}
