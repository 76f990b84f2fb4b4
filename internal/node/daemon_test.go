//go:build linux

package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDaemonLogsToItsFileAndStopsOnSIGTERM(t *testing.T) {
	cfg := Config{Dir: t.TempDir()}
	d, err := startDaemon(cfg, "echoer", "/bin/sh", []string{"-c", `echo "up as $ROLE"; trap 'exit 0' TERM; while :; do sleep 0.1; done`}, "ROLE=test")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(tail(d.logPath, 5), "up as test") {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon's log never showed its line: %s", d.describe())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := d.stop(); err != nil {
		t.Fatal(err)
	}
	if !d.exited() || !d.cmd.ProcessState.Success() {
		t.Errorf("after stop: %s, want exited with status 0", d.describe())
	}
	if got := d.logPath; got != filepath.Join(cfg.Dir, "logs", "echoer.log") {
		t.Errorf("log path = %s, want logs/echoer.log under the node's dir", got)
	}
}

func TestLookPathNamesWhereItLooked(t *testing.T) {
	cfg := Config{BinDir: t.TempDir()}
	_, err := lookPath(cfg, "no-such-program-crddemo")
	if err == nil || !strings.Contains(err.Error(), cfg.BinDir) || !strings.Contains(err.Error(), "PATH") {
		t.Errorf("lookPath of a missing program: %v, want an error naming %s and PATH", err, cfg.BinDir)
	}
	if err := os.WriteFile(filepath.Join(cfg.BinDir, "tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := lookPath(cfg, "tool"); err != nil || got != filepath.Join(cfg.BinDir, "tool") {
		t.Errorf("lookPath(tool) = %q, %v; want the one in BinDir", got, err)
	}
}
