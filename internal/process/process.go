//go:build unix

// Package process runs a program, such as crddemo, as a child whose output
// lines callers can wait for. The demo and the integration tests both drive
// the crddemo binary through it: start it, wait for the log line that proves
// a step worked, then stop it with SIGTERM and read its exit status.
package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrOutputEnded is WaitForLine's error when the program's output ends, as
// it does when the program exits, before the line came.
var ErrOutputEnded = errors.New("the program's output ended")

// Options change how Start runs the program.
type Options struct {
	// Env is the program's environment; nil means the caller's.
	Env []string
	// Echo, if set, receives each output line as it comes, after Prefix.
	Echo   io.Writer
	Prefix string
}

// Process is a running program and the lines it has written so far, stdout
// and stderr together.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait has returned

	mu    sync.Mutex
	lines []string
	ended bool
	// changed is closed, and replaced, whenever a line comes or the output
	// ends, to wake the waiters.
	changed chan struct{}
}

// Start starts the program at path with args. It runs in a process group of
// its own, so that a Ctrl-C in the terminal does not reach it: whoever starts
// it stops it, with a single SIGTERM, which is a graceful shutdown for
// crddemo where a Ctrl-C followed by SIGTERM would make it exit at once.
func Start(path string, args []string, opts Options) (*Process, error) {
	reader, writer, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("creating a pipe for the output of %s: %w", path, err)
	}
	defer writer.Close()
	cmd := exec.Command(path, args...)
	cmd.Env = opts.Env
	// One pipe for both streams keeps klog's lines (stderr) in order with
	// anything printed to stdout.
	cmd.Stdout, cmd.Stderr = writer, writer
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		reader.Close()
		return nil, fmt.Errorf("starting %s: %w", path, err)
	}

	p := &Process{cmd: cmd, exited: make(chan struct{}), changed: make(chan struct{})}
	go p.read(reader, opts)
	go func() {
		_ = cmd.Wait() // the outcome is in cmd.ProcessState
		close(p.exited)
	}()
	return p, nil
}

// read collects the program's output lines until it ends.
func (p *Process) read(reader *os.File, opts Options) {
	defer reader.Close()
	scanner := bufio.NewScanner(reader)
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		if opts.Echo != nil {
			fmt.Fprintf(opts.Echo, "%s%s\n", opts.Prefix, scanner.Text())
		}
		p.update(func() { p.lines = append(p.lines, scanner.Text()) })
	}
	if err := scanner.Err(); err != nil {
		// Keep draining, or the program would block on a full pipe.
		p.update(func() { p.lines = append(p.lines, fmt.Sprintf("(output no longer readable as lines: %v)", err)) })
		_, _ = io.Copy(io.Discard, reader)
	}
	p.update(func() { p.ended = true })
}

// update changes the collected output under the lock and wakes the waiters.
func (p *Process) update(change func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	change()
	close(p.changed)
	p.changed = make(chan struct{})
}

// Mark returns the number of lines so far. Taken before an action, it lets
// WaitForLine wait for a line caused by that action, not an earlier one.
func (p *Process) Mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// WaitForLine waits until a line from the from-th one on contains every one
// of parts, and returns its index and text. It fails once ctx is done or the
// output has ended.
func (p *Process) WaitForLine(ctx context.Context, from int, parts ...string) (int, string, error) {
	for {
		p.mu.Lock()
		for ; from < len(p.lines); from++ {
			if containsAll(p.lines[from], parts) {
				line := p.lines[from]
				p.mu.Unlock()
				return from, line, nil
			}
		}
		ended, changed := p.ended, p.changed
		p.mu.Unlock()
		if ended {
			return 0, "", ErrOutputEnded
		}
		select {
		case <-ctx.Done():
			return 0, "", context.Cause(ctx)
		case <-changed:
		}
	}
}

// Lines returns the lines so far that contain every one of parts.
func (p *Process) Lines(parts ...string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var found []string
	for _, line := range p.lines {
		if containsAll(line, parts) {
			found = append(found, line)
		}
	}
	return found
}

// Output returns every line so far, for a report.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// PID is the program's process ID, for reading its resource use from
// /proc while it runs.
func (p *Process) PID() int {
	return p.cmd.Process.Pid
}

// Exited is closed once the program has exited and State is known.
func (p *Process) Exited() <-chan struct{} {
	return p.exited
}

// State is the program's exit status, nil while it runs.
func (p *Process) State() *os.ProcessState {
	select {
	case <-p.exited:
		return p.cmd.ProcessState
	default:
		return nil
	}
}

// Stop sends the program SIGTERM, kills it if it has not exited after grace,
// and returns its exit status. It is safe to call after the program exited.
func (p *Process) Stop(grace time.Duration) *os.ProcessState {
	Terminate(p.cmd.Process, p.exited, grace)
	return p.cmd.ProcessState
}

// Terminate sends proc SIGTERM, then SIGKILL if exited is not closed within
// grace, and returns once exited is closed; it reports whether it had to
// kill. exited is closed once the caller's Wait for proc has returned.
func Terminate(proc *os.Process, exited <-chan struct{}, grace time.Duration) (killed bool) {
	// Signal fails only if the program has exited already, which is the goal.
	_ = proc.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return false
	case <-time.After(grace):
		_ = proc.Kill()
		<-exited
		return true
	}
}

// Kill sends the program SIGKILL, as a node failure or the OOM killer would
// end it, and returns its exit status once it is gone.
func (p *Process) Kill() *os.ProcessState {
	_ = p.cmd.Process.Kill()
	<-p.exited
	return p.cmd.ProcessState
}

func containsAll(line string, parts []string) bool {
	for _, part := range parts {
		if !strings.Contains(line, part) {
			return false
		}
	}
	return true
}
