package sharding

import "k8s.io/apimachinery/pkg/util/resourceversion"

// laterVersion returns the later of two resourceVersions. "" is earlier than
// any, and of two that do not compare (from an API server that does not
// promise comparable versions) a is kept.
func laterVersion(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	if order, err := resourceversion.CompareResourceVersion(a, b); err == nil && order < 0 {
		return b
	}
	return a
}
