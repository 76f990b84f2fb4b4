// Package crddemo holds the name of the API group that crddemo serves.
package crddemo

// GroupName is the API group of every crddemo kind. The +groupName marker in
// v1/doc.go, which names the group of the generated clients and of the CRD in
// crd/mydemo.yaml, must say the same.
const GroupName = "crddemo.k8s.io"
