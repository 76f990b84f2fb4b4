package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode"
)

// The docs check: every flag that --help prints is named under docs/, and
// every relative link in the Markdown pages reaches a file and, if it names
// one, a heading of that file.

// docsPages are the pages whose links TestDocsLinksResolve follows: the
// README, every page under docs/, and the monitoring README.
func docsPages(fsys fs.FS) ([]string, error) {
	pages, err := fs.Glob(fsys, "docs/*.md")
	if err != nil {
		return nil, err
	}
	return append([]string{"README.md", "deploy/monitoring/README.md"}, pages...), nil
}

// TestDocsNameEveryFlag fails when a flag that crddemo --help prints is not
// named, as `--flag-name` in backticks, on any page under docs/.
func TestDocsNameEveryFlag(t *testing.T) {
	var usage bytes.Buffer
	if _, err := parseOptions([]string{"--help"}, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseOptions(--help) = %v, want flag.ErrHelp", err)
	}
	flags := usageFlags(usage.String())
	if len(flags) < 20 {
		t.Fatalf("found only %d flags in the --help output, is its format new?\n%s", len(flags), usage.String())
	}
	pages, err := fs.Glob(os.DirFS("."), "docs/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages under docs/: %v", err)
	}
	var docs strings.Builder
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(text)
	}
	for _, name := range undocumentedFlags(flags, docs.String()) {
		t.Errorf("crddemo --help prints --%s, but no page under docs/ names it as `--%s`", name, name)
	}
}

// TestDocsLinksResolve fails when a relative link in the pages points to a
// file that does not exist or to a heading that its file does not have.
func TestDocsLinksResolve(t *testing.T) {
	fsys := os.DirFS(".")
	pages, err := docsPages(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range brokenLinks(fsys, pages) {
		t.Error(problem)
	}
}

// usageFlagLine is how printUsage starts a flag's entry: "  --name type".
var usageFlagLine = regexp.MustCompile(`(?m)^  --([^\s=]+)`)

// usageFlags returns the names of the flags in --help's output.
func usageFlags(usage string) []string {
	var names []string
	for _, m := range usageFlagLine.FindAllStringSubmatch(usage, -1) {
		names = append(names, m[1])
	}
	return names
}

// undocumentedFlags returns the flags that docs never names in a code span
// as `--name`, or with a value, as `--name=value`.
func undocumentedFlags(flags []string, docs string) []string {
	var missing []string
	for _, name := range flags {
		named := regexp.MustCompile("`--" + regexp.QuoteMeta(name) + "(=[^`]*)?`")
		if !named.MatchString(docs) {
			missing = append(missing, name)
		}
	}
	return missing
}

var (
	// inlineLink is [text](target) or [text](target "title"); an image
	// ![alt](target) matches too, and is checked the same way.
	inlineLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// referenceLink is a reference definition: [label]: target.
	referenceLink = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*(\S+)`)
	// codeSpan is inline code, whose brackets are no links.
	codeSpan = regexp.MustCompile("`+[^`]*`+")
	// atxHeading is a heading line: one to six #, a space, the text.
	atxHeading = regexp.MustCompile(`^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$`)
	// urlScheme marks a link that leaves the repository, such as https:.
	urlScheme = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// markdownLines returns the lines of a Markdown text that are outside
// fenced code blocks, with their numbers.
func markdownLines(text string) (lines []string, numbers []int) {
	fence := ""
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case fence != "":
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" ") == "" {
				fence = ""
			}
			continue
		case strings.HasPrefix(trimmed, "```"), strings.HasPrefix(trimmed, "~~~"):
			marker := trimmed[:1]
			fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, marker))]
			continue
		}
		lines = append(lines, line)
		numbers = append(numbers, i+1)
	}
	return lines, numbers
}

// headingAnchors returns the anchors GitHub gives the headings of a Markdown
// text, repeated headings numbered -1, -2 and so on as GitHub numbers them.
func headingAnchors(text string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	lines, _ := markdownLines(text)
	for _, line := range lines {
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		anchor := headingAnchor(m[1])
		if n := seen[anchor]; n > 0 {
			anchors[fmt.Sprintf("%s-%d", anchor, n)] = true
		} else {
			anchors[anchor] = true
		}
		seen[anchor]++
	}
	return anchors
}

// markdownLinkText is a link inside a heading, whose text alone counts.
var markdownLinkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// headingAnchor is GitHub's anchor for a heading's text: the text as it
// reads (links reduced to their text, no code marks), lowercased, spaces
// turned into '-', and every character but letters, digits, '-' and '_'
// dropped.
func headingAnchor(heading string) string {
	heading = markdownLinkText.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-', r == '_', unicode.IsLetter(r), unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// brokenLinks checks the relative links of pages in fsys and returns one
// line for each that reaches no file, or no heading of its file.
func brokenLinks(fsys fs.FS, pages []string) []string {
	var problems []string
	texts := map[string]string{}
	read := func(name string) (string, error) {
		if text, ok := texts[name]; ok {
			return text, nil
		}
		data, err := fs.ReadFile(fsys, name)
		texts[name] = string(data)
		return string(data), err
	}
	for _, page := range pages {
		text, err := read(page)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", page, err))
			continue
		}
		lines, numbers := markdownLines(text)
		for i, line := range lines {
			var targets []string
			if m := referenceLink.FindStringSubmatch(line); m != nil {
				targets = append(targets, m[1])
			}
			for _, m := range inlineLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(line, ""), -1) {
				targets = append(targets, m[1])
			}
			for _, target := range targets {
				if problem := checkLink(fsys, page, target, read); problem != "" {
					problems = append(problems, fmt.Sprintf("%s:%d: link %s: %s", page, numbers[i], target, problem))
				}
			}
		}
	}
	return problems
}

// checkLink returns what is wrong with one link of page, or "".
func checkLink(fsys fs.FS, page, target string, read func(string) (string, error)) string {
	target = strings.Trim(target, "<>")
	if urlScheme.MatchString(target) || strings.HasPrefix(target, "//") {
		return "" // not in the repository
	}
	file, anchor, _ := strings.Cut(target, "#")
	file, err := url.PathUnescape(file)
	if err != nil {
		return err.Error()
	}
	name := page
	if file != "" {
		if strings.HasPrefix(file, "/") {
			return "an absolute path: GitHub resolves it from the site's root, not the repository's"
		}
		name = path.Join(path.Dir(page), file)
		if name == ".." || strings.HasPrefix(name, "../") {
			return "outside the repository"
		}
		if _, err := fs.Stat(fsys, name); err != nil {
			return "no such file or directory"
		}
	}
	if anchor == "" {
		return ""
	}
	if !strings.HasSuffix(name, ".md") {
		return "a heading anchor on a file that is not Markdown"
	}
	text, err := read(name)
	if err != nil {
		return err.Error()
	}
	anchors := headingAnchors(text)
	if !anchors[strings.ToLower(anchor)] {
		known := make([]string, 0, len(anchors))
		for a := range anchors {
			known = append(known, a)
		}
		slices.Sort(known)
		return fmt.Sprintf("%s has no heading with the anchor #%s (it has: %s)", name, anchor, strings.Join(known, ", "))
	}
	return ""
}

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
