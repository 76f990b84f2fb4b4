package main

import (
	"bytes"
	"errors"
	"flag"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseOptionsDefaults(t *testing.T) {
	o, err := parseOptions([]string{"--version=v1.2.3-4-gabcdef0-dirty"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.ref.String() != "crddemo:v1.2.3-4-gabcdef0-dirty" || o.output != "releases/crddemo-v1.2.3-4-gabcdef0-dirty.tar" ||
		o.arch != runtime.GOARCH || !o.created.Equal(time.Unix(0, 0)) || o.revision != "" ||
		o.source != "https://github.com/domac/crddemo" {
		t.Errorf("options = %+v, want crddemo:VERSION into releases/crddemo-VERSION.tar for %s, created 1970, no revision",
			o, runtime.GOARCH)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"--version=v1.2.3", "--tag=registry.example.com/crddemo:v1", "--output=out/x.tar",
		"--created=1764918000", "--revision=abc", "--arch=arm64", "--source="}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.ref.String() != "registry.example.com/crddemo:v1" || o.output != "out/x.tar" || o.arch != "arm64" ||
		!o.created.Equal(time.Unix(1764918000, 0)) || o.revision != "abc" || o.source != "" {
		t.Errorf("options = %+v", o)
	}
}

// TestParseOptionsRefuses checks that each mistake is one line that names
// the flag, which main prints before it exits 2.
func TestParseOptionsRefuses(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--version is required"},
		{[]string{"--version="}, "--version is required"},
		{[]string{"--version=v1 2"}, `--version="v1 2"`},
		{[]string{"--version=-X"}, `--version="-X"`},
		{[]string{"--version=v1", "--tag=Crddemo:v1"}, "--tag"},
		{[]string{"--version=v1", "--created=-1"}, "--created=-1"},
		{[]string{"--version=v1", "--created=yesterday"}, "-created"},
		{[]string{"--version=v1", "--arch="}, "--arch"},
		{[]string{"--version=v1", "--no-such-flag"}, "no-such-flag"},
		{[]string{"--version=v1", "extra"}, `unexpected argument "extra"`},
	} {
		var out bytes.Buffer
		_, err := parseOptions(c.args, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("parseOptions(%q) = %v, want one line about %s", c.args, err, c.want)
		}
		if out.Len() != 0 {
			t.Errorf("parseOptions(%q) printed %q, want only the error", c.args, out.String())
		}
	}
}

func TestParseOptionsHelp(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseOptions([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseOptions(--help) = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"Usage: go run ./hack/image", "-version", "-tag", "-created"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not say %q:\n%s", want, out.String())
		}
	}
}
