//go:build linux

package node

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/domac/crddemo/internal/process"
)

// stopGrace is how long a daemon gets to exit after SIGTERM before SIGKILL.
const stopGrace = 20 * time.Second

// daemon is one of the node's long-running programs, its output in a file
// of its own under the node's logs/.
type daemon struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
}

// startDaemon starts the program at path as name, with args and env added
// to this process's environment, in a process group of its own (so that a
// Ctrl-C reaches only the test, which stops it).
func startDaemon(cfg Config, name, path string, args []string, env ...string) (*daemon, error) {
	logDir := filepath.Join(cfg.Dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the node's log dir: %w", err)
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s's log: %w", name, err)
	}
	defer logFile.Close()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	d := &daemon{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the outcome is in cmd.ProcessState
		close(d.done)
	}()
	return d, nil
}

// lookPath finds the program name in cfg.BinDir or else on PATH: runc and
// the CNI plugins come from Debian packages, the rest from bin/.
func lookPath(cfg Config, name string) (string, error) {
	path, err := exec.LookPath(filepath.Join(cfg.BinDir, name))
	if err == nil {
		return path, nil
	}
	path, err = exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is neither in %s nor on PATH: %w", name, cfg.BinDir, err)
	}
	return path, nil
}

// searchPath is PATH with cfg.BinDir first, for containerd to find its shim.
func searchPath(cfg Config) string {
	return cfg.BinDir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// exited reports whether the daemon has exited.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after stopGrace, and waits for the exit.
func (d *daemon) stop() error {
	if d == nil || d.exited() {
		return nil
	}
	if process.Terminate(d.cmd.Process, d.done, stopGrace) {
		return fmt.Errorf("%s did not exit within %v of SIGTERM and was killed", d.name, stopGrace)
	}
	return nil
}

// describe returns the exit status and the last lines of the daemon's log,
// to explain a failure.
func (d *daemon) describe() string {
	status := "running"
	if d.exited() {
		status = d.cmd.ProcessState.String()
	}
	return fmt.Sprintf("%s (%s); last lines of %s:\n%s", d.name, status, d.logPath, tail(d.logPath, 15))
}

// tail returns the last n lines of the file at path, indented.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "    (" + err.Error() + ")"
	}
	lines := strings.Split(string(bytes.TrimSpace(data)), "\n")
	lines = lines[max(0, len(lines)-n):]
	return "    " + strings.Join(lines, "\n    ")
}
