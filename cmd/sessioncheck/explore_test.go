package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildSilentHook builds the hostile worker of
// testdata/hostile/silent-hook: it declares the scheduling hook and never
// announces a call.
func buildSilentHook(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building the hostile worker needs the go command: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "silent-hook")
	cmd := exec.Command(gocmd, "build", "-o", bin, "./testdata/hostile/silent-hook")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// explore through a worker that declares the hook and announces nothing
// explored one interleaving per scenario: that is an error with a reason
// and a failing exit status, not "no violation".
func TestExploreSilentHookWorkerIsAnError(t *testing.T) {
	bin := buildSilentHook(t)
	r := sessioncheck(t, "-worker", bin+" check-then-rename", "-check", "explore", "-json", "-out", t.TempDir())
	res := decode(t, r.stdout)
	if r.code != 1 || len(res) != 1 {
		t.Fatalf("silent hook worker: exit %d, %+v\n%s", r.code, res, r.stderr)
	}
	x := res[0]
	if x.Verdict != "error" || x.Status != "ERROR" || !strings.Contains(x.Detail, "announced no scheduling point") {
		t.Fatalf("silent hook worker must be an error that says why: %+v", x)
	}
}
