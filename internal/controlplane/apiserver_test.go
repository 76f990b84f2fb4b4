package controlplane_test

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// TestAPIServerRestart stops and starts kube-apiserver on the same etcd:
// clients built before the stop work again after the start, unchanged, and
// find the objects written before. It also shows what expires a
// resourceVersion with the watch cache on, as by default: not compaction,
// but the restart.
func TestAPIServerRestart(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	before := createConfigMap(ctx, t, kube, "before")
	createConfigMap(ctx, t, kube, "after")

	if _, err := cp.CompactEtcd(ctx); err != nil {
		t.Fatal(err)
	}
	if err := watchFrom(ctx, kube, before.ResourceVersion); err != nil {
		t.Fatalf("watch from %s after compaction, with the watch cache on: %v, want the cached events", before.ResourceVersion, err)
	}

	stopping := time.Now()
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("StopAPIServer took %v", time.Since(stopping).Round(time.Millisecond))
	if _, err := kube.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); !utilnet.IsConnectionRefused(err) {
		t.Fatalf("request while the API server is stopped: %v, want connection refused", err)
	}
	if err := cp.StopAPIServer(); err == nil {
		t.Error("StopAPIServer of a stopped API server succeeded, want an error")
	}

	starting := time.Now()
	if err := cp.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("StartAPIServer took %v", time.Since(starting).Round(time.Millisecond))
	got, err := kube.CoreV1().ConfigMaps(metav1.NamespaceDefault).Get(ctx, before.Name, metav1.GetOptions{})
	if err != nil || got.UID != before.UID {
		t.Fatalf("configmap %s after the restart: %v, %v; want the one written before (uid %s)", before.Name, got, err, before.UID)
	}
	// kubectl reads KubeconfigPath, as crddemo does.
	out, err := cp.Kubectl(ctx, "get", "configmap", before.Name, "--output=jsonpath={.metadata.uid}").CombinedOutput()
	if err != nil || string(out) != string(before.UID) {
		t.Fatalf("kubectl get configmap %s after the restart: %v\n%s", before.Name, err, out)
	}
	// The new watch cache starts from etcd's current revision.
	if err := watchFrom(ctx, kube, before.ResourceVersion); !apierrors.IsResourceExpired(err) {
		t.Errorf("watch from %s, written before the restart: %v, want 410 Expired", before.ResourceVersion, err)
	}
	if err := cp.StartAPIServer(ctx); err == nil {
		t.Error("StartAPIServer of a running API server succeeded, want an error")
	}
}

// TestAPIServerRestartCanBeRetriedAndStopCleansUp fails a restart, retries
// it, and stops the control plane with the API server stopped.
func TestAPIServerRestartCanBeRetriedAndStopCleansUp(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	addr := cp.APIServerAddr()
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	requireRefused(t, addr)

	// A server that takes the port, as it can while it is only held, makes
	// the restart fail.
	squatter, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on the stopped API server's port: %v", err)
	}
	failing := time.Now()
	err = cp.StartAPIServer(ctx)
	_ = squatter.Close()
	t.Logf("the failed StartAPIServer took %v: %v", time.Since(failing).Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("StartAPIServer with its port taken: %v, want an error that shows kube-apiserver's complaint", err)
	}
	// The failed restart left the API server stopped and its port held.
	requireRefused(t, addr)
	if err := cp.StartAPIServer(ctx); err != nil {
		t.Fatalf("StartAPIServer after a failed one: %v", err)
	}
	kube := kubernetes.NewForConfigOrDie(cp.Config)
	if _, err := kube.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{}); err != nil {
		t.Fatalf("request after the retried restart: %v", err)
	}

	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if err := cp.Stop(); err != nil {
		t.Fatalf("Stop with the API server stopped: %v", err)
	}
	if left := processesMentioning(t, cp.Dir()); len(left) > 0 {
		t.Errorf("processes left running after Stop: %q", left)
	}
	if _, err := os.Stat(cp.Dir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temp dir %s after Stop: want it removed, Stat says %v", cp.Dir(), err)
	}
	// Stop released the port: a server can have it again.
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the API server's port after Stop: %v", err)
	}
	_ = listener.Close()
	if err := cp.StartAPIServer(ctx); err == nil {
		t.Error("StartAPIServer after Stop succeeded, want an error")
	}
}

// requireRefused fails the test unless a connection to addr is refused.
func requireRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		_ = conn.Close()
		t.Fatalf("connecting to %s succeeded, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connecting to %s: %v, want connection refused", addr, err)
	}
}

// createConfigMap creates an empty ConfigMap in the default namespace.
func createConfigMap(ctx context.Context, t *testing.T, kube kubernetes.Interface, name string) *corev1.ConfigMap {
	t.Helper()
	created, err := kube.CoreV1().ConfigMaps(metav1.NamespaceDefault).Create(ctx,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating configmap %s: %v", name, err)
	}
	return created
}

// watchFrom watches the default namespace's ConfigMaps from resourceVersion,
// as a reflector does after a broken watch, and returns the error that the
// watch or its first event reports, or nil if its first event is an object.
func watchFrom(ctx context.Context, kube kubernetes.Interface, resourceVersion string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	watcher, err := kube.CoreV1().ConfigMaps(metav1.NamespaceDefault).Watch(ctx, metav1.ListOptions{ResourceVersion: resourceVersion})
	if err != nil {
		return err
	}
	defer watcher.Stop()
	select {
	case event, ok := <-watcher.ResultChan():
		switch {
		case !ok:
			return errors.New("the watch ended without an event")
		case event.Type == watch.Error:
			return apierrors.FromObject(event.Object)
		}
		return nil
	case <-ctx.Done():
		return errors.New("no event within 10s")
	}
}
