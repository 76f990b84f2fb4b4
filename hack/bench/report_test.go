package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRatio(t *testing.T) {
	for _, c := range []struct{ a, b, want float64 }{
		{5.4, 2.7, 2}, {2.7, 2.7, 1}, {1, 0, 0}, {1, -1, 0}, {0, 3, 0},
	} {
		if got := ratio(c.a, c.b); got != c.want {
			t.Errorf("ratio(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func sampleResult() *result {
	r := &result{N: 1000, CrddemoFlags: []string{"--workers=16"}, CPUs: 2, LoadBefore: 3.42, LoadAfter: 5.1}
	r.addPhase("limit", 1000, 2500*time.Millisecond, 0, nil)
	r.addPhase("limit-patch", 1000, 2*time.Second, 0, nil)
	r.addPhase("cold", 1000, 5*time.Second, 0, []phaseUsage{{CPUSeconds: 1.25, APIRequests: 2001, PeakRSSBytes: 31 << 20, ObjectsCached: 1000}})
	r.addPhase("update", 1000, 10*time.Second, 4*time.Second, []phaseUsage{{CPUSeconds: 2, APIRequests: 2000, PeakRSSBytes: 32 << 20, ObjectsCached: 1000}})
	r.ReplicaCount, r.Shards = 1, 1
	r.Replicas = []totals{{CPUSeconds: 1.5, PeakRSSBytes: 32 << 20, APIRequests: 2004, ObjectsCached: 1000,
		APIRequestsByMethod: map[string]int{"PUT": 1000, "GET": 4, "POST": 1000}, SigtermToExitSeconds: 0.12}}
	r.Crddemo = sumTotals(r.Replicas)
	r.Audit = &audited{ListSeconds: 0.05}
	r.finish()
	return r
}

func TestFinishSetsRatiosAndRates(t *testing.T) {
	r := sampleResult()
	for i, want := range []struct{ ratio, perSecond float64 }{{1, 400}, {0.8, 500}, {2, 200}, {4, 100}} {
		if p := r.Phases[i]; p.RatioToLimit != want.ratio || p.ObjectsPerSecond != want.perSecond {
			t.Errorf("%s: ratio %v, %v objects/s; want %v and %v", p.Name, p.RatioToLimit, p.ObjectsPerSecond, want.ratio, want.perSecond)
		}
	}

	// Without a limit (it failed), there is nothing to compare with.
	r = &result{}
	r.addPhase("cold", 10, time.Second, 0, nil)
	r.finish()
	if r.Phases[0].RatioToLimit != 0 {
		t.Errorf("ratio without a limit = %v, want 0", r.Phases[0].RatioToLimit)
	}
}

func TestWriteReport(t *testing.T) {
	var out strings.Builder
	if err := writeReport(&out, sampleResult()); err != nil {
		t.Fatal(err)
	}
	want := `N=1000, crddemo flags: --workers=16
machine: 2 CPUs, load average 3.4 before, 5.1 after

phase         objects   seconds  x limit  objects/s  bench writes s  crddemo CPU s  API requests  peak RSS MiB
limit            1000      2.50     1.00        400
limit-patch      1000      2.00     0.80        500
cold             1000      5.00     2.00        200                           1.25          2001          31.0
update           1000     10.00     4.00        100            4.00           2.00          2000          32.0

crddemo: peak RSS 32.0 MiB, CPU 1.50 s, API requests 2004 (GET 4, POST 1000, PUT 1000; 0 failed), SIGTERM to exit 0.120 s (exit code 0)
deploy/ memory limit must be at least 40 MiB: crddemo's peak RSS + 25 %, at N=1000 (the burst leaves 2000 cached)
one list of every Mydemo and Synced event (what one poll would cost): 0.05 s
objects lost: 0 (extra Synced events: 0)
`
	text := out.String()
	report, jsonLine, ok := strings.Cut(text, "RESULT ")
	if !ok || report != want {
		t.Fatalf("report:\n%s\nwant:\n%s", report, want)
	}
	if strings.Count(jsonLine, "\n") != 1 || !strings.HasSuffix(jsonLine, "}\n") {
		t.Fatalf("the RESULT line is not one JSON line at the end: %q", jsonLine)
	}
	var decoded result
	if err := json.Unmarshal([]byte(jsonLine), &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.N != 1000 || len(decoded.Phases) != 4 || decoded.Phases[2].RatioToLimit != 2 ||
		decoded.Phases[0].Crddemo != nil || decoded.Phases[2].Crddemo.APIRequests != 2001 ||
		decoded.Phases[3].WritesSeconds != 4 || decoded.Crddemo.MemoryLimitMinMiB != 40 ||
		decoded.Crddemo.APIRequestsByMethod["POST"] != 1000 || decoded.Audit.Lost != 0 || decoded.Error != "" ||
		len(decoded.Replicas) != 1 || decoded.Replicas[0].MemoryLimitMinMiB != 40 || decoded.Phases[2].Replicas[0].ObjectsCached != 1000 {
		t.Errorf("the JSON line decodes to %+v", decoded)
	}
}

func TestWriteReportOfAFailedRun(t *testing.T) {
	// The control plane did not start: no phase, no crddemo, no audit.
	r := &result{N: 10, CPUs: 2, ReplicaCount: 1, Shards: 1, Replicas: []totals{}, Error: "starting etcd: no such file"}
	r.finish()
	var out strings.Builder
	if err := writeReport(&out, r); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"crddemo flags: (its defaults)", "objects lost: unknown", `"error":"starting etcd: no such file"`, `"replicas":[]`} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	for _, absent := range []string{"crddemo: peak RSS", "memory limit", "one list of every"} {
		if strings.Contains(text, absent) {
			t.Errorf("report of a run that never started crddemo has %q:\n%s", absent, text)
		}
	}
}

func TestSumTotals(t *testing.T) {
	sum := sumTotals([]totals{
		{CPUSeconds: 1, PeakRSSBytes: 40 << 20, APIRequests: 3, APIRequestsByMethod: map[string]int{"GET": 1, "POST": 2},
			FailedAPIRequests: 1, ShardsOwned: 2, ObjectsCached: 10, SigtermToExitSeconds: 0.5},
		{CPUSeconds: 2, PeakRSSBytes: 30 << 20, APIRequests: 4, APIRequestsByMethod: map[string]int{"POST": 4},
			ShardsOwned: 1, ObjectsCached: 5, SigtermToExitSeconds: 0.25, ExitCode: 1},
		{ExitCode: 2},
	})
	if sum.CPUSeconds != 3 || sum.PeakRSSBytes != 40<<20 || sum.APIRequests != 7 || sum.APIRequestsByMethod["POST"] != 6 ||
		sum.APIRequestsByMethod["GET"] != 1 || sum.FailedAPIRequests != 1 || sum.ShardsOwned != 3 || sum.ObjectsCached != 15 ||
		sum.SigtermToExitSeconds != 0.5 || sum.ExitCode != 1 {
		t.Errorf("sumTotals = %+v, want CPU 3, the largest peak and exit, requests added up and the first exit code that is not 0", sum)
	}
}

// fleetResult is a run of two replicas sharing three shards.
func fleetResult() *result {
	r := &result{N: 1000, CPUs: 2, LoadBefore: 1, LoadAfter: 2, ReplicaCount: 2, Shards: 3, ShardedListAndWatch: true,
		LeaderElection: leaderElection, ShardsOwnedSeconds: 0.75}
	r.addPhase("limit", 1000, 2*time.Second, 0, nil)
	r.addPhase("cold", 1000, 4*time.Second, 0, []phaseUsage{
		{CPUSeconds: 1, APIRequests: 1300, PeakRSSBytes: 30 << 20, ShardsOwned: 2, ObjectsCached: 660},
		{CPUSeconds: 0.5, APIRequests: 700, PeakRSSBytes: 28 << 20, ShardsOwned: 1, ObjectsCached: 340},
	})
	r.Replicas = []totals{
		{CPUSeconds: 1, PeakRSSBytes: 30 << 20, APIRequests: 1300, APIRequestsByMethod: map[string]int{"POST": 1300},
			ShardsOwned: 2, ObjectsCached: 660, SigtermToExitSeconds: 0.1, IdlePeakRSSBytes: 25 << 20},
		{CPUSeconds: 0.5, PeakRSSBytes: 28 << 20, APIRequests: 700, APIRequestsByMethod: map[string]int{"POST": 700},
			ShardsOwned: 1, ObjectsCached: 340, SigtermToExitSeconds: 0.2, IdlePeakRSSBytes: 24 << 20},
	}
	r.Crddemo = sumTotals(r.Replicas)
	r.Audit = &audited{ListSeconds: 0.05}
	r.finish()
	return r
}

func TestWriteReportOfAFleet(t *testing.T) {
	var out strings.Builder
	if err := writeReport(&out, fleetResult()); err != nil {
		t.Fatal(err)
	}
	want := `N=1000, crddemo flags: (its defaults)
2 replicas of crddemo --leader-elect --shards=3 (lease 4s, renew 2s, retry 500ms), ShardedListAndWatch on; all shards owned 0.75 s after the bench freed them
machine: 2 CPUs, load average 1.0 before, 2.0 after

phase         objects   seconds  x limit  objects/s  bench writes s  crddemo CPU s  API requests  peak RSS MiB
limit            1000      2.00     1.00        500
cold             1000      4.00     2.00        250                           1.50          2000          30.0

replica  phase    shards  objects cached  crddemo CPU s  API requests  peak RSS MiB
1        cold          2             660           1.00          1300          30.0
2        cold          1             340           0.50           700          28.0

crddemo, 2 replicas together (peak RSS: the largest; SIGTERM to exit: the slowest): peak RSS 30.0 MiB, CPU 1.50 s, API requests 2000 (POST 2000; 0 failed), SIGTERM to exit 0.200 s (exit code 0)
replica 1: shards 2, objects cached 660, idle peak RSS 25.0 MiB, peak RSS 30.0 MiB, CPU 1.00 s, API requests 1300 (POST 1300; 0 failed), SIGTERM to exit 0.100 s (exit code 0)
replica 2: shards 1, objects cached 340, idle peak RSS 24.0 MiB, peak RSS 28.0 MiB, CPU 0.50 s, API requests 700 (POST 700; 0 failed), SIGTERM to exit 0.200 s (exit code 0)
deploy/ memory limit must be at least 38 MiB per replica: the largest replica's peak RSS + 25 %, at N=1000 over 2 replicas of 3 shards (the burst leaves 660 of 2000 cached in the fullest)
one list of every Mydemo and Synced event (what one poll would cost): 0.05 s
objects lost: 0 (extra Synced events: 0)
`
	report, jsonLine, ok := strings.Cut(out.String(), "RESULT ")
	if !ok || report != want {
		t.Fatalf("report:\n%s\nwant:\n%s", report, want)
	}
	var decoded result
	if err := json.Unmarshal([]byte(jsonLine), &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.ReplicaCount != 2 || decoded.Shards != 3 || !decoded.ShardedListAndWatch || decoded.ShardsOwnedSeconds != 0.75 ||
		len(decoded.Replicas) != 2 || decoded.Replicas[1].MemoryLimitMinMiB != 35 || decoded.Replicas[0].ShardsOwned != 2 || decoded.Replicas[0].IdlePeakRSSBytes != 25<<20 ||
		len(decoded.Phases[1].Replicas) != 2 || decoded.Phases[1].Crddemo.ObjectsCached != 1000 ||
		decoded.Phases[1].Crddemo.PeakRSSBytes != 30<<20 || decoded.Crddemo.MemoryLimitMinMiB != 38 {
		t.Errorf("the JSON line decodes to %+v", decoded)
	}
}
