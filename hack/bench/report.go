package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/domac/crddemo/internal/sizing"
)

// limitPhase is the phase the others are compared with: the API server's
// floor for what crddemo writes, the way crddemo writes it today.
const limitPhase = "limit"

// result is everything one run measured. It is printed as a table, then as
// one JSON line for comparing runs.
type result struct {
	N            int      `json:"n"`
	CrddemoFlags []string `json:"crddemo_flags"`
	// CPUs and the load averages before and after say how busy the machine
	// was: on a shared machine, only ratios within one run compare.
	CPUs       int      `json:"cpus"`
	LoadBefore float64  `json:"load_average_before"`
	LoadAfter  float64  `json:"load_average_after"`
	Phases     []phase  `json:"phases"`
	Crddemo    *totals  `json:"crddemo,omitempty"`
	Audit      *audited `json:"audit,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// phase is one timed phase.
type phase struct {
	Name    string  `json:"name"`
	Objects int     `json:"objects"`
	Seconds float64 `json:"seconds"`
	// WritesSeconds is how long the bench's own writes that start the
	// phase (the update's patches, the burst's creates) took to be
	// accepted, crddemo's competing writes and all: part of Seconds, and
	// a floor under it.
	WritesSeconds    float64 `json:"writes_seconds,omitempty"`
	RatioToLimit     float64 `json:"ratio_to_limit"`
	ObjectsPerSecond float64 `json:"objects_per_second"`
	// Crddemo is what crddemo used during the phase; nil for the limit
	// phases, which run without it.
	Crddemo *phaseUsage `json:"crddemo,omitempty"`
}

// phaseUsage is what crddemo used in one phase. The cold phase includes its
// start: connecting, listing, filling its cache.
type phaseUsage struct {
	CPUSeconds  float64 `json:"cpu_seconds"`
	APIRequests int     `json:"api_requests"`
	// PeakRSSBytes is the peak so far, at the end of the phase.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// audited is what the audit after the run found (audit.go); nil if the run
// stopped before there was anything to audit, or the audit failed.
type audited struct {
	// Lost counts the objects that never got their status or an event.
	Lost        int   `json:"lost"`
	ExtraEvents int64 `json:"extra_events"`
	// ListSeconds is how long one list of every Mydemo and Synced event
	// took: what each poll would cost if the bench polled.
	ListSeconds float64 `json:"list_all_seconds"`
}

// totals is what crddemo used over its whole run, and how it stopped.
type totals struct {
	CPUSeconds   float64 `json:"cpu_seconds"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	// MemoryLimitMinMiB is the least memory limit that deploy/ may give
	// crddemo for this run's N: the peak RSS with sizing.Headroom. The
	// peak covers the burst phase, which leaves crddemo caching 2N
	// Mydemos.
	MemoryLimitMinMiB    int64          `json:"memory_limit_min_mib"`
	APIRequests          int            `json:"api_requests"`
	APIRequestsByMethod  map[string]int `json:"api_requests_by_method"`
	FailedAPIRequests    int            `json:"failed_api_requests"`
	SigtermToExitSeconds float64        `json:"sigterm_to_exit_seconds"`
	ExitCode             int            `json:"exit_code"`
}

// addPhase records a phase that synced objects in took, of which the
// bench's own writes took writes; used is nil for the limit phases.
func (r *result) addPhase(name string, objects int, took, writes time.Duration, used *phaseUsage) {
	r.Phases = append(r.Phases, phase{
		Name:             name,
		Objects:          objects,
		Seconds:          took.Seconds(),
		WritesSeconds:    writes.Seconds(),
		ObjectsPerSecond: ratio(float64(objects), took.Seconds()),
		Crddemo:          used,
	})
}

// finish sets each phase's ratio to the limit, and the memory limit that
// crddemo's peak calls for, once every phase is in.
func (r *result) finish() {
	if r.Crddemo != nil {
		r.Crddemo.MemoryLimitMinMiB = sizing.MinMemoryLimitMiB(r.Crddemo.PeakRSSBytes)
	}
	var limit float64
	for _, p := range r.Phases {
		if p.Name == limitPhase {
			limit = p.Seconds
		}
	}
	for i := range r.Phases {
		r.Phases[i].RatioToLimit = ratio(r.Phases[i].Seconds, limit)
	}
}

// ratio is a / b, or 0 if b is not positive, as when there is no limit to
// compare with (JSON has no infinity).
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// writeReport prints r: a header, the table of phases, crddemo's totals, the
// cost of listing everything, the objects lost, then r as JSON on a line of
// its own after "RESULT ".
func writeReport(w io.Writer, r *result) error {
	flags := strings.Join(r.CrddemoFlags, " ")
	if flags == "" {
		flags = "(its defaults)"
	}
	fmt.Fprintf(w, "N=%d, crddemo flags: %s\n", r.N, flags)
	fmt.Fprintf(w, "machine: %d CPUs, load average %.1f before, %.1f after\n\n", r.CPUs, r.LoadBefore, r.LoadAfter)

	// The limit phases leave crddemo's columns empty: trimmed, their rows
	// end where their figures do.
	row := func(cells ...any) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("%-12s %8s %9s %8s %10s %15s %14s %13s %13s", cells...), " "))
	}
	row("phase", "objects", "seconds", "x limit", "objects/s", "bench writes s", "crddemo CPU s", "API requests", "peak RSS MiB")
	for _, p := range r.Phases {
		x := "-"
		if p.RatioToLimit > 0 {
			x = fmt.Sprintf("%.2f", p.RatioToLimit)
		}
		writes, cpu, requests, rss := "", "", "", ""
		if p.WritesSeconds > 0 {
			writes = fmt.Sprintf("%.2f", p.WritesSeconds)
		}
		if p.Crddemo != nil {
			cpu = fmt.Sprintf("%.2f", p.Crddemo.CPUSeconds)
			requests = fmt.Sprint(p.Crddemo.APIRequests)
			rss = mebibytes(p.Crddemo.PeakRSSBytes)
		}
		row(p.Name, fmt.Sprint(p.Objects), fmt.Sprintf("%.2f", p.Seconds), x,
			fmt.Sprintf("%.0f", p.ObjectsPerSecond), writes, cpu, requests, rss)
	}
	fmt.Fprintln(w)

	if c := r.Crddemo; c != nil {
		var methods []string
		for _, method := range slices.Sorted(maps.Keys(c.APIRequestsByMethod)) {
			methods = append(methods, fmt.Sprintf("%s %d", method, c.APIRequestsByMethod[method]))
		}
		fmt.Fprintf(w, "crddemo: peak RSS %s MiB, CPU %.2f s, API requests %d (%s; %d failed), SIGTERM to exit %.3f s (exit code %d)\n",
			mebibytes(c.PeakRSSBytes), c.CPUSeconds, c.APIRequests, strings.Join(methods, ", "), c.FailedAPIRequests,
			c.SigtermToExitSeconds, c.ExitCode)
		fmt.Fprintf(w, "deploy/ memory limit must be at least %d MiB: crddemo's peak RSS + %.0f %%, at N=%d (the burst leaves %d cached)\n",
			c.MemoryLimitMinMiB, (sizing.Headroom-1)*100, r.N, 2*r.N)
	}
	if a := r.Audit; a != nil {
		fmt.Fprintf(w, "one list of every Mydemo and Synced event (what one poll would cost): %.2f s\n", a.ListSeconds)
		fmt.Fprintf(w, "objects lost: %d (extra Synced events: %d)\n", a.Lost, a.ExtraEvents)
	} else {
		fmt.Fprintln(w, "objects lost: unknown (nothing was audited)")
	}

	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the result as JSON: %w", err)
	}
	_, err = fmt.Fprintf(w, "RESULT %s\n", line)
	return err
}

func mebibytes(bytes int64) string {
	return fmt.Sprintf("%.1f", float64(bytes)/(1<<20))
}
