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
	if o.n != 1000 || o.crddemo != "releases/crddemo" || o.timeout != 10*time.Minute || len(o.crddemoFlags) != 0 {
		t.Errorf("defaults = %+v, want N 1000, releases/crddemo, 10m and no crddemo flags", o)
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
	} {
		if _, err := parseOptions(c.args, io.Discard); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseOptions(%q) = %v, want an error containing %q", c.args, err, c.want)
		}
	}
	if _, err := parseOptions([]string{"--help"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("parseOptions(--help) = %v, want flag.ErrHelp", err)
	}
}
