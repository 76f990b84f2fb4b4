// Command probe is the one program of make e2e's test image. Without
// arguments it waits for SIGTERM or SIGINT, as a pod's sandbox (pause)
// container does: containerd runs it as every pod's sandbox, since the
// registry.k8s.io pause image cannot be pulled here. With "inspect PID" it
// runs as an ephemeral container in a crddemo pod, sharing the crddemo
// container's process namespace, and reports on that process from inside
// the pod: its user and group, and what a write to the root of its
// filesystem (through /proc/PID/root) returns.
//
// It is static and needs nothing from the image but itself.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	switch {
	case len(os.Args) == 1:
		pause()
	case len(os.Args) == 3 && os.Args[1] == "inspect":
		if err := inspect(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(1)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: probe (to wait for a signal) or probe inspect PID")
		os.Exit(2)
	}
}

// pause waits for a signal to exit, as the pause container does.
func pause() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}

// inspect prints the process pid's "Uid:" and "Gid:" lines from
// /proc/PID/status, then "write: " and the result of creating a file at the
// root of its filesystem: "ok", or the error.
func inspect(pid string) error {
	status, err := os.Open(filepath.Join("/proc", pid, "status"))
	if err != nil {
		return err
	}
	defer status.Close()
	scanner := bufio.NewScanner(status)
	for scanner.Scan() {
		if line := scanner.Text(); strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") {
			fmt.Println(strings.Join(strings.Fields(line), " "))
		}
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	path := filepath.Join("/proc", pid, "root", "probe-write-test")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			fmt.Printf("write: %s (errno %d)\n", errno.Error(), int(errno))
			return nil
		}
		fmt.Println("write:", err)
		return nil
	}
	file.Close()
	os.Remove(path)
	fmt.Println("write: ok")
	return nil
}
