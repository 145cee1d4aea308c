package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// trackRecord returns the rows of the "Track record" table in a document.
func trackRecord(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## Track record\n")
	if !ok {
		t.Fatalf("%s has no track record section", path)
	}
	var rows []string
	in := false
	for _, line := range strings.Split(after, "\n") {
		if strings.HasPrefix(line, "|") {
			in = true
			rows = append(rows, line)
		} else if in {
			break
		}
	}
	return rows
}

// TestTrackRecordTablesAgree keeps README's table equal to FINDINGS.md's,
// and every row's reproduce command naming a test that exists in the
// adapters, so that no row points at a test renamed or removed.
func TestTrackRecordTablesAgree(t *testing.T) {
	root := filepath.Join("..", "..")
	readme := trackRecord(t, filepath.Join(root, "README.md"))
	findings := trackRecord(t, filepath.Join(root, "docs", "FINDINGS.md"))
	if strings.Join(readme, "\n") != strings.Join(findings, "\n") {
		t.Fatalf("README.md's track record differs from docs/FINDINGS.md's")
	}
	if len(findings) < 3 {
		t.Fatalf("track record has %d lines, want a header and rows", len(findings))
	}
	files, err := filepath.Glob(filepath.Join(root, "adapters", "*", "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	name := regexp.MustCompile(`-run '(Test[A-Za-z0-9]+)`)
	for _, row := range findings[2:] {
		m := name.FindStringSubmatch(row)
		if m == nil {
			t.Errorf("row names no test to run: %s", row)
			continue
		}
		if !strings.Contains(src.String(), "func "+m[1]) {
			t.Errorf("row's test %s is not in adapters/*/*_test.go", m[1])
		}
	}
}
