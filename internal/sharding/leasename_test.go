package sharding

import (
	"testing"

	"github.com/domac/crddemo/internal/shard"
)

func TestShardLeaseNameNamesTheRange(t *testing.T) {
	if got, want := ShardLeaseName("crddemo", shard.Split(4)[1]), "crddemo-shard-4000000000000000-7fffffffffffffff"; got != want {
		t.Errorf("ShardLeaseName(crddemo, second of 4) = %q, want %q", got, want)
	}
	for _, n := range []int{1, 4, 6, 8, shard.MaxShards} {
		for _, r := range shard.Split(n) {
			name := ShardLeaseName("crddemo", r)
			if got, ok := parseShardLeaseName("crddemo", name); !ok || got != r {
				t.Errorf("parseShardLeaseName(%q) = %v, %t; want %v", name, got, ok, r)
			}
		}
	}
}

func TestParseShardLeaseNameRefusesOtherLeases(t *testing.T) {
	for _, name := range []string{
		"crddemo",                         // the leader's Lease
		"crddemo-member-0123456789abcdef", // a membership Lease
		"crddemo-shard-0-of-6",            // the old naming
		"other-shard-0000000000000000-ffffffffffffffff", // another group's
		"crddemo-shard-0000000000000000",
		"crddemo-shard-000000000000000-ffffffffffffffff",
		"crddemo-shard-ffffffffffffffff-0000000000000000", // empty
		"crddemo-shard-000000000000000g-ffffffffffffffff",
	} {
		if r, ok := parseShardLeaseName("crddemo", name); ok {
			t.Errorf("parseShardLeaseName(%q) = %v, want no shard Lease of crddemo", name, r)
		}
	}
}
