package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.n != 1000 || o.crddemo != "releases/crddemo" || o.timeout != 10*time.Minute || len(o.crddemoFlags) != 0 ||
		o.replicas != 1 || o.shards != 1 || o.sharded() || o.gated() {
		t.Errorf("defaults = %+v, want N 1000, releases/crddemo, 10m, no crddemo flags and one unsharded replica", o)
	}

	o, err = parseOptions([]string{"--n=10", "--crddemo-flag=--workers=16", "--crddemo-flag", "--kube-api-qps=2000",
		"--timeout=1m", "--", "-v=2", "--kube-api-burst=4000"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--workers=16", "--kube-api-qps=2000", "-v=2", "--kube-api-burst=4000"}
	if o.n != 10 || o.timeout != time.Minute || !slices.Equal(o.crddemoFlags, want) {
		t.Errorf("parsed %+v, want N 10, 1m and crddemo flags %q", o, want)
	}
}

func TestParseOptionsOfAFleet(t *testing.T) {
	for _, c := range []struct {
		args             []string
		replicas, shards int
		sharded, gated   bool
	}{
		{[]string{"--replicas=2", "--shards=2"}, 2, 2, true, true},
		{[]string{"--replicas=4", "--shards=8", "--sharded-list-and-watch=false"}, 4, 8, true, false},
		// One replica owning every shard: sharded, and the gate is on.
		{[]string{"--shards=3"}, 1, 3, true, true},
		// One shard has nothing to filter, whatever the flag says.
		{[]string{"--sharded-list-and-watch=true"}, 1, 1, false, false},
	} {
		o, err := parseOptions(c.args, io.Discard)
		if err != nil {
			t.Errorf("parseOptions(%q): %v", c.args, err)
			continue
		}
		if o.replicas != c.replicas || o.shards != c.shards || o.sharded() != c.sharded || o.gated() != c.gated {
			t.Errorf("parseOptions(%q) = %d replicas, %d shards, sharded %t, gated %t; want %d, %d, %t, %t",
				c.args, o.replicas, o.shards, o.sharded(), o.gated(), c.replicas, c.shards, c.sharded, c.gated)
		}
	}

	// Without --shards a replica may elect a leader, as before; a fleet
	// leaves its Leases to the bench.
	if _, err := parseOptions([]string{"--", "--leader-elect", "--leader-elect-retry-period=1s"}, io.Discard); err != nil {
		t.Errorf("--leader-elect for one unsharded crddemo: %v", err)
	}
}

func TestParseOptionsRejects(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--n=0"}, "at least one object"},
		{[]string{"--timeout=0s"}, "must be positive"},
		{[]string{"--crddemo-flag=--kubeconfig=/tmp/k"}, "sets --kubeconfig itself"},
		{[]string{"--", "-metrics-bind-address=:8080"}, "sets --metrics-bind-address itself"},
		{[]string{"--", "--metrics-secure"}, "sets --metrics-secure itself"},
		{[]string{"--", "--health-probe-bind-address", ":8081"}, "sets --health-probe-bind-address itself"},
		{[]string{"--", "--master=https://x"}, "sets --master itself"},
		{[]string{"--", "workers"}, "not a flag"},
		{[]string{"--no-such-flag"}, "not defined"},
		{[]string{"--replicas=0"}, "need at least one"},
		{[]string{"--shards=0"}, "need at least one"},
		{[]string{"--replicas=3", "--shards=2"}, "a replica without a shard"},
		{[]string{"--", "--shards=2"}, "sets --shards itself"},
		{[]string{"--shards=2", "--", "--leader-elect-resource-name=x"}, "sets --leader-elect-resource-name itself"},
		{[]string{"--replicas=2", "--shards=2", "--", "--leader-elect-retry-period=1s"}, "sets --leader-elect-retry-period itself"},
	} {
		if _, err := parseOptions(c.args, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseOptions(%q) = %v, want an error containing %q", c.args, err, c.want)
		}
	}
	if _, err := parseOptions([]string{"--help"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseOptions(--help) = %v, want flag.ErrHelp", err)
	}
}
