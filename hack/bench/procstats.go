package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is the unit of the CPU times in /proc/PID/stat,
// sysconf(_SC_CLK_TCK). Linux fixes it at 100 (USER_HZ) for user space
// whatever the kernel's own tick rate, and Go cannot call sysconf without
// cgo, so it is a constant here.
const clockTicksPerSecond = 100

// procStats is what Linux's /proc tells of a running process.
type procStats struct {
	// cpu is the CPU time it has used so far, user and system.
	cpu time.Duration
	// peakRSS is the most resident memory it has had so far (VmHWM), in
	// bytes.
	peakRSS int64
}

// readProcStats reads the stats of the process pid, which must be running:
// once it has exited, /proc no longer has them.
func readProcStats(pid int) (procStats, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStats{}, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	cpu, err := parseCPUTime(string(stat))
	if err != nil {
		return procStats{}, fmt.Errorf("reading the CPU time of process %d: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStats{}, fmt.Errorf("reading the peak RSS of process %d: %w", pid, err)
	}
	peak, err := parsePeakRSS(string(status))
	if err != nil {
		return procStats{}, fmt.Errorf("reading the peak RSS of process %d: %w", pid, err)
	}
	return procStats{cpu: cpu, peakRSS: peak}, nil
}

// parseCPUTime returns utime + stime, fields 14 and 15 of /proc/PID/stat
// (proc(5)), as a duration.
func parseCPUTime(stat string) (time.Duration, error) {
	// Field 2, the command name, is in parentheses and may itself hold
	// spaces and parentheses: count fields from after its last ")".
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name in /proc/PID/stat: %q", stat)
	}
	fields := strings.Fields(stat[end+1:])
	// fields[0] is field 3, the state, so field n is fields[n-3].
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("/proc/PID/stat has %d fields, want at least 15", len(fields)+2)
	}
	var ticks int64
	for _, i := range []int{utime, stime} {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %d of /proc/PID/stat: %w", i+3, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, nil
}

// parsePeakRSS returns the VmHWM line of /proc/PID/status, which the kernel
// writes in kB (KiB), in bytes.
func parsePeakRSS(status string) (int64, error) {
	scanner := bufio.NewScanner(strings.NewReader(status))
	for scanner.Scan() {
		value, ok := strings.CutPrefix(scanner.Text(), "VmHWM:")
		if !ok {
			continue
		}
		number, unit, _ := strings.Cut(strings.TrimSpace(value), " ")
		if unit != "kB" {
			return 0, fmt.Errorf("VmHWM in /proc/PID/status is %q, want a number of kB", strings.TrimSpace(value))
		}
		kib, err := strconv.ParseInt(number, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM in /proc/PID/status: %w", err)
		}
		return kib << 10, nil
	}
	return 0, fmt.Errorf("no VmHWM line in /proc/PID/status (has the process exited?)")
}

// loadAverage returns the machine's load average over the last minute
// (/proc/loadavg), which tells how much else was running beside the
// bench: figures taken on a loaded machine are only comparable as ratios.
func loadAverage() (float64, error) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("reading the load average: %w", err)
	}
	return parseLoadAverage(string(data))
}

func parseLoadAverage(loadavg string) (float64, error) {
	first, _, _ := strings.Cut(strings.TrimSpace(loadavg), " ")
	load, err := strconv.ParseFloat(first, 64)
	if err != nil {
		return 0, fmt.Errorf("parsing /proc/loadavg %q: %w", loadavg, err)
	}
	return load, nil
}
