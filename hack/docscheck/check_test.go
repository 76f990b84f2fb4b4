package main

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestUndocumentedFlags(t *testing.T) {
	usage := "crddemo watches Mydemo objects.\n\nUsage: crddemo [--kubeconfig=PATH] [flags]\n\n" +
		"crddemo flags:\n  --workers int\n        Workers. (default 16)\n  --version\n        Print the version.\n" +
		"Logging flags:\n  --log_file string\n        A file.\n  --log_file_max_size uint\n        A size.\n"
	flags := usageFlags(usage)
	if want := []string{"workers", "version", "log_file", "log_file_max_size"}; !slices.Equal(flags, want) {
		t.Fatalf("usageFlags = %q, want %q", flags, want)
	}
	for _, tc := range []struct {
		name, docs string
		missing    []string
	}{
		{"all named", "`--workers`, `--version`, `--log_file` and `--log_file_max_size`.", nil},
		{"with a value", "`--workers=4` `--version` `--log_file=x` `--log_file_max_size`", nil},
		{"none", "Nothing here.", []string{"workers", "version", "log_file", "log_file_max_size"}},
		{"a longer flag does not name a shorter one", "`--workers` `--version` `--log_file_max_size`", []string{"log_file"}},
		{"outside backticks", "--workers `--version` `--log_file` `--log_file_max_size`", []string{"workers"}},
		{"one dash", "`-workers` `--version` `--log_file` `--log_file_max_size`", []string{"workers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := undocumentedFlags(flags, tc.docs); !slices.Equal(got, tc.missing) {
				t.Errorf("undocumentedFlags = %q, want %q", got, tc.missing)
			}
		})
	}
}

func TestHeadingAnchors(t *testing.T) {
	for heading, want := range map[string]string{
		"Two commands":                    "two-commands",
		"Scaling out with --shards":       "scaling-out-with---shards",
		"Scaling out with `--shards`":     "scaling-out-with---shards",
		"HTTPS and authorization":         "https-and-authorization",
		"What crddemo may do (RBAC)":      "what-crddemo-may-do-rbac",
		"The walkthrough: step 1.":        "the-walkthrough-step-1",
		"see [the docs](docs/flags.md)":   "see-the-docs",
		"snake_case and Ünïcode":          "snake_case-and-ünïcode",
		"Leader election & failover":      "leader-election--failover",
		"Readiness and metrics of shards": "readiness-and-metrics-of-shards",
	} {
		if got := headingAnchor(heading); got != want {
			t.Errorf("headingAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
	text := "# Title\n\n## Setup\n\n```sh\n# not a heading\n```\n\n## Setup\n\n### Setup ###\n"
	got := headingAnchors(text)
	for _, want := range []string{"title", "setup", "setup-1", "setup-2"} {
		if !got[want] {
			t.Errorf("headingAnchors lacks %q: %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Errorf("headingAnchors took a comment in a code block for a heading: %v", got)
	}
}

func TestBrokenLinks(t *testing.T) {
	fsys := fstest.MapFS{
		"README.md": {Data: []byte("# crddemo\n\n## Two commands\n\n" +
			"[flags](docs/flags.md), [its exit codes](docs/flags.md#exit-codes), [here](#two-commands),\n" +
			"[code](controller.go), [a directory](deploy), [the web](https://kubernetes.io/docs/#x),\n" +
			"[gone](docs/gone.md), [no heading](docs/flags.md#no-such-heading), [not here](#nowhere),\n" +
			"`[in code](docs/gone.md)` and [a heading in Go](controller.go#L10)\n\n" +
			"```md\n[in a block](docs/gone.md)\n```\n\n[ref]: docs/missing.md\n")},
		"docs/flags.md":  {Data: []byte("# Flags\n\n## Exit codes\n\n[back](../README.md#two-commands) [out](../../x.md)\n")},
		"controller.go":  {Data: []byte("package main\n")},
		"deploy/a.yaml":  {Data: []byte("a: b\n")},
		"docs/other.txt": {Data: []byte("")},
	}
	got := brokenLinks(fsys, []string{"README.md", "docs/flags.md"})
	want := []string{
		"README.md:7: link docs/gone.md: no such file or directory",
		"README.md:7: link docs/flags.md#no-such-heading: docs/flags.md has no heading",
		"README.md:7: link #nowhere: README.md has no heading",
		"README.md:8: link controller.go#L10: a heading anchor on a file that is not Markdown",
		"README.md:14: link docs/missing.md: no such file or directory",
		"docs/flags.md:5: link ../../x.md: outside the repository",
	}
	if len(got) != len(want) {
		t.Fatalf("brokenLinks found %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, got[i], want[i])
		}
	}
	if problems := brokenLinks(fsys, []string{"docs/none.md"}); len(problems) != 1 {
		t.Errorf("a missing page gave %q, want one problem", problems)
	}
}
