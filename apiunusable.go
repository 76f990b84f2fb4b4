package main

import (
	"errors"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// apiUnusable reports whether err says that the Mydemo API cannot serve
// crddemo at the moment, whatever the request: the API server is
// unreachable, restarting, overloaded or timing out, or it refuses crddemo
// (credentials rejected, a permission or the CRD missing) until something
// outside crddemo changes. It is false for a failure of one request, such as
// a conflict or an expired resourceVersion, that a retry of the sync fixes
// at once. The informer's guard waits such a problem out; the sync says so
// in its log line and leaves the retry to the workqueue.
func apiUnusable(err error) bool {
	var netErr net.Error
	return apierrors.IsNotFound(err) || apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err) || apierrors.IsInternalError(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.As(err, &netErr)
}
