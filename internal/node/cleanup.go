//go:build linux

package node

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// unmountUnder unmounts every mount point under dir, deepest first: the
// kubelet's volumes, containerd's rootfs overlays and sandbox mounts that a
// killed run can leave behind.
func unmountUnder(dir string) error {
	if dir == "" {
		return nil
	}
	mounts, err := mountPointsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mounts {
		// MNT_DETACH: a busy mount is still taken out of the tree, and freed
		// once its last user is gone.
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", m, err))
		}
	}
	return errors.Join(errs...)
}

// mountPointsUnder lists the mount points under dir from /proc/self/mountinfo,
// deepest first.
func mountPointsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("listing mounts: %w", err)
	}
	defer f.Close()
	return parseMountPoints(f, dir)
}

// parseMountPoints lists the mount points under dir in a mountinfo file,
// deepest first.
func parseMountPoints(mountinfo io.Reader, dir string) ([]string, error) {
	prefix := filepath.Clean(dir) + "/"
	var mounts []string
	scanner := bufio.NewScanner(mountinfo)
	for scanner.Scan() {
		// The fifth field is the mount point, with spaces as \040.
		fields := strings.Fields(scanner.Text())
		if len(fields) < 5 {
			continue
		}
		point := strings.ReplaceAll(fields[4], `\040`, " ")
		if strings.HasPrefix(point, prefix) {
			mounts = append(mounts, point)
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("listing mounts: %w", err)
	}
	slices.SortFunc(mounts, func(a, b string) int { return strings.Count(b, "/") - strings.Count(a, "/") })
	return mounts, nil
}

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// removeKubepodsCgroups removes the kubepods cgroups that the kubelet made
// in every hierarchy (cgroup v1) or in the unified one, once no process is
// left in them, so that the next run starts from a clean host.
func removeKubepodsCgroups() error {
	dirs := []string{filepath.Join(cgroupRoot, "kubepods")}
	hierarchies, _ := os.ReadDir(cgroupRoot)
	for _, h := range hierarchies {
		if h.IsDir() {
			dirs = append(dirs, filepath.Join(cgroupRoot, h.Name(), "kubepods"))
		}
	}
	var errs []error
	for _, top := range dirs {
		var tree []string
		_ = filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				tree = append(tree, path)
			}
			return nil
		})
		// Children before parents: rmdir removes only empty cgroups.
		for _, path := range slices.Backward(tree) {
			if err := unix.Rmdir(path); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", path, err))
			}
		}
	}
	return errors.Join(errs...)
}

// netnsDir is where containerd's CNI setup pins the pods' network namespaces.
const netnsDir = "/run/netns"

// removeNetnsSince unmounts and removes the CNI network namespaces made since
// start that a killed sandbox left: containerd removes a sandbox's own when
// the kubelet removes the pod, but not when the test stops it at once.
func removeNetnsSince(start time.Time) error {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !strings.HasPrefix(e.Name(), "cni-") || info.ModTime().Before(start) {
			continue
		}
		path := filepath.Join(netnsDir, e.Name())
		_ = unix.Unmount(path, unix.MNT_DETACH)
		if err := os.Remove(path); err != nil {
			errs = append(errs, fmt.Errorf("removing network namespace %s: %w", path, err))
		}
	}
	return errors.Join(errs...)
}
