package shard

import (
	"fmt"
	"math"
	"math/bits"
)

// MaxShards is the most ranges Split makes: far more replicas than crddemo
// would ever run, and a bound that keeps a mistyped count from splitting the
// space into slivers.
const MaxShards = 256

// Range is the hashes from Low to Max, both included. The API server writes
// a range as [low, high) with high up to 2^64, which no uint64 holds, so
// Range keeps the largest hash it contains instead: the top range simply has
// Max = math.MaxUint64.
type Range struct {
	Low, Max uint64
}

// Split cuts the hash space into n ranges of equal size (to within one hash),
// in order, the last ending at the top of the space. It panics unless
// 1 <= n <= MaxShards: the count comes from configuration that its caller
// validates.
func Split(n int) []Range {
	if n < 1 || n > MaxShards {
		panic(fmt.Sprintf("shard.Split(%d): want 1 to %d ranges", n, MaxShards))
	}
	ranges := make([]Range, n)
	for i := range ranges {
		ranges[i] = Range{Low: boundary(i, n), Max: math.MaxUint64}
		if i > 0 {
			ranges[i-1].Max = ranges[i].Low - 1
		}
	}
	return ranges
}

// boundary is where the i-th of n ranges starts: floor(i * 2^64 / n).
func boundary(i, n int) uint64 {
	q, _ := bits.Div64(uint64(i), 0, uint64(n)) // i < n, so the quotient fits
	return q
}

// Contains says whether hash falls in r.
func (r Range) Contains(hash uint64) bool {
	return r.Low <= hash && hash <= r.Max
}

// Overlaps says whether r and o share a hash: ranges of two different
// splits of the space may, and must then never be owned at once.
func (r Range) Overlaps(o Range) bool {
	return r.Low <= o.Max && o.Low <= r.Max
}

// Selector is r as a ListOptions.ShardSelector. The API server wants each
// bound as exactly 16 lowercase hex digits after 0x, and accepts the one
// 17-digit bound 0x10000000000000000 (2^64) as the end of the space.
func (r Range) Selector() string {
	return fmt.Sprintf("shardRange(object.metadata.uid, '%s', '%s')", hex(r.Low), r.end())
}

// String is r as the half-open range that its selector names, for logs.
func (r Range) String() string {
	return fmt.Sprintf("[%s, %s)", hex(r.Low), r.end())
}

// end is r's exclusive upper bound in the API server's notation.
func (r Range) end() string {
	if r.Max == math.MaxUint64 {
		return "0x10000000000000000"
	}
	return hex(r.Max + 1)
}

func hex(v uint64) string {
	return fmt.Sprintf("0x%016x", v)
}
