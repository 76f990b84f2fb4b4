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
	r.addPhase("cold", 1000, 5*time.Second, 0, &phaseUsage{CPUSeconds: 1.25, APIRequests: 2001, PeakRSSBytes: 31 << 20})
	r.addPhase("update", 1000, 10*time.Second, 4*time.Second, &phaseUsage{CPUSeconds: 2, APIRequests: 2000, PeakRSSBytes: 32 << 20})
	r.Crddemo = &totals{CPUSeconds: 1.5, PeakRSSBytes: 32 << 20, APIRequests: 2004,
		APIRequestsByMethod: map[string]int{"PUT": 1000, "GET": 4, "POST": 1000}, SigtermToExitSeconds: 0.12}
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
		decoded.Crddemo.APIRequestsByMethod["POST"] != 1000 || decoded.Audit.Lost != 0 || decoded.Error != "" {
		t.Errorf("the JSON line decodes to %+v", decoded)
	}
}

func TestWriteReportOfAFailedRun(t *testing.T) {
	// The control plane did not start: no phase, no crddemo, no audit.
	r := &result{N: 10, CPUs: 2, Error: "starting etcd: no such file"}
	r.finish()
	var out strings.Builder
	if err := writeReport(&out, r); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"crddemo flags: (its defaults)", "objects lost: unknown", `"error":"starting etcd: no such file"`} {
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
