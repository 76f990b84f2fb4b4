// Package crddemo holds the name of the API group that crddemo serves.
package crddemo

// GroupName is the API group of every crddemo kind; the CRD in crd/mydemo.yaml
// must use the same name.
const GroupName = "crddemo.k8s.io"
