package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// JUnit XML as the common CI readers take it (Jenkins, GitLab, most
// dashboards): one <testsuite> per store, one <testcase> per store × check,
// classname the store and name the check.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// junitLines is how many lines of a counterexample a failure carries; the
// rest is in the file it names.
const junitLines = 20

// kind says how a result reads in CI: "" for met, or failure, error or
// skipped. A verdict that missed its expectation (MISSED, FALSE ALARM,
// VIOLATION) is a failure; a check that could not decide or run (unknown,
// ERROR) is an error, never a pass; skipped stays skipped.
func (r result) kind() string {
	switch {
	case r.Verdict == "skipped":
		return "skipped"
	case r.met():
		return ""
	case r.Verdict == "unknown" || r.Verdict == "error":
		return "error"
	}
	return "failure"
}

// firstLines keeps the first n lines of s, saying how many were left out.
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n… %d more lines", len(lines)-n)
}

// problemText is a failing result's message body: where its files are,
// then the first lines of its counterexample or reason.
func problemText(r result, out string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: status %s (verdict %s, expected %s), seed %d\n", r.Store+" × "+r.Check, r.Status, r.Verdict, r.Expected, r.Seed)
	for _, f := range []string{r.Counterexample, r.Visualization} {
		if f != "" {
			fmt.Fprintf(&b, "file: %s\n", filepath.Join(out, f))
		}
	}
	if r.Detail != "" {
		b.WriteString(firstLines(r.Detail, junitLines))
	}
	return b.String()
}

func newJUnit(results []result, out string) junitSuites {
	doc := junitSuites{Name: "sessioncheck"}
	var total float64
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Store]
		if !ok {
			i = len(doc.Suites)
			index[r.Store] = i
			doc.Suites = append(doc.Suites, junitSuite{Name: r.Store})
		}
		s := &doc.Suites[i]
		c := junitCase{Classname: r.Store, Name: r.Check, Time: fmt.Sprintf("%.3f", r.Seconds)}
		msg, _, _ := strings.Cut(strings.TrimSpace(r.Detail), "\n")
		switch r.kind() {
		case "failure":
			c.Failure = &junitProblem{Message: r.Status + ": " + msg, Type: r.Status, Text: problemText(r, out)}
			s.Failures++
		case "error":
			c.Error = &junitProblem{Message: r.Status + ": " + msg, Type: r.Status, Text: problemText(r, out)}
			s.Errors++
		case "skipped":
			c.Skipped = &junitProblem{Message: msg}
			s.Skipped++
		}
		s.Tests++
		total += r.Seconds
		s.Cases = append(s.Cases, c)
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		var t float64
		for _, r := range results {
			if r.Store == s.Name {
				t += r.Seconds
			}
		}
		s.Time = fmt.Sprintf("%.3f", t)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	doc.Time = fmt.Sprintf("%.3f", total)
	return doc
}

// writeJUnit writes the results as JUnit XML to file. out is the report
// directory, named in each failure so that CI shows where its files are.
func writeJUnit(file string, results []result, out string) error {
	b, err := xml.MarshalIndent(newJUnit(results, out), "", "  ")
	if err != nil {
		return fmt.Errorf("-junit: %w", err)
	}
	b = append([]byte(xml.Header), append(b, '\n')...)
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("-junit: %w", err)
	}
	return nil
}

// annotate prints a GitHub Actions workflow command for every result that
// did not meet its expectation, so the run's summary names each one. The
// message is one line: workflow commands end at a newline, and %, \r and
// \n are escaped as the runner requires.
func annotate(w io.Writer, results []result, out string) {
	for _, r := range results {
		k := r.kind()
		if k == "" || k == "skipped" {
			continue
		}
		msg := fmt.Sprintf("%s (verdict %s, expected %s, seed %d)", r.Status, r.Verdict, r.Expected, r.Seed)
		if line, _, _ := strings.Cut(strings.TrimSpace(r.Detail), "\n"); line != "" {
			msg += ": " + line
		}
		if r.Counterexample != "" {
			msg += "; counterexample " + filepath.Join(out, r.Counterexample)
		}
		fmt.Fprintf(w, "::error title=%s::%s\n", escapeProperty(r.Store+" × "+r.Check), escapeData(msg))
	}
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
