// Command docscheck keeps the documentation honest: every flag that
// crddemo --help prints is named under docs/, and every relative link in
// README.md, docs/ and deploy/monitoring/README.md reaches a file and, if it
// names one, a heading of that file. make test runs it; it prints one line a
// problem and exits 1 if there is any.
//
// Usage, from the repository root:
//
//	go run ./hack/docscheck --crddemo=releases/crddemo
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
)

func main() {
	crddemo := flag.String("crddemo", "releases/crddemo", "The crddemo binary whose --help lists the flags.")
	root := flag.String("root", ".", "The repository's root.")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "docscheck: unexpected argument %q: docscheck takes only flags\n", flag.Arg(0))
		os.Exit(2)
	}
	problems, err := check(*crddemo, os.DirFS(*root))
	if err != nil {
		fmt.Fprintf(os.Stderr, "docscheck: %v\n", err)
		os.Exit(1)
	}
	for _, problem := range problems {
		fmt.Println(problem)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// check returns the flags of crddemo's --help that no page under docs/
// names, and the links that reach nothing.
func check(crddemo string, fsys fs.FS) ([]string, error) {
	var usage, stderr bytes.Buffer
	cmd := exec.Command(crddemo, "--help")
	cmd.Stdout, cmd.Stderr = &usage, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("running %s --help: %w: %s", crddemo, err, strings.TrimSpace(stderr.String()))
	}
	flags := usageFlags(usage.String())
	if len(flags) < 20 {
		return nil, fmt.Errorf("found only %d flags in %s --help, is its format new?\n%s", len(flags), crddemo, usage.String())
	}
	pages, err := fs.Glob(fsys, "docs/*.md")
	if err != nil || len(pages) == 0 {
		return nil, errors.Join(errors.New("no pages under docs/"), err)
	}
	var docs strings.Builder
	for _, page := range pages {
		text, err := fs.ReadFile(fsys, page)
		if err != nil {
			return nil, err
		}
		docs.Write(text)
	}
	var problems []string
	for _, name := range undocumentedFlags(flags, docs.String()) {
		problems = append(problems, fmt.Sprintf("crddemo --help prints --%s, but no page under docs/ names it as `--%s`", name, name))
	}
	linked := append([]string{"README.md", "deploy/monitoring/README.md"}, pages...)
	return append(problems, brokenLinks(fsys, linked)...), nil
}
