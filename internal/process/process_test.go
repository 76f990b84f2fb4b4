//go:build unix

package process

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"
)

func TestWaitForLineAndStop(t *testing.T) {
	// The shell exits 0 on SIGTERM, as crddemo does after a graceful stop.
	p, err := Start("/bin/sh", []string{"-c", `trap 'echo stopping; exit 0' TERM; echo "ready port=1"; echo done >&2; while :; do sleep 0.1; done`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	i, line, err := p.WaitForLine(ctx, 0, "ready", "port=1")
	if err != nil || i != 0 || line != "ready port=1" {
		t.Fatalf("WaitForLine = %d, %q, %v; want line 0, %q", i, line, err, "ready port=1")
	}
	if _, line, err := p.WaitForLine(ctx, 1, "done"); err != nil || line != "done" {
		t.Fatalf("stderr line: %q, %v; want %q", line, err, "done")
	}
	if got := p.Lines("ready"); len(got) != 1 {
		t.Errorf("Lines(ready) = %q, want one line", got)
	}
	if err := syscall.Kill(p.PID(), 0); err != nil {
		t.Errorf("PID() = %d, which cannot be signalled: %v", p.PID(), err)
	}
	if p.State() != nil {
		t.Errorf("State() = %v while the program runs, want nil", p.State())
	}

	mark := p.Mark()
	state := p.Stop(30 * time.Second)
	if !state.Success() {
		t.Errorf("exit status after SIGTERM = %v, want 0", state)
	}
	if _, _, err := p.WaitForLine(ctx, mark, "ready"); !errors.Is(err, ErrOutputEnded) {
		t.Errorf("waiting past the end of the output: %v, want ErrOutputEnded", err)
	}
}

func TestKillIsNotAGracefulStop(t *testing.T) {
	// The trap would exit 0 on SIGTERM; SIGKILL cannot be trapped.
	p := startTrapping(t, "exit 0")
	state := p.Kill()
	if state.Exited() || state.String() != "signal: killed" {
		t.Errorf("state after Kill = %v, want killed by SIGKILL", state)
	}
}

func TestTerminateKillsWhatIgnoresSIGTERM(t *testing.T) {
	p := startTrapping(t, "")
	if !Terminate(p.cmd.Process, p.exited, 200*time.Millisecond) {
		t.Error("Terminate of a program that ignores SIGTERM reported no kill")
	}
	if state := p.State(); state == nil || state.Success() {
		t.Errorf("exit status after the kill = %v, want a failure", state)
	}
}

// startTrapping starts a shell that runs onTerm on SIGTERM, ignoring it if
// onTerm is empty, and returns once the trap is set.
func startTrapping(t *testing.T, onTerm string) *Process {
	t.Helper()
	p, err := Start("/bin/sh", []string{"-c", `trap '` + onTerm + `' TERM; echo up; while :; do sleep 0.1; done`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, _, err := p.WaitForLine(ctx, 0, "up"); err != nil {
		t.Fatal(err)
	}
	return p
}
