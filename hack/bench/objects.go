package main

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/harness"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

const (
	// firstPort is every new Mydemo's port; the update phase changes it to
	// updatedPort.
	firstPort   = 8080
	updatedPort = 9090
)

// createMydemos creates Mydemos prefix-0 to prefix-(n-1) in namespace from
// parallel writers, and hands each to created as the API server returned it.
func createMydemos(ctx context.Context, client clientset.Interface, namespace, prefix string, n int,
	created func(*crddemov1.Mydemo)) error {
	return forEach(ctx, n, func(ctx context.Context, i int) error {
		demo, err := harness.CreateMydemo(ctx, client, &crddemov1.Mydemo{
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
