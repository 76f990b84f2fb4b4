package serving

import (
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
)

// The API group and resource whose subresources name crddemo's endpoints in
// a SubjectAccessReview. No API serves mydemos/metrics or mydemos/pprof, so
// granting them grants crddemo's metrics or profiles and nothing else: not
// the Mydemos themselves, nor any other component's /metrics.
const (
	attributesGroup    = "crddemo.k8s.io"
	attributesResource = "mydemos"
)

// AccessAttributes says what a SubjectAccessReview asks about for a request's
// verb and path: the attributes of its spec, or ok false for a path that no
// role can grant, which is refused without a review.
type AccessAttributes func(verb, path string) (spec authorizationv1.SubjectAccessReviewSpec, ok bool)

// ResourceAttributes asks about crddemo's endpoints as subresources of
// mydemos in crddemo.k8s.io, in namespace (crddemo's own), the way
// kube-rbac-proxy's resourceAttributes name what it guards: /metrics is
// mydemos/metrics and /debug/pprof/ and below are mydemos/pprof. A Role in
// that namespace can grant them; nonResourceURLs cannot be scoped so.
func ResourceAttributes(namespace string) AccessAttributes {
	return func(verb, path string) (authorizationv1.SubjectAccessReviewSpec, bool) {
		var subresource string
		switch {
		case path == "/metrics":
			subresource = "metrics"
		case path == "/debug/pprof" || strings.HasPrefix(path, "/debug/pprof/"):
			subresource = "pprof"
		default:
			return authorizationv1.SubjectAccessReviewSpec{}, false
		}
		return authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace:   namespace,
			Verb:        verb,
			Group:       attributesGroup,
			Resource:    attributesResource,
			Subresource: subresource,
		}}, true
	}
}

// PathAttributes asks about the path itself, as RBAC's nonResourceURLs grant
// it. A role that grants /metrics so grants every component's /metrics,
// kube-apiserver's included.
func PathAttributes(verb, path string) (authorizationv1.SubjectAccessReviewSpec, bool) {
	return authorizationv1.SubjectAccessReviewSpec{
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: verb, Path: path},
	}, true
}
