//go:build linux

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/domac/crddemo/internal/harness"
)

const (
	// manyMydemos is how many Mydemos the memory test creates.
	manyMydemos = 2000
	// memorySampleInterval is how often the test reads the leader's
	// memory; the kernel's own high-water mark covers what falls between.
	memorySampleInterval = 250 * time.Millisecond
	// manySyncedTimeout bounds the wait for 2,000 Mydemos to be synced on a
	// busy 2-core machine.
	manySyncedTimeout = 5 * time.Minute
)

// TestManyMydemosUnderTheMemoryLimit creates 2,000 Mydemos while it reads
// the leader container's memory from its cgroup on the node, and checks
// that every one is synced, that the memory stayed under deploy/'s 128Mi
// limit (sampled, and by the kernel's own peak), and that no container
// restarted.
func TestManyMydemosUnderTheMemoryLimit(t *testing.T) {
	c := requireCluster(t)
	pods := c.deploy(t, 2)
	leader := c.waitLeader(t, pods, waitTimeout)
	cg, err := findContainerCgroup(leader, "crddemo")
	if err != nil {
		t.Fatal(err)
	}
	limit := leader.Spec.Containers[0].Resources.Limits.Memory().Value()
	if got, err := cg.limit(); err != nil || got != limit {
		t.Fatalf("the cgroup %s has the memory limit %d (%v), want the pod's %d", cg.dir, got, err, limit)
	}

	var peak atomic.Int64
	ctx, stopSampling := context.WithCancel(t.Context())
	sampled := make(chan error, 1)
	go func() {
		sampled <- wait.PollUntilContextCancel(ctx, memorySampleInterval, true, func(context.Context) (bool, error) {
			usage, err := cg.usage()
			if err != nil {
				return false, err
			}
			if usage > peak.Load() {
				peak.Store(usage)
			}
			return false, nil
		})
	}()

	ns := c.testNamespace(t)
	started := time.Now()
	c.createMydemos(t, ns, "many", manyMydemos)
	created := time.Since(started)
	syncCtx, cancel := context.WithTimeout(t.Context(), manySyncedTimeout)
	defer cancel()
	if _, err := harness.WaitAllSynced(syncCtx, c.client, c.kube, ns); err != nil {
		t.Fatal(err)
	}
	synced := time.Since(started)
	stopSampling()
	if err := <-sampled; !errors.Is(err, context.Canceled) {
		t.Fatalf("reading %s's memory: %v", leader.Name, err)
	}
	highWater, err := cg.peak()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d Mydemos created in %v and synced in %v; the leader's memory peaked at %.1f MiB sampled, %.1f MiB by the kernel's high-water mark, of a %.0f MiB limit",
		manyMydemos, created.Round(100*time.Millisecond), synced.Round(100*time.Millisecond),
		mib(peak.Load()), mib(highWater), mib(limit))
	if peak.Load() >= limit || highWater >= limit {
		t.Errorf("the leader's memory reached %d bytes (high-water mark %d), the limit is %d", peak.Load(), highWater, limit)
	}
	for _, pod := range c.waitPods(t, 2) {
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.RestartCount != 0 {
				t.Errorf("pod %s: container %s restarted %d times (last state %+v)", pod.Name, cs.Name, cs.RestartCount, cs.LastTerminationState)
			}
		}
	}
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// memoryCgroup is a container's memory cgroup on the node, cgroup v1 or v2.
type memoryCgroup struct {
	dir string
	v2  bool
}

// findContainerCgroup finds the memory cgroup of pod's container name where
// the kubelet's cgroupfs driver puts it: kubepods[/QoS class]/pod<UID>/<ID>,
// under the memory hierarchy on cgroup v1, under the unified one on v2.
func findContainerCgroup(pod corev1.Pod, name string) (memoryCgroup, error) {
	var id string
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == name {
			_, id, _ = strings.Cut(cs.ContainerID, "://")
		}
	}
	if id == "" {
		return memoryCgroup{}, fmt.Errorf("pod %s reports no container ID for %s", pod.Name, name)
	}
	for _, root := range []memoryCgroup{{dir: "/sys/fs/cgroup/memory"}, {dir: "/sys/fs/cgroup", v2: true}} {
		for _, pattern := range []string{"kubepods/pod%s/%s", "kubepods/*/pod%s/%s"} {
			matches, _ := filepath.Glob(filepath.Join(root.dir, fmt.Sprintf(pattern, pod.UID, id)))
			if len(matches) == 1 {
				return memoryCgroup{dir: matches[0], v2: root.v2}, nil
			}
		}
	}
	return memoryCgroup{}, fmt.Errorf("no memory cgroup for container %s of pod %s (UID %s) under /sys/fs/cgroup/memory/kubepods or /sys/fs/cgroup/kubepods", id, pod.Name, pod.UID)
}

func (m memoryCgroup) read(v1, v2 string) (int64, error) {
	file := v1
	if m.v2 {
		file = v2
	}
	data, err := os.ReadFile(filepath.Join(m.dir, file))
	if err != nil {
		return 0, err
	}
	text := strings.TrimSpace(string(data))
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is no number of bytes", filepath.Join(m.dir, file), text)
	}
	return n, nil
}

// usage is the memory charged to the cgroup now: what its limit is held
// against.
func (m memoryCgroup) usage() (int64, error) {
	return m.read("memory.usage_in_bytes", "memory.current")
}

// peak is the kernel's high-water mark of usage since the cgroup was made.
func (m memoryCgroup) peak() (int64, error) {
	return m.read("memory.max_usage_in_bytes", "memory.peak")
}

func (m memoryCgroup) limit() (int64, error) {
	return m.read("memory.limit_in_bytes", "memory.max")
}
