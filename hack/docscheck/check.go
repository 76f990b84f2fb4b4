package main

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

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
