package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// checkJUnit is the structure of the JUnit XML schema that CI readers
// depend on, checked element by element: a <testsuites> root of
// <testsuite>s of <testcase>s, the attributes each must carry, at most
// one of <failure>, <error>, <skipped> in a case, a message on every
// failure and error, and every tests/failures/errors/skipped count equal
// to what its children hold. It returns the cases by classname.name.
func checkJUnit(b []byte) (map[string]string, error) {
	type problem struct {
		Message *string `xml:"message,attr"`
		Text    string  `xml:",chardata"`
	}
	type tcase struct {
		Classname *string   `xml:"classname,attr"`
		Name      *string   `xml:"name,attr"`
		Time      *string   `xml:"time,attr"`
		Failure   []problem `xml:"failure"`
		Error     []problem `xml:"error"`
		Skipped   []problem `xml:"skipped"`
		Other     []xml.Name
	}
	type suite struct {
		Name  *string `xml:"name,attr"`
		Time  *string `xml:"time,attr"`
		Cases []tcase `xml:"testcase"`
	}
	var root struct {
		XMLName xml.Name
		Suites  []suite `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("not XML: %v", err)
	}
	if root.XMLName.Local != "testsuites" {
		return nil, fmt.Errorf("root element %q, want testsuites", root.XMLName.Local)
	}
	var counts struct {
		Attrs  []xml.Attr `xml:",any,attr"`
		Suites []struct {
			Attrs []xml.Attr `xml:",any,attr"`
			Cases []struct {
				Inner []struct {
					XMLName xml.Name
				} `xml:",any"`
			} `xml:"testcase"`
			Inner []struct{ XMLName xml.Name } `xml:",any"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &counts); err != nil {
		return nil, err
	}
	// The counts are read from the raw attributes (counts), so that a
	// missing one is told apart from a zero.
	attr := func(as []xml.Attr, name string) (int, error) {
		for _, a := range as {
			if a.Name.Local == name {
				return strconv.Atoi(a.Value)
			}
		}
		return 0, fmt.Errorf("missing attribute %s", name)
	}
	cases := map[string]string{}
	var tot [4]int
	for i, s := range root.Suites {
		if s.Name == nil || s.Time == nil {
			return nil, fmt.Errorf("testsuite %d lacks name or time", i)
		}
		for _, in := range counts.Suites[i].Inner {
			if in.XMLName.Local != "testcase" {
				return nil, fmt.Errorf("testsuite %s holds <%s>", *s.Name, in.XMLName.Local)
			}
		}
		var n [4]int
		for _, c := range s.Cases {
			if c.Classname == nil || c.Name == nil || c.Time == nil {
				return nil, fmt.Errorf("a testcase of %s lacks classname, name or time", *s.Name)
			}
			if _, err := strconv.ParseFloat(*c.Time, 64); err != nil {
				return nil, fmt.Errorf("testcase %s time %q", *c.Name, *c.Time)
			}
			kind := "pass"
			if len(c.Failure)+len(c.Error)+len(c.Skipped) > 1 {
				return nil, fmt.Errorf("testcase %s.%s has more than one outcome", *c.Classname, *c.Name)
			}
			for _, p := range append(append([]problem{}, c.Failure...), c.Error...) {
				if p.Message == nil || *p.Message == "" {
					return nil, fmt.Errorf("testcase %s.%s: failure or error without a message", *c.Classname, *c.Name)
				}
			}
			switch {
			case len(c.Failure) == 1:
				kind, n[1] = "failure:"+c.Failure[0].Text, n[1]+1
			case len(c.Error) == 1:
				kind, n[2] = "error:"+c.Error[0].Text, n[2]+1
			case len(c.Skipped) == 1:
				kind, n[3] = "skipped", n[3]+1
			}
			n[0]++
			cases[*c.Classname+"."+*c.Name] = kind
		}
		for j, name := range []string{"tests", "failures", "errors", "skipped"} {
			v, err := attr(counts.Suites[i].Attrs, name)
			if err != nil || v != n[j] {
				return nil, fmt.Errorf("testsuite %s: %s=%d (%v), its cases say %d", *s.Name, name, v, err, n[j])
			}
			tot[j] += n[j]
		}
	}
	for j, name := range []string{"tests", "failures", "errors", "skipped"} {
		v, err := attr(counts.Attrs, name)
		if err != nil || v != tot[j] {
			return nil, fmt.Errorf("testsuites: %s=%d (%v), its suites say %d", name, v, err, tot[j])
		}
	}
	return cases, nil
}

func TestJUnitFromResults(t *testing.T) {
	results := []result{
		{Store: "reference", Check: "explore", Verdict: "pass", Expected: "pass", Status: "pass", Seconds: 1},
		{Store: "write-in-place", Check: "explore", Verdict: "violation", Expected: "violation", Status: "caught"},
		{Store: "write-in-place", Check: "faults", Verdict: "pass", Expected: "violation", Status: "MISSED", Detail: "no violation"},
		{Store: "worker:x", Check: "lin-processes", Verdict: "violation", Expected: "pass", Status: "VIOLATION", Detail: strings.Repeat("line\n", 50), Counterexample: "worker_x.lin-processes/counterexample.txt"},
		{Store: "worker:x", Check: "proptest", Verdict: "unknown", Expected: "pass", Status: "unknown", Detail: "3 operations hung"},
		{Store: "worker:x", Check: "crash", Verdict: "skipped", Expected: "pass", Status: "skipped", Detail: "needs the seam"},
	}
	file := filepath.Join(t.TempDir(), "junit.xml")
	if err := writeJUnit(file, results, "rep"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := checkJUnit(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	want := map[string]string{"reference.explore": "pass", "write-in-place.explore": "pass", "write-in-place.faults": "failure", "worker:x.lin-processes": "failure", "worker:x.proptest": "error", "worker:x.crash": "skipped"}
	for k, w := range want {
		if got := strings.SplitN(cases[k], ":", 2)[0]; got != w {
			t.Errorf("%s: %q, want %s", k, got, w)
		}
	}
	if len(cases) != len(want) {
		t.Errorf("%d cases, want %d", len(cases), len(want))
	}
	f := cases["worker:x.lin-processes"]
	if !strings.Contains(f, filepath.Join("rep", "worker_x.lin-processes/counterexample.txt")) || !strings.Contains(f, "30 more lines") {
		t.Errorf("failure must name its file and carry only the first lines:\n%s", f)
	}
}

// TestJUnitCheckerCatchesBrokenFiles shows the structural check fails.
func TestJUnitCheckerCatchesBrokenFiles(t *testing.T) {
	for name, doc := range map[string]string{
		"wrong root":      `<testsuite name="a" tests="0" failures="0" errors="0" skipped="0" time="0"/>`,
		"count off":       `<testsuites tests="1" failures="0" errors="0" skipped="0"><testsuite name="a" tests="1" failures="1" errors="0" skipped="0" time="0"><testcase classname="a" name="b" time="0"/></testsuite></testsuites>`,
		"no classname":    `<testsuites tests="1" failures="0" errors="0" skipped="0"><testsuite name="a" tests="1" failures="0" errors="0" skipped="0" time="0"><testcase name="b" time="0"/></testsuite></testsuites>`,
		"no message":      `<testsuites tests="1" failures="1" errors="0" skipped="0"><testsuite name="a" tests="1" failures="1" errors="0" skipped="0" time="0"><testcase classname="a" name="b" time="0"><failure>x</failure></testcase></testsuite></testsuites>`,
		"two outcomes":    `<testsuites tests="1" failures="1" errors="1" skipped="0"><testsuite name="a" tests="1" failures="1" errors="1" skipped="0" time="0"><testcase classname="a" name="b" time="0"><failure message="m"/><error message="m"/></testcase></testsuite></testsuites>`,
		"stray element":   `<testsuites tests="0" failures="0" errors="0" skipped="0"><testsuite name="a" tests="0" failures="0" errors="0" skipped="0" time="0"><bogus/></testsuite></testsuites>`,
		"missing skipped": `<testsuites tests="0" failures="0" errors="0"><testsuite name="a" tests="0" failures="0" errors="0" skipped="0" time="0"></testsuite></testsuites>`,
	} {
		if _, err := checkJUnit([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestJUnitFlagAndAnnotations runs the command: -junit writes a valid file
// with one case per store × check, and under GITHUB_ACTIONS=true every
// unmet result is an ::error annotation and a met one is none.
func TestJUnitFlagAndAnnotations(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "junit.xml")
	r := sessioncheckIn(t, "", []string{"GITHUB_ACTIONS=true"}, "-store", "reference,write-in-place", "-check", "lin-processes,faults", "-budget", "0.2", "-seed", "3", "-out", filepath.Join(dir, "rep"), "-junit", file)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := checkJUnit(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if len(cases) != 4 || cases["write-in-place.faults"] != "pass" {
		t.Fatalf("cases %v, want 4 met", cases)
	}
	if strings.Contains(r.stdout, "::error") {
		t.Fatalf("annotations for a run that met every expectation:\n%s", r.stdout)
	}
	// An unmet result annotates: annotate directly over one.
	var sb strings.Builder
	annotate(&sb, []result{{Store: "worker:x", Check: "faults", Verdict: "violation", Expected: "pass", Status: "VIOLATION", Detail: "100% lost\nmore", Counterexample: "c.txt"}}, "rep")
	want := "::error title=worker%3Ax × faults::VIOLATION (verdict violation, expected pass, seed 0): 100%25 lost; counterexample rep/c.txt\n"
	if sb.String() != want {
		t.Fatalf("annotation\n%q, want\n%q", sb.String(), want)
	}
}
