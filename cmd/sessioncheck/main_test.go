package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the sessioncheck command: with this variable
// set it runs main instead of the tests, so the tests exercise real process
// boundaries (exit status, stderr, the re-executed worker).
const asCommand = "SESSIONCHECK_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		main()
	}
	os.Exit(m.Run())
}

type runResult struct {
	code           int
	stdout, stderr string
}

// sessioncheck runs the command in a child process.
func sessioncheck(t *testing.T, args ...string) runResult {
	t.Helper()
	return sessioncheckIn(t, "", nil, args...)
}

// sessioncheckIn runs the command in a child process working in dir (""
// for this one's), with env added to this process's environment.
func sessioncheckIn(t *testing.T, dir string, env []string, args ...string) runResult {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A command that hangs (or a child of it that holds its pipes) fails
	// the test instead of stalling it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), asCommand+"=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ctx.Err() != nil {
		t.Fatalf("sessioncheck %q did not finish within 5 minutes", args)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return runResult{code, out.String(), errb.String()}
}

func selfArgv(t *testing.T, store string) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe + " worker -store " + store
}

func TestBadUseIsOneLineAndStatus2(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	occupied := filepath.Join(dir, "occupied")
	if err := os.MkdirAll(occupied, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(occupied, "thesis.tex"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown store", []string{"-store", "nosuch"}, `unknown store "nosuch"`},
		{"unknown check", []string{"-check", "proptest,nosuch"}, `unknown check "nosuch"`},
		{"unknown flag", []string{"-frobnicate"}, "frobnicate"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
		{"bad budget", []string{"-budget", "-1"}, "-budget"},
		{"budget below the floor", []string{"-budget", "0.1"}, "-budget 0.1: want a number from 0.2 to 100"},
		{"budget that would run for days", []string{"-budget", "1000"}, "-budget 1000: want a number from 0.2 to 100"},
		{"budget not a number", []string{"-budget", "NaN"}, "-budget NaN"},
		{"empty worker", []string{"-worker", ""}, "-worker: empty value"},
		{"blank worker", []string{"-worker", "  "}, "-worker: empty value"},
		{"empty store", []string{"-store", ""}, "-store: empty value"},
		{"empty store beside a worker", []string{"-store", "", "-worker", "true"}, "-store: empty value"},
		{"empty check", []string{"-check", ""}, "-check: empty value"},
		{"empty report directory", []string{"-out", ""}, "-out: empty value"},
		{"store list with an empty name", []string{"-store", "reference,"}, `unknown store ""`},
		{"report dir is a file", []string{"-check", "proptest", "-store", "reference", "-out", notDir}, "not a directory"},
		{"report dir holds other files", []string{"-check", "proptest", "-store", "reference", "-out", occupied}, "refusing to touch it"},
		{"worker that does not exist", []string{"-worker", filepath.Join(dir, "no-such-worker")}, "-worker"},
		{"worker that fails its hello", []string{"-worker", "sh -c 'echo not-json; exit 0'"}, "-worker"},
		{"unterminated quote", []string{"-worker", "python3 'x"}, "unterminated"},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct {
			name string
			args []string
			want string
		}{"unwritable report dir", []string{"-check", "proptest", "-store", "reference", "-out", filepath.Join(ro, "r")}, "report directory"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sessioncheck(t, c.args...)
			if r.code != 2 {
				t.Fatalf("exit status %d, want 2; stderr:\n%s", r.code, r.stderr)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Fatalf("stderr should be one line naming %q, got:\n%s", c.want, r.stderr)
			}
			if strings.Contains(r.stderr, "goroutine 1 [") || strings.Contains(r.stderr, "panic:") {
				t.Fatalf("stack trace on stderr:\n%s", r.stderr)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(occupied, "thesis.tex")); err != nil || string(b) != "x" {
		t.Fatalf("a refused report directory lost its files: %v", err)
	}
}

func decode(t *testing.T, stdout string) []result {
	t.Helper()
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("-json output is not the documented JSON: %v\n%s", err, stdout)
	}
	return rep.Results
}

func TestProptestVerdictsAndExitStatus(t *testing.T) {
	out := t.TempDir()
	r := sessioncheck(t, "-store", "truncate-then-load", "-check", "proptest", "-json", "-seed", "7", "-out", out)
	if r.code != 0 {
		t.Fatalf("a variant caught where it must be caught is exit 0, got %d\n%s", r.code, r.stderr)
	}
	res := decode(t, r.stdout)
	if len(res) != 1 || res[0].Verdict != "violation" || res[0].Expected != "violation" || res[0].Seed != 7 {
		t.Fatalf("truncate-then-load under proptest: %+v", res)
	}
	if res[0].Counterexample == "" {
		t.Fatalf("a violation must link its counterexample: %+v", res[0])
	}
	r = sessioncheck(t, "-store", "reference", "-check", "proptest", "-json", "-out", out)
	if res := decode(t, r.stdout); r.code != 0 || len(res) != 1 || res[0].Verdict != "pass" {
		t.Fatalf("reference under proptest: exit %d, %+v", r.code, res)
	}
	if r.stderr != "" {
		t.Fatalf("progress must stay off stderr when it is not a terminal, got %q", r.stderr)
	}
}

func TestWorkerFlag(t *testing.T) {
	out := t.TempDir()
	r := sessioncheck(t, "-worker", selfArgv(t, "reference"), "-check", "proptest,lin-processes", "-budget", "0.3", "-json", "-out", out)
	res := decode(t, r.stdout)
	if r.code != 0 || len(res) != 2 {
		t.Fatalf("worker serving the reference: exit %d, %+v\n%s", r.code, res, r.stderr)
	}
	for _, x := range res {
		if x.Verdict != "pass" || x.Store != "worker:go/reference" {
			t.Fatalf("worker serving the reference must pass: %+v", x)
		}
	}
	r = sessioncheck(t, "-worker", selfArgv(t, "write-in-place"), "-check", "lin-processes", "-json", "-out", out)
	res = decode(t, r.stdout)
	if r.code != 1 || len(res) != 1 || res[0].Verdict != "violation" || res[0].Status != "VIOLATION" {
		t.Fatalf("worker serving write-in-place must be caught in process mode with exit 1: exit %d, %+v", r.code, res)
	}
}

func TestReportLinksEveryViolation(t *testing.T) {
	out := t.TempDir()
	r := sessioncheck(t, "-store", "reference,write-in-place", "-check", "lin-processes", "-out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "write-in-place") || !strings.Contains(r.stdout, "caught") {
		t.Fatalf("table lacks the caught variant:\n%s", r.stdout)
	}
	index, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range decode(t, string(b)) {
		if x.Verdict != "violation" {
			continue
		}
		for _, link := range []string{x.Visualization, x.Counterexample} {
			if link == "" || !strings.Contains(string(index), `href="`+link+`"`) {
				t.Fatalf("index.html must link %q of %s/%s", link, x.Store, x.Check)
			}
			if _, err := os.Stat(filepath.Join(out, link)); err != nil {
				t.Fatalf("linked file missing: %v", err)
			}
		}
	}
}

func TestListNamesEveryStoreAndCheck(t *testing.T) {
	r := sessioncheck(t, "-list")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, name := range append(storeNames(), checkNames()...) {
		if !strings.Contains(r.stdout, name) {
			t.Fatalf("-list lacks %s:\n%s", name, r.stdout)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	got, err := splitCommand(`python3 "adapters/django/worker.py" --mode='2007' a\ b`)
	want := []string{"python3", "adapters/django/worker.py", "--mode=2007", "a b"}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("splitCommand = %q, %v; want %q", got, err, want)
	}
}

// TestStatusAndExit pins the table's words and the exit rule for every kind
// of cell, including the ones a healthy catalogue never shows (MISSED, FALSE
// ALARM), so that the command cannot quietly stop reporting them.
func TestStatusAndExit(t *testing.T) {
	cases := []struct {
		store, verdict, expected, status string
		met                              bool
	}{
		{"reference", "pass", "pass", "pass", true},
		{"reference", "violation", "pass", "FALSE ALARM", false},
		{"reference", "unknown", "pass", "unknown", false},
		{"reference", "skipped", "pass", "skipped", false},
		{"write-in-place", "violation", "violation", "caught", true},
		{"write-in-place", "pass", "violation", "MISSED", false},
		{"write-in-place", "error", "violation", "ERROR", false},
		{"check-then-rename", "violation", "any", "caught", true},
		{"check-then-rename", "pass", "any", "pass", true},
		{"mutex-in-place", "violation", "pass", "FALSE ALARM", false},
		{"worker:x", "skipped", "pass", "skipped", true},
		{"worker:x", "violation", "pass", "VIOLATION", false},
		{"worker:x", "unknown", "pass", "unknown", false},
		{"worker:x", "error", "pass", "ERROR", false},
	}
	for _, c := range cases {
		r := result{Store: c.store, Verdict: c.verdict, Expected: c.expected}
		if got := status(c.verdict, c.expected, !strings.HasPrefix(c.store, "worker:")); got != c.status {
			t.Errorf("%s %s (expected %s): status %q, want %q", c.store, c.verdict, c.expected, got, c.status)
		}
		if r.met() != c.met {
			t.Errorf("%s %s (expected %s): met %v, want %v", c.store, c.verdict, c.expected, r.met(), c.met)
		}
		if allMet([]result{{Store: "reference", Verdict: "pass", Expected: "pass"}, r}) != c.met {
			t.Errorf("%s %s (expected %s): one such cell must decide the exit status", c.store, c.verdict, c.expected)
		}
	}
}
