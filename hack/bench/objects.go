package main

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

const (
	// firstPort is every new Mydemo's port; the update phase changes it to
	// updatedPort.
	firstPort   = 8080
	updatedPort = 9090

	// crdServedTimeout bounds how long creates may still be refused after
	// the CRD is Established (about 2 s on kube-apiserver 1.37).
	crdServedTimeout = 30 * time.Second
)

// createMydemos creates Mydemos prefix-0 to prefix-(n-1) in namespace from
// parallel writers, and hands each to created as the API server returned it.
func createMydemos(ctx context.Context, client clientset.Interface, namespace, prefix string, n int,
	created func(*crddemov1.Mydemo)) error {
	return forEach(ctx, n, func(ctx context.Context, i int) error {
		demo, err := createMydemo(ctx, client, &crddemov1.Mydemo{
			ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: fmt.Sprintf("%s-%d", prefix, i)},
			Spec:       crddemov1.MydemoSpec{IP: "127.0.0.1", Port: firstPort},
		})
		if err != nil {
			return err
		}
		created(demo)
		return nil
	})
}

// createMydemo creates demo. For a couple of seconds after its CRD is
// Established, kube-apiserver still answers creates of it with 404: those
// are tried again, so that the bench's first creates wait that out, and
// nothing is timed before they succeed.
func createMydemo(ctx context.Context, client clientset.Interface, demo *crddemov1.Mydemo) (*crddemov1.Mydemo, error) {
	deadline := time.Now().Add(crdServedTimeout)
	for {
		created, err := client.CrddemoV1().Mydemos(demo.Namespace).Create(ctx, demo, metav1.CreateOptions{})
		if err == nil || !apierrors.IsNotFound(err) || time.Now().After(deadline) {
			if err != nil {
				return nil, fmt.Errorf("creating mydemo %s/%s: %w", demo.Namespace, demo.Name, err)
			}
			return created, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("creating mydemo %s/%s: %w", demo.Namespace, demo.Name, context.Cause(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
