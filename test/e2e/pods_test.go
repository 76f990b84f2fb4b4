//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

const (
	// namespace and selector are deploy/'s.
	namespace = "crddemo-system"
	selector  = "app.kubernetes.io/name=crddemo"
)

// deploy applies the run's overlay and waits for want replicas of crddemo
// to be Running and Ready, which the kubelet decides from deploy/'s probes.
func (c *testCluster) deploy(t *testing.T, want int) []corev1.Pod {
	t.Helper()
	c.kubectl(t, "apply", "-k", c.overlay)
	return c.waitPods(t, want)
}

// waitPods waits until exactly want crddemo pods exist, every one Running
// and Ready and none being deleted, and returns them.
func (c *testCluster) waitPods(t *testing.T, want int) []corev1.Pod {
	t.Helper()
	return c.waitPodsUnder(t.Context(), t, want)
}

// waitPodsUnder is waitPods under parent, for a cleanup, which runs after
// t.Context is cancelled.
func (c *testCluster) waitPodsUnder(parent context.Context, t *testing.T, want int) []corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(parent, waitTimeout)
	defer cancel()
	var pods []corev1.Pod
	var last string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		list, err := c.kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			if ctx.Err() == nil {
				last = err.Error()
			}
			return false, nil
		}
		pods = list.Items
		var states []string
		ready := 0
		for _, pod := range pods {
			states = append(states, describePod(pod))
			if pod.DeletionTimestamp == nil && pod.Status.Phase == corev1.PodRunning && isReady(pod) {
				ready++
			}
		}
		last = fmt.Sprintf("%d pods: %s", len(pods), strings.Join(states, "; "))
		return len(pods) == want && ready == want, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d crddemo pods Running and Ready: %v (last: %s; node logs in %s)", want, err, last, c.node.LogDir())
	}
	return pods
}

// isReady reports whether pod's Ready condition is true.
func isReady(pod corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// describePod is a pod's name, phase and each container's state, for a
// failure message.
func describePod(pod corev1.Pod) string {
	s := pod.Name + " " + string(pod.Status.Phase)
	for _, cs := range pod.Status.ContainerStatuses {
		switch {
		case cs.State.Waiting != nil:
			s += fmt.Sprintf(" %s waiting (%s: %s)", cs.Name, cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			s += fmt.Sprintf(" %s terminated (%s, exit %d)", cs.Name, cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
		default:
			s += fmt.Sprintf(" %s running, ready=%v, restarts=%d", cs.Name, cs.Ready, cs.RestartCount)
		}
	}
	return s
}

// TestReplicasRunRestrictedAsNonRootReadOnly runs deploy/ and checks what
// it promises about its pods, from the API and from inside each pod: both
// replicas start on the node and become Ready in a namespace that enforces
// Pod Security restricted, each in a network namespace of its own on the
// bridge, and crddemo runs as 65532:65532 on a root filesystem where a
// write fails as read-only.
func TestReplicasRunRestrictedAsNonRootReadOnly(t *testing.T) {
	c := requireCluster(t)
	pods := c.deploy(t, 2)

	ns, err := c.kube.CoreV1().Namespaces().Get(t.Context(), namespace, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ns.Labels["pod-security.kubernetes.io/enforce"]; got != "restricted" {
		t.Errorf("namespace %s enforces Pod Security %q, want restricted", namespace, got)
	}
	for _, pod := range pods {
		if pod.Spec.NodeName != "crddemo-e2e" {
			t.Errorf("pod %s runs on node %q, want crddemo-e2e", pod.Name, pod.Spec.NodeName)
		}
		ip, err := netip.ParseAddr(pod.Status.PodIP)
		if err != nil || !bridge.Prefix.Contains(ip) || ip == bridge.HostAddr() {
			t.Errorf("pod %s has IP %q, want an address of its own in %s", pod.Name, pod.Status.PodIP, bridge.Prefix)
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if cs.RestartCount != 0 {
				t.Errorf("pod %s: container %s restarted %d times", pod.Name, cs.Name, cs.RestartCount)
			}
		}

		report := c.inspect(t, pod)
		for _, want := range []string{"Uid: 65532 65532 65532 65532", "Gid: 65532 65532 65532 65532", "write: read-only file system"} {
			if !strings.Contains(report, want) {
				t.Errorf("pod %s: inspecting crddemo from inside the pod gave\n%s\nwant a line %q", pod.Name, report, want)
			}
		}
	}
}

// inspect runs test/e2e/probe as an ephemeral container of pod that shares
// the crddemo container's process namespace, where crddemo is PID 1, and
// returns its report: crddemo's user and group, and the result of a write
// to the root of crddemo's filesystem. The probe runs as restricted allows,
// as 65532 with no capabilities: it can reach crddemo's root through /proc
// only because they are the same user.
func (c *testCluster) inspect(t *testing.T, pod corev1.Pod) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	name := "probe-" + rand.String(5)
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
		TargetContainerName: "crddemo",
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name:            name,
			Image:           probeImage,
			ImagePullPolicy: corev1.PullNever,
			Args:            []string{"inspect", "1"},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		},
	})
	if _, err := c.kube.CoreV1().Pods(namespace).UpdateEphemeralContainers(ctx, pod.Name, &pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("adding ephemeral container %s to pod %s: %v", name, pod.Name, err)
	}
	var state string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		p, err := c.kube.CoreV1().Pods(namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		i := slices.IndexFunc(p.Status.EphemeralContainerStatuses, func(cs corev1.ContainerStatus) bool { return cs.Name == name })
		if i < 0 {
			return false, nil
		}
		cs := p.Status.EphemeralContainerStatuses[i]
		state = fmt.Sprintf("%+v", cs.State)
		return cs.State.Terminated != nil, nil
	})
	if err != nil {
		t.Fatalf("waiting for ephemeral container %s in pod %s to finish (last state: %s): %v", name, pod.Name, state, err)
	}
	logs, err := c.kube.CoreV1().Pods(namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: name}).DoRaw(ctx)
	if err != nil {
		t.Fatalf("reading the log of ephemeral container %s in pod %s: %v", name, pod.Name, err)
	}
	return string(logs)
}

// leaseHolder returns the holder of crddemo's leader Lease, "" if none.
func (c *testCluster) leaseHolder(ctx context.Context) (string, error) {
	lease, err := c.kube.CoordinationV1().Leases(namespace).Get(ctx, "crddemo", metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return ptr.Deref(lease.Spec.HolderIdentity, ""), nil
}

// waitLeader waits until one of pods holds the leader Lease and returns it.
func (c *testCluster) waitLeader(t *testing.T, pods []corev1.Pod, timeout time.Duration) corev1.Pod {
	t.Helper()
	var leader corev1.Pod
	c.waitHolder(t, func(holder string) bool {
		for _, pod := range pods {
			// The identity is the pod's hostname, its name, and a UUID.
			if strings.HasPrefix(holder, pod.Name+"_") {
				leader = pod
				return true
			}
		}
		return false
	}, timeout)
	return leader
}

// waitHolder waits until the leader Lease's holder is one that ok accepts
// and returns it.
func (c *testCluster) waitHolder(t *testing.T, ok func(holder string) bool, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	// last is the holder last read, or why it could not be: a read cut off
	// by the deadline must not hide what the Lease said.
	var holder, last string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		h, err := c.leaseHolder(ctx)
		if err != nil {
			if ctx.Err() == nil {
				last = err.Error()
			}
			return false, nil
		}
		holder, last = h, fmt.Sprintf("holder %q", h)
		return ok(h), nil
	})
	if err != nil {
		t.Fatalf("waiting %v for the leader Lease's holder (last: %s): %v", timeout, last, err)
	}
	return holder
}
