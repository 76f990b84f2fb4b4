package main

import (
	"slices"
	"testing"
)

func TestSpreadEvenly(t *testing.T) {
	for _, c := range []struct {
		owned  []int
		shards int
		want   bool
	}{
		{[]int{1}, 1, true},
		{[]int{1, 1}, 2, true},
		{[]int{2, 0}, 2, false}, // all owned, but one replica over its share
		{[]int{1, 0}, 2, false}, // one shard without an owner
		{[]int{2, 2, 2, 2}, 8, true},
		{[]int{2, 1}, 3, true}, // ceil(3/2) is as even as it gets
		{[]int{3, 0}, 3, false},
		{[]int{0, 0, 0, 0}, 4, false},
	} {
		if got := spreadEvenly(c.owned, c.shards); got != c.want {
			t.Errorf("spreadEvenly(%v, %d) = %t, want %t", c.owned, c.shards, got, c.want)
		}
	}
}

func TestShardingFlags(t *testing.T) {
	got := shardingFlags(4)
	if !slices.Contains(got, "--leader-elect") || !slices.Contains(got, "--shards=4") ||
		!slices.Contains(got, "--leader-elect-retry-period=500ms") || !slices.Contains(got, "--leader-elect-resource-namespace=default") {
		t.Errorf("shardingFlags(4) = %q", got)
	}
	// Every flag the bench sets is one the user may not set too.
	o := options{n: 1, timeout: 1, replicas: 2, shards: 4, crddemoFlags: got}
	for _, f := range got {
		o.crddemoFlags = []string{f}
		if err := o.validate(); err == nil {
			t.Errorf("the bench sets %s, but a user may set it too", f)
		}
	}
}
