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
	CPUs       int     `json:"cpus"`
	LoadBefore float64 `json:"load_average_before"`
	LoadAfter  float64 `json:"load_average_after"`
	// ReplicaCount crddemo processes shared Shards shards, with the API
	// server's ShardedListAndWatch gate as ShardedListAndWatch says and
	// their Leases timed as LeaderElection says; 1 and 1 is crddemo
	// without --shards.
	ReplicaCount        int    `json:"replica_count"`
	Shards              int    `json:"shards"`
	ShardedListAndWatch bool   `json:"sharded_list_and_watch"`
	LeaderElection      string `json:"leader_election,omitempty"`
	// ShardsOwnedSeconds is how long after the bench freed the shards'
	// Leases, at the start of the cold phase, the replicas owned them all.
	ShardsOwnedSeconds float64 `json:"shards_owned_seconds,omitempty"`
	Phases             []phase `json:"phases"`
	// Backlog is what the backlog phase measured, during the cold phase.
	Backlog *backlogResult `json:"backlog,omitempty"`
	// Crddemo is the replicas' totals together; Replicas each one's.
	Crddemo  *totals  `json:"crddemo,omitempty"`
	Replicas []totals `json:"replicas"`
	Audit    *audited `json:"audit,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// fleet reports whether crddemo ran as replicas sharing shards.
func (r *result) fleet() bool {
	return r.ReplicaCount > 1 || r.Shards > 1
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
	// Crddemo is what crddemo used during the phase, all replicas together;
	// nil for the limit phases, which run without it. Replicas is what each
	// one used.
	Crddemo  *phaseUsage  `json:"crddemo,omitempty"`
	Replicas []phaseUsage `json:"replicas,omitempty"`
}

// phaseUsage is what crddemo used in one phase. The cold phase includes its
// start: connecting, listing, filling its cache.
type phaseUsage struct {
	CPUSeconds  float64 `json:"cpu_seconds"`
	APIRequests int     `json:"api_requests"`
	// PeakRSSBytes is the peak so far, at the end of the phase; of
	// several replicas, the largest one's.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// ShardsOwned and ObjectsCached are as the phase ends: the shards
	// owned (none without --shards) and the Mydemos in their caches.
	ShardsOwned   int `json:"shards_owned,omitempty"`
	ObjectsCached int `json:"objects_cached"`
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

// totals is what a crddemo replica used over its whole run, and how it
// stopped; or, summed by sumTotals, all of them.
type totals struct {
	CPUSeconds float64 `json:"cpu_seconds"`
	// PeakRSSBytes is, of several replicas, the largest one's.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
	// IdlePeakRSSBytes is a replica's peak RSS once it had started and
	// before it owned a shard, with nothing cached: what PeakRSSBytes
	// grew from. 0 without --shards, where caching starts at once.
	IdlePeakRSSBytes int64 `json:"idle_peak_rss_bytes,omitempty"`
	// MemoryLimitMinMiB is the least memory limit that deploy/ may give
	// crddemo for this run's N: the peak RSS with sizing.Headroom. The
	// peak covers the burst phase, which leaves crddemo caching 2N
	// Mydemos, shared between the replicas.
	MemoryLimitMinMiB int64 `json:"memory_limit_min_mib"`
	// ShardsOwned and ObjectsCached are as crddemo stopped.
	ShardsOwned          int            `json:"shards_owned,omitempty"`
	ObjectsCached        int            `json:"objects_cached"`
	APIRequests          int            `json:"api_requests"`
	APIRequestsByMethod  map[string]int `json:"api_requests_by_method"`
	FailedAPIRequests    int            `json:"failed_api_requests"`
	SigtermToExitSeconds float64        `json:"sigterm_to_exit_seconds"`
	ExitCode             int            `json:"exit_code"`
}

// addPhase records a phase that synced objects in took, of which the
// bench's own writes took writes; used is what each replica used, none for
// the limit phases.
func (r *result) addPhase(name string, objects int, took, writes time.Duration, used []phaseUsage) {
	p := phase{
		Name:             name,
		Objects:          objects,
		Seconds:          took.Seconds(),
		WritesSeconds:    writes.Seconds(),
		ObjectsPerSecond: ratio(float64(objects), took.Seconds()),
		Replicas:         used,
	}
	if len(used) > 0 {
		p.Crddemo = &phaseUsage{}
		for _, u := range used {
			p.Crddemo.CPUSeconds += u.CPUSeconds
			p.Crddemo.APIRequests += u.APIRequests
			p.Crddemo.PeakRSSBytes = max(p.Crddemo.PeakRSSBytes, u.PeakRSSBytes)
			p.Crddemo.ShardsOwned += u.ShardsOwned
			p.Crddemo.ObjectsCached += u.ObjectsCached
		}
	}
	r.Phases = append(r.Phases, p)
}

// sumTotals adds the replicas' totals up: the peak RSS is the largest,
// as is the time to exit, since they were stopped at once; the exit code
// is the first that is not 0.
func sumTotals(replicas []totals) *totals {
	sum := &totals{APIRequestsByMethod: map[string]int{}}
	for _, t := range replicas {
		sum.CPUSeconds += t.CPUSeconds
		sum.PeakRSSBytes = max(sum.PeakRSSBytes, t.PeakRSSBytes)
		sum.ShardsOwned += t.ShardsOwned
		sum.ObjectsCached += t.ObjectsCached
		sum.APIRequests += t.APIRequests
		for method, n := range t.APIRequestsByMethod {
			sum.APIRequestsByMethod[method] += n
		}
		sum.FailedAPIRequests += t.FailedAPIRequests
		sum.SigtermToExitSeconds = max(sum.SigtermToExitSeconds, t.SigtermToExitSeconds)
		if sum.ExitCode == 0 {
			sum.ExitCode = t.ExitCode
		}
	}
	return sum
}

// finish sets each phase's ratio to the limit, and the memory limit that
// each replica's peak calls for, once every phase is in.
func (r *result) finish() {
	if r.Crddemo != nil {
		r.Crddemo.MemoryLimitMinMiB = sizing.MinMemoryLimitMiB(r.Crddemo.PeakRSSBytes)
	}
	for i := range r.Replicas {
		r.Replicas[i].MemoryLimitMinMiB = sizing.MinMemoryLimitMiB(r.Replicas[i].PeakRSSBytes)
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

// writeReport prints r: a header, the table of phases, each replica's
// share of them if there are several or shards, crddemo's totals, the cost
// of listing everything, the objects lost, then r as JSON on a line of its
// own after "RESULT ".
func writeReport(w io.Writer, r *result) error {
	flags := strings.Join(r.CrddemoFlags, " ")
	if flags == "" {
		flags = "(its defaults)"
	}
	fmt.Fprintf(w, "N=%d, crddemo flags: %s\n", r.N, flags)
	if r.fleet() {
		gate := "on"
		if !r.ShardedListAndWatch {
			gate = "off: each shard filters every Mydemo itself"
		}
		fmt.Fprintf(w, "%d replicas of crddemo --leader-elect --shards=%d (%s), ShardedListAndWatch %s; all shards owned %.2f s after the bench freed them\n",
			r.ReplicaCount, r.Shards, r.LeaderElection, gate, r.ShardsOwnedSeconds)
	}
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
	if r.Backlog != nil {
		fmt.Fprintln(w, describeBacklog(r.Backlog, r.N))
	}
	fmt.Fprintln(w)
	if r.fleet() {
		writeReplicaPhases(w, r)
	}

	if c := r.Crddemo; c != nil {
		if !r.fleet() {
			fmt.Fprintf(w, "crddemo: %s\n", describeTotals(c))
			fmt.Fprintf(w, "deploy/ memory limit must be at least %d MiB: crddemo's peak RSS + %.0f %%, at N=%d (the burst leaves %d cached)\n",
				c.MemoryLimitMinMiB, (sizing.Headroom-1)*100, r.N, 2*r.N)
		} else {
			fmt.Fprintf(w, "crddemo, %d replicas together (peak RSS: the largest; SIGTERM to exit: the slowest): %s\n",
				len(r.Replicas), describeTotals(c))
			fullest := 0
			for i, t := range r.Replicas {
				fmt.Fprintf(w, "replica %d: shards %d, objects cached %d, idle peak RSS %s MiB, %s\n",
					i+1, t.ShardsOwned, t.ObjectsCached, mebibytes(t.IdlePeakRSSBytes), describeTotals(&t))
				fullest = max(fullest, t.ObjectsCached)
			}
			fmt.Fprintf(w, "deploy/ memory limit must be at least %d MiB per replica: the largest replica's peak RSS + %.0f %%, "+
				"at N=%d over %d replicas of %d shards (the burst leaves %d of %d cached in the fullest)\n",
				c.MemoryLimitMinMiB, (sizing.Headroom-1)*100, r.N, len(r.Replicas), r.Shards, fullest, 2*r.N)
		}
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

// writeReplicaPhases prints what each replica had and used in each phase
// that crddemo ran in.
func writeReplicaPhases(w io.Writer, r *result) {
	row := func(cells ...any) {
		fmt.Fprintf(w, "%-8s %-8s %6s %15s %14s %13s %13s\n", cells...)
	}
	row("replica", "phase", "shards", "objects cached", "crddemo CPU s", "API requests", "peak RSS MiB")
	for i := range r.ReplicaCount {
		for _, p := range r.Phases {
			if i >= len(p.Replicas) {
				continue
			}
			u := p.Replicas[i]
			row(fmt.Sprint(i+1), p.Name, fmt.Sprint(u.ShardsOwned), fmt.Sprint(u.ObjectsCached),
				fmt.Sprintf("%.2f", u.CPUSeconds), fmt.Sprint(u.APIRequests), mebibytes(u.PeakRSSBytes))
		}
	}
	fmt.Fprintln(w)
}

// describeTotals is one line of what t says.
func describeTotals(t *totals) string {
	var methods []string
	for _, method := range slices.Sorted(maps.Keys(t.APIRequestsByMethod)) {
		methods = append(methods, fmt.Sprintf("%s %d", method, t.APIRequestsByMethod[method]))
	}
	return fmt.Sprintf("peak RSS %s MiB, CPU %.2f s, API requests %d (%s; %d failed), SIGTERM to exit %.3f s (exit code %d)",
		mebibytes(t.PeakRSSBytes), t.CPUSeconds, t.APIRequests, strings.Join(methods, ", "), t.FailedAPIRequests,
		t.SigtermToExitSeconds, t.ExitCode)
}

func mebibytes(bytes int64) string {
	return fmt.Sprintf("%.1f", float64(bytes)/(1<<20))
}
