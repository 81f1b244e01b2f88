package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
)

// maxREADMELines is README's size as the front door: what tollgate is,
// the two commands, the three checks and a map to docs/, read in five
// minutes (issue 27).
const maxREADMELines = 200

// README is short, and links every page of docs/.
func TestREADMEIsTheFrontDoor(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(readme), "\n"); n > maxREADMELines {
		t.Errorf("README.md has %d lines, past %d: move the detail to a page of docs/", n, maxREADMELines)
	}
	pages, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil || len(pages) < 9 {
		t.Fatalf("docs/ has %d pages (%v)", len(pages), err)
	}
	linked := map[string]bool{}
	for _, l := range links(string(readme)) {
		linked[strings.SplitN(l, "#", 2)[0]] = true
	}
	for _, p := range pages {
		if !linked[filepath.ToSlash(p)] {
			t.Errorf("README.md does not link %s", p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if h1 := regexp.MustCompile(`(?m)^# `).FindAllIndex(stripCode(string(b)), -1); len(h1) != 1 || h1[0][0] != 0 {
			t.Errorf("%s: want one title, on its first line", p)
		}
	}
}

// No link of the Markdown documents is broken: each names a file of the
// repository and, when it has one, a heading of that file.
func TestNoBrokenLinks(t *testing.T) {
	docs := []string{"README.md", "VERIFY.md", filepath.Join("bench", "README.md")}
	pages, _ := filepath.Glob(filepath.Join("docs", "*.md"))
	docs = append(docs, pages...)
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range brokenLinks(doc, string(b), readHeadings) {
			t.Error(err)
		}
	}
}

// The check finds what it is for: a missing file, a missing heading, and
// a heading of another page.
func TestBrokenLinksAreFound(t *testing.T) {
	headings := func(path string) ([]string, error) {
		switch filepath.ToSlash(path) {
		case "docs/a.md":
			return []string{"a", "the-accounts-role"}, nil
		case "docs/b.md":
			return []string{"b"}, nil
		}
		return nil, os.ErrNotExist
	}
	for _, c := range []struct {
		doc    string
		broken int
	}{
		{"[ok](b.md) [ok](#a) [ok](b.md#b) [ok](https://example.com/x#y) [ok](#the-accounts-role)", 0},
		{"[gone](c.md)", 1},
		{"[no heading](b.md#a)", 1},
		{"[here](#b)", 1},
		{"```\n[in code](c.md)\n```\n", 0},
	} {
		if got := brokenLinks("docs/a.md", c.doc, headings); len(got) != c.broken {
			t.Errorf("%q: %d broken (%v), want %d", c.doc, len(got), got, c.broken)
		}
	}
}

func TestSlug(t *testing.T) {
	for heading, want := range map[string]string{
		"The account's logging role":                  "the-accounts-logging-role",
		"Configuration of `cmd/authorizer`":           "configuration-of-cmdauthorizer",
		"Verifying: timing, fuzzing, faults and load": "verifying-timing-fuzzing-faults-and-load",
		"JWTs beside API keys":                        "jwts-beside-api-keys",
	} {
		if got := slug(heading); got != want {
			t.Errorf("slug(%q) = %q, want %q", heading, got, want)
		}
	}
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// links are the targets of doc's Markdown links, outside code blocks.
func links(doc string) []string {
	var out []string
	for _, m := range linkRE.FindAllStringSubmatch(string(stripCode(doc)), -1) {
		out = append(out, m[1])
	}
	return out
}

// stripCode is doc without its fenced code blocks.
func stripCode(doc string) []byte {
	var b strings.Builder
	code := false
	for line := range strings.SplitSeq(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			code = !code
			continue
		}
		if !code {
			b.WriteString(line + "\n")
		}
	}
	return []byte(b.String())
}

// brokenLinks are the links of doc (the file at path) that name no file,
// or no heading of the file they name.
func brokenLinks(path, doc string, headings func(string) ([]string, error)) []error {
	var errs []error
	for _, l := range links(doc) {
		if strings.Contains(l, "://") || strings.HasPrefix(l, "mailto:") {
			continue
		}
		file, anchor, _ := strings.Cut(l, "#")
		target := path
		if file != "" {
			target = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
			if _, err := os.Stat(target); err != nil && !strings.HasSuffix(target, ".md") {
				errs = append(errs, fmt.Errorf("%s: link %s: %v", path, l, err))
				continue
			}
		}
		if !strings.HasSuffix(target, ".md") {
			continue // a source file: its anchors are not headings
		}
		hs, err := headings(target)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: link %s: %v", path, l, err))
			continue
		}
		if anchor != "" && !slices.Contains(hs, anchor) {
			errs = append(errs, fmt.Errorf("%s: link %s: %s has no heading #%s (it has %v)", path, l, target, anchor, hs))
		}
	}
	return errs
}

// readHeadings are the anchors of a Markdown file's headings, as GitHub
// makes them.
func readHeadings(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]int{}
	for line := range strings.SplitSeq(string(stripCode(string(b))), "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		s := slug(strings.TrimLeft(line, "# "))
		if n := seen[s]; n > 0 {
			out = append(out, fmt.Sprintf("%s-%d", s, n))
		} else {
			out = append(out, s)
		}
		seen[s]++
	}
	return out, nil
}

// slug is GitHub's anchor of a heading: lower case, spaces as hyphens,
// every other character but letters, digits, hyphens and underscores
// left out.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
