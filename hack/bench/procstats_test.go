package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseCPUTime(t *testing.T) {
	// A real line, with utime 1234 and stime 56 ticks, and a command name
	// that holds what would throw off a naive split.
	stat := "4242 (crd demo) (x)) S 1 4242 4242 0 -1 4194560 2811 0 0 0 1234 56 0 0 20 0 9 0 325351 1320701952 7800 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	got, err := parseCPUTime(stat)
	if want := 12*time.Second + 900*time.Millisecond; err != nil || got != want {
		t.Errorf("parseCPUTime = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"", "4242 crddemo S 1", "4242 (crddemo) S 1 2 3", "4242 (crddemo) S 1 4242 4242 0 -1 4194560 2811 0 0 0 x 56"} {
		if _, err := parseCPUTime(bad); err == nil {
			t.Errorf("parseCPUTime(%q) succeeded, want an error", bad)
		}
	}
}

func TestParsePeakRSS(t *testing.T) {
	status := "Name:\tcrddemo\nVmPeak:\t 1300000 kB\nVmHWM:\t   31948 kB\nVmRSS:\t   30000 kB\n"
	if got, err := parsePeakRSS(status); err != nil || got != 31948*1024 {
		t.Errorf("parsePeakRSS = %d, %v; want %d", got, err, 31948*1024)
	}
	for _, bad := range []string{"Name:\tcrddemo\nState:\tZ (zombie)\n", "VmHWM:\t 12 MB\n", "VmHWM:\t x kB\n"} {
		if _, err := parsePeakRSS(bad); err == nil {
			t.Errorf("parsePeakRSS(%q) succeeded, want an error", bad)
		}
	}
}

func TestReadProcStatsOfThisProcess(t *testing.T) {
	// Burn a little CPU, so that at least one tick is there to read.
	deadline := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	stats, err := readProcStats(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if stats.cpu <= 0 || stats.peakRSS < 1<<20 {
		t.Errorf("readProcStats(self) = %+v, want some CPU time and at least 1 MiB", stats)
	}
	if _, err := readProcStats(-1); err == nil || !strings.Contains(err.Error(), "process -1") {
		t.Errorf("readProcStats(-1) = %v, want an error that names the process", err)
	}
}

func TestParseLoadAverage(t *testing.T) {
	if got, err := parseLoadAverage("3.42 4.96 4.46 9/153 28342\n"); err != nil || got != 3.42 {
		t.Errorf("parseLoadAverage = %v, %v; want 3.42", got, err)
	}
	if _, err := parseLoadAverage(""); err == nil {
		t.Error("parseLoadAverage(\"\") succeeded, want an error")
	}
}
