package main

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
)

const (
	// apiCheckTimeout bounds one check, for an address that drops packets
	// rather than refusing the connection.
	apiCheckTimeout = 10 * time.Second
	// apiCheckMaxInterval caps the backoff between checks, and so how long
	// the log stays quiet while the controller is stuck.
	apiCheckMaxInterval = 30 * time.Second
)

// reportUntilAPIAvailable explains, in one readable line per attempt, why
// the controller cannot start syncing yet: an API server it cannot reach, or
// a cluster without the Mydemo CRD. The informer retries on its own, but
// logs unreachable servers only at high verbosity, so without this a user
// would see nothing. It returns once the Mydemo API answers.
func reportUntilAPIAvailable(ctx context.Context, client clientset.Interface, host string) {
	logger := klog.FromContext(ctx)
	interval := time.Second
	for failures := 0; ; failures++ {
		err := checkMydemoAPI(ctx, client)
		switch {
		case err == nil:
			if failures > 0 {
				logger.Info("The Mydemo API is now available", "host", host)
			}
			return
		case ctx.Err() != nil:
			return
		case apierrors.IsNotFound(err):
			logger.Error(nil, "The Mydemo CRD is not installed; waiting for it. Install it with: kubectl apply -f crd/mydemo.yaml",
				"crd", "mydemos."+crddemov1.SchemeGroupVersion.Group, "retryIn", interval)
		default:
			logger.Error(err, "Cannot reach the Kubernetes API server; will keep retrying", "host", host, "retryIn", interval)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		interval = min(2*interval, apiCheckMaxInterval)
	}
}

// checkMydemoAPI asks the API server for the crddemo.k8s.io/v1 API, which it
// serves once the CRD is installed.
func checkMydemoAPI(ctx context.Context, client clientset.Interface) error {
	ctx, cancel := context.WithTimeout(ctx, apiCheckTimeout)
	defer cancel()
	return client.Discovery().RESTClient().Get().
		AbsPath("/apis", crddemov1.SchemeGroupVersion.Group, crddemov1.SchemeGroupVersion.Version).
		Do(ctx).Error()
}
