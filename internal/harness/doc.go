// Package harness starts crddemo (StartCrddemo, with the shared lease
// timings of LeaderElectionFlags) and observes it from the outside, the way
// a user or a Deployment would: through the API (a Mydemo's status, its
// events) and through its /readyz endpoint. hack/demo, the integration tests
// and the benchmark wait on these states, with deadlines, rather than on log
// lines. For the fault tests, a Proxy between crddemo and the API server
// cuts crddemo off while the API server keeps serving.
package harness
