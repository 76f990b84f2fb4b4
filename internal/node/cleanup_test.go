//go:build linux

package node

import (
	"slices"
	"strings"
	"testing"
)

func TestParseMountPointsDeepestFirstUnderDirOnly(t *testing.T) {
	mountinfo := strings.Join([]string{
		`22 1 254:0 / / rw,relatime - ext4 /dev/vda rw`,
		`100 22 0:50 / /tmp/run/kubelet/pods/a/volumes/token rw - tmpfs tmpfs rw`,
		`101 22 0:51 / /tmp/run/containerd/rootfs rw - overlay overlay rw`,
		`102 22 0:52 / /tmp/run-other/x rw - tmpfs tmpfs rw`,
		`103 22 0:53 / /tmp/run/with\040space rw - tmpfs tmpfs rw`,
	}, "\n")
	got, err := parseMountPoints(strings.NewReader(mountinfo), "/tmp/run/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/tmp/run/kubelet/pods/a/volumes/token", "/tmp/run/containerd/rootfs", "/tmp/run/with space"}
	if !slices.Equal(got, want) {
		t.Errorf("mount points under /tmp/run = %q, want %q", got, want)
	}
}
