package harness

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/domac/crddemo/internal/controlplane"
	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

// crdServedTimeout bounds how long creates may still be refused after the
// CRD is Established (about 2 s on kube-apiserver 1.37).
const crdServedTimeout = 30 * time.Second

// InstallCRD applies crd/mydemo.yaml with cp's kubectl and waits, up to
// timeout, until the API server has Established it.
func InstallCRD(ctx context.Context, cp *controlplane.ControlPlane, timeout time.Duration) error {
	root, err := controlplane.RepoRoot()
	if err != nil {
		return err
	}
	for _, args := range [][]string{
		{"apply", "-f", filepath.Join(root, "crd", "mydemo.yaml")},
		{"wait", "--for=condition=Established", "--timeout=" + timeout.String(), "crd/mydemos.crddemo.k8s.io"},
	} {
		if output, err := cp.Kubectl(ctx, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("installing the CRD: kubectl %s: %w: %s", strings.Join(args, " "), err, output)
		}
	}
	return nil
}

// CreateMydemo creates demo. For a couple of seconds after its CRD is
// Established, kube-apiserver still answers creates of it with 404: those
// are tried again, every PollInterval, for up to crdServedTimeout.
func CreateMydemo(ctx context.Context, client clientset.Interface, demo *crddemov1.Mydemo) (*crddemov1.Mydemo, error) {
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
		case <-time.After(PollInterval):
		}
	}
}
