// Package harness observes a running crddemo from the outside, the way a
// user or a Deployment would: through the API (a Mydemo's status, its
// events) and through its /readyz endpoint. hack/demo, the integration tests
// and the benchmark wait on these states, with deadlines, rather than on log
// lines.
package harness
