// Package sizing turns crddemo's peak memory, as make bench measures it, into
// the memory limit that deploy/ must give it: the bench prints that limit,
// and a test holds the Deployment to the figure recorded from a run.
package sizing

import "math"

// Headroom is how far the memory limit must stay above the measured peak
// RSS: the bench's Mydemos are small and its run short, and a real fleet's
// objects, a garbage collection that comes late or a burst of changes
// during a relist take more.
const Headroom = 1.25

// MinMemoryLimitMiB is the least memory limit, in whole MiB, for a process
// whose peak RSS was peakRSS bytes.
func MinMemoryLimitMiB(peakRSS int64) int64 {
	return int64(math.Ceil(float64(peakRSS) * Headroom / (1 << 20)))
}
