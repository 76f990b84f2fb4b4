package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/component-base/metrics"
	"k8s.io/klog/v2"
)

const (
	// apiRetryInterval is how often a list or watch of Mydemos is tried
	// again while the Mydemo API cannot be used: quick to notice that it is
	// back, at one request a second.
	apiRetryInterval = time.Second
	// apiProblemLogInterval is how often a problem that lasts is logged
	// again, so that the log says what is wrong for as long as it is wrong
	// without filling up.
	apiProblemLogInterval = 30 * time.Second
)

// apiHealth knows whether crddemo can use the Mydemo API, and says so: one
// readable line, with what to do, when a problem starts, again every
// apiProblemLogInterval while it lasts, and one line when it ends. /readyz
// fails meanwhile. guard wraps the informer's list and watch calls.
type apiHealth struct {
	host string
	// credentials says how crddemo authenticates, to name it when the API
	// server rejects them.
	credentials string
	// retryInterval and logInterval are apiRetryInterval and
	// apiProblemLogInterval, shorter in tests.
	retryInterval, logInterval time.Duration

	mu         sync.Mutex
	problem    error // nil while the API answers
	lastLogged time.Time
}

// apiAvailable is what the mydemo-api readiness check knows, as a metric:
// /readyz only reaches the kubelet, which takes the pod out of its Service
// but tells no one, while an alert needs to tell "crddemo cannot use the
// API" apart from "crddemo is down". It starts at 0, before crddemo has
// heard from the API server at all.
var apiAvailable = metrics.NewGauge(&metrics.GaugeOpts{
	Namespace: "crddemo",
	Name:      "api_available",
	Help: "1 while the Mydemo API answers crddemo's list and watch calls, 0 while it cannot be used " +
		"(unreachable, credentials rejected, forbidden, CRD missing) and before its first answer.",
	StabilityLevel: metrics.ALPHA,
})

func newAPIHealth(host, credentials string) *apiHealth {
	registerMetrics()
	return &apiHealth{host: host, credentials: credentials, retryInterval: apiRetryInterval, logInterval: apiProblemLogInterval}
}

// Name and Check make apiHealth a /readyz check.
func (h *apiHealth) Name() string { return "mydemo-api" }

// Check fails while the Mydemo API cannot be used.
func (h *apiHealth) Check(*http.Request) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.problem != nil {
		return fmt.Errorf("the Mydemo API cannot be used: %w", h.problem)
	}
	return nil
}

// guard runs call, an informer's list or watch. While it fails because the
// API cannot be used (apiUnusable), guard reports it and tries again every
// apiRetryInterval until it works or ctx ends. This is the one retry outside
// the workqueue, for the informer alone: client-go's reflector would back
// off for up to a minute, and TestFaultAPIServerRestartMidBurst and
// TestFaultCRDDeletedAndRecreated need syncing to resume within seconds of
// the API coming back.
func guard[T any](ctx context.Context, h *apiHealth, call func(context.Context) (T, error)) (T, error) {
	for {
		result, err := call(ctx)
		if err == nil {
			h.recovered(ctx)
			return result, nil
		}
		if ctx.Err() != nil || !apiUnusable(err) {
			return result, err
		}
		h.report(ctx, err)
		select {
		case <-ctx.Done():
			return result, err
		case <-time.After(h.retryInterval):
		}
	}
}

// report records err as the current problem, sets crddemo_api_available to
// 0, and logs it if it is new, or if it has not been logged for
// apiProblemLogInterval.
func (h *apiHealth) report(ctx context.Context, err error) {
	apiAvailable.Set(0)
	h.mu.Lock()
	defer h.mu.Unlock()
	same := h.problem != nil && h.problem.Error() == err.Error()
	h.problem = err
	if same && time.Since(h.lastLogged) < h.logInterval {
		return
	}
	h.lastLogged = time.Now()
	logger := klog.FromContext(ctx)
	switch {
	case apierrors.IsNotFound(err):
		logger.Error(err, "Failed to list *v1.Mydemo: the Mydemo CRD is not installed; waiting for it. "+
			"Install it with: kubectl apply -f crd/mydemo.yaml", "crd", "mydemos.crddemo.k8s.io")
	case apierrors.IsUnauthorized(err):
		logger.Error(err, "The Kubernetes API server rejects crddemo's credentials; check that they are valid and not expired",
			"host", h.host, "credentials", h.credentials)
	case apierrors.IsForbidden(err):
		logger.Error(err, "The Kubernetes API server forbids crddemo to list or watch Mydemos; "+
			"grant it the verbs of the ClusterRole in deploy/rbac.yaml", "host", h.host)
	default:
		logger.Error(err, "Cannot reach the Kubernetes API server; will keep retrying", "host", h.host)
	}
}

// recovered sets crddemo_api_available to 1 and clears the problem, if there
// was one, and says so.
func (h *apiHealth) recovered(ctx context.Context) {
	// Set on every answer, not only after a problem, since the gauge starts
	// at 0.
	apiAvailable.Set(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.problem == nil {
		return
	}
	h.problem = nil
	klog.FromContext(ctx).Info("The Mydemo API is now available", "host", h.host)
}
