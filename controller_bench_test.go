package main

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/klog/v2"

	"github.com/domac/crddemo/internal/synced"
	"github.com/domac/crddemo/internal/synced/syncedtest"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
)

// The hot path in process, with fake clients: what crddemo itself spends per
// object, apart from the API server. `make bench` measures the whole, against
// a real one. Logging is discarded: it costs the same in every path, and the
// binary writes it to a pipe or a file, not to the test's buffer.

// BenchmarkHandlerToSync takes a new Mydemo from the add handler through the
// queue to a finished sync: a lister read, an event and a status patch.
func BenchmarkHandlerToSync(b *testing.B) {
	demos := make([]*crddemov1.Mydemo, b.N)
	for i := range demos {
		demos[i] = newMydemo(fmt.Sprintf("demo-%d", i), 1)
	}
	f := newFixture(b, demos...)
	f.fillCache(demos...)
	ctx := klog.NewContext(context.Background(), klog.Background().V(1000))
	b.ReportAllocs()
	b.ResetTimer()
	for _, demo := range demos {
		f.controller.handleAdd(demo, false)
		f.controller.processNextWorkItem(ctx, ctx)
	}
	b.StopTimer()
	if got := len(f.recorder.recorded()); got != b.N {
		b.Fatalf("%d events for %d syncs", got, b.N)
	}
}

// BenchmarkOwnStatusWriteSkipped is the update handler on crddemo's own
// status write coming back: it decides there is nothing to do.
func BenchmarkOwnStatusWriteSkipped(b *testing.B) {
	behind := newMydemo("example-mydemo", 1)
	current := behind.DeepCopy()
	current.ResourceVersion = "2"
	current.Status = syncedtest.Status(current)
	f := newFixture(b)
	b.ReportAllocs()
	for b.Loop() {
		f.controller.handleUpdate(behind, current)
	}
	if f.controller.queue.Len() != 0 {
		b.Fatal("the own status write was queued")
	}
}

// BenchmarkEventRecorder writes Synced events through the correlator: a new
// Event for each of many objects, or the count of one Event raised.
func BenchmarkEventRecorder(b *testing.B) {
	ctx := klog.NewContext(context.Background(), klog.Background().V(1000))
	b.Run("new", func(b *testing.B) {
		recorder := newAPIEventRecorder(kubefake.NewSimpleClientset().CoreV1(), "node-1", "node-1_abc")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := recorder.Event(ctx, newMydemo(fmt.Sprintf("demo-%d", i), 1), corev1.EventTypeNormal, synced.Reason, synced.Message); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("repeat", func(b *testing.B) {
		recorder := newAPIEventRecorder(kubefake.NewSimpleClientset().CoreV1(), "node-1", "node-1_abc")
		demo := newMydemo("example-mydemo", 1)
		b.ReportAllocs()
		for b.Loop() {
			if err := recorder.Event(ctx, demo, corev1.EventTypeNormal, synced.Reason, synced.Message); err != nil {
				b.Fatal(err)
			}
		}
	})
}
