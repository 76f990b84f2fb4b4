package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/domac/crddemo/internal/synced"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// benchFieldManager names the bench in the managedFields of its own writes:
// the specs it changes. What it writes in crddemo's stead goes under
// crddemo's name, as crddemo writes it.
const benchFieldManager = "crddemo-bench"

// measureLimit times writers parallel clients that make, for each of demos,
// the writes crddemo makes for it: its Synced event, then its status, by
// internal/synced as crddemo makes them. No controller runs meanwhile: this
// is the API server's floor for the work.
func measureLimit(ctx context.Context, client clientset.Interface, kube kubernetes.Interface,
	demos []*crddemov1.Mydemo) (time.Duration, error) {
	started := time.Now()
	err := forEach(ctx, len(demos), func(ctx context.Context, i int) error {
		demo := demos[i]
		if _, err := kube.CoreV1().Events(demo.Namespace).Create(ctx, syncedEvent(demo), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating the Synced event of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
		}
		if _, err := synced.WriteStatus(ctx, client, demo); err != nil {
			return fmt.Errorf("writing the status of mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
		}
		return nil
	})
	return time.Since(started), err
}

// syncedEvent is the Synced event crddemo records when it syncs demo, with
// the bench as the host and replica that recorded it.
func syncedEvent(demo *crddemov1.Mydemo) *corev1.Event {
	return synced.NewEvent(demo, corev1.EventTypeNormal, synced.Reason, synced.Message, "bench", "bench", time.Now())
}
