package sharding

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/domac/crddemo/internal/shard"
)

// ShardLeaseName is the Lease that decides who owns the hashes of r among
// the replicas of group. The name is the range, not an index and a count,
// so that replicas that split the space differently, as during a rolling
// update that changes --shards, see which of each other's Leases overlap
// theirs. hack/bench holds these Leases itself until every replica it starts
// has counted the others.
func ShardLeaseName(group string, r shard.Range) string {
	return fmt.Sprintf("%s%016x-%016x", shardLeasePrefix(group), r.Low, r.Max)
}

// shardLeasePrefix begins the name of every shard Lease of group.
func shardLeasePrefix(group string) string {
	return group + "-shard-"
}

// parseShardLeaseName is the range of a Lease named by ShardLeaseName for
// group, and false for any other name.
func parseShardLeaseName(group, name string) (shard.Range, bool) {
	bounds, ok := strings.CutPrefix(name, shardLeasePrefix(group))
	if !ok {
		return shard.Range{}, false
	}
	low, max, ok := strings.Cut(bounds, "-")
	if !ok || len(low) != 16 || len(max) != 16 {
		return shard.Range{}, false
	}
	l, errLow := strconv.ParseUint(low, 16, 64)
	m, errMax := strconv.ParseUint(max, 16, 64)
	if errLow != nil || errMax != nil || l > m {
		return shard.Range{}, false
	}
	return shard.Range{Low: l, Max: m}, true
}

// memberLeaseName is a replica's membership Lease in group (members.go): a
// name valid whatever the host name holds, the group's and a hash of the
// identity.
func memberLeaseName(group, identity string) string {
	// FNV-1a again but not shard.Hash: this only shortens a name, and must
	// not change if shard.Hash follows the API server's hash elsewhere.
	h := fnv.New64a()
	_, _ = h.Write([]byte(identity))
	return fmt.Sprintf("%s-member-%016x", group, h.Sum64())
}
