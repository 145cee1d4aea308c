package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// snapshot describes a directory tree byte for byte: every entry's path,
// type, permissions and modification time, and each file's content hash.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		line := fmt.Sprintf("%s %v %d", rel, info.Mode(), info.ModTime().UnixNano())
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			line += " " + hex.EncodeToString(sum[:])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// refused runs the command into out from dir and requires a one-line
// refusal with exit status 2 that leaves guard byte for byte as it was.
func refused(t *testing.T, dir, guard string, env []string, want string, args ...string) {
	t.Helper()
	before := snapshot(t, guard)
	r := sessioncheckIn(t, dir, env, args...)
	if r.code != 2 {
		t.Fatalf("%v from %s: exit status %d, want 2\nstdout:\n%s\nstderr:\n%s", args, dir, r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Fatalf("%v: stderr should be one line naming %q, got:\n%s", args, want, r.stderr)
	}
	if after := snapshot(t, guard); after != before {
		t.Fatalf("%v: a refused run changed %s:\nbefore:\n%s\nafter:\n%s", args, guard, before, after)
	}
}

// quick is the cheapest run that writes a report.
var quick = []string{"-store", "reference", "-check", "proptest", "-budget", "0.2", "-seed", "1"}

func TestReportDirWithOtherFilesIsRefusedAndIntact(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "project")
	writeFiles(t, out, map[string]string{
		"src/main.c":   "int main(void) { return 0; }\n",
		"NOTES":        "do not lose\n",
		"results.json": "{\"results\":[]}\n", // once enough for the tool to wipe the lot
	})
	refused(t, dir, dir, nil, "refusing to touch it", append(quick, "-out", out)...)
}

func TestReportDirRefusesDangerousPlaces(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	child := filepath.Join(dir, "parent", "child")
	writeFiles(t, dir, map[string]string{
		"parent/child/work.txt": "mine\n",
		"parent/other.txt":      "mine too\n",
		"home/.profile":         "mine as well\n",
	})
	env := []string{"HOME=" + home}
	refused(t, child, dir, env, "contains the working directory", append(quick, "-out", "..")...)
	refused(t, child, dir, env, "contains the working directory", append(quick, "-out", "../..")...)
	refused(t, child, dir, env, "is the working directory", append(quick, "-out", ".")...)
	refused(t, child, dir, env, "is the working directory", append(quick, "-out", child)...)
	refused(t, child, dir, env, "is the root directory", append(quick, "-out", "/")...)
	refused(t, child, dir, env, "home directory", append(quick, "-out", home)...)
	refused(t, child, dir, env, "home directory", append(quick, "-out", "../../home")...)
	// An empty home is refused too: the place is wrong, whatever it holds.
	empty := filepath.Join(dir, "emptyhome")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	refused(t, child, dir, []string{"HOME=" + empty}, "home directory", append(quick, "-out", empty)...)
	// A symbolic link is judged by where it leads.
	link := filepath.Join(child, "report")
	if err := os.Symlink(filepath.Join(dir, "parent"), link); err != nil {
		t.Fatal(err)
	}
	refused(t, child, dir, env, "contains the working directory", append(quick, "-out", "report")...)
}

func TestReportDirRerunReplacesOnlyItsOwnFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r")
	// The first run leaves a cell directory with a counterexample; the
	// second, of another cell, must remove it and leave its own.
	r := sessioncheckIn(t, dir, nil, "-store", "write-in-place", "-check", "crash", "-budget", "0.2", "-seed", "1", "-out", out)
	if r.code != 0 {
		t.Fatalf("write-in-place under crash: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	firstCell := filepath.Join(out, "write-in-place.crash")
	if _, err := os.Stat(filepath.Join(firstCell, "counterexample.txt")); err != nil {
		t.Fatal(err)
	}
	r = sessioncheckIn(t, dir, nil, append(quick, "-out", out)...)
	if r.code != 0 {
		t.Fatalf("rerun into its own report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(firstCell); !os.IsNotExist(err) {
		t.Fatalf("the earlier report's cell survived the rerun: %v", err)
	}
	m, err := readManifest(filepath.Join(out, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{manifestName: true, stagingName: true}
	for _, d := range m.Dirs {
		listed[d] = true
	}
	for _, f := range m.Files {
		listed[f.Path] = true
	}
	entries := 0
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(out, p)
		if rel != "." {
			entries++
			if !listed[filepath.ToSlash(rel)] {
				t.Errorf("%s is in the report but not in its manifest", rel)
			}
		}
		return err
	})
	if entries != len(m.Dirs)+len(m.Files)+1 {
		t.Errorf("report holds %d entries, manifest lists %d and itself", entries, len(m.Dirs)+len(m.Files))
	}
	if _, err := os.Stat(filepath.Join(out, stagingName)); !os.IsNotExist(err) {
		t.Errorf("staging directory left after a finished run: %v", err)
	}
	for _, name := range []string{"results.json", "index.html", "reference.proptest"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("report lacks %s: %v", name, err)
		}
	}

	// Anything added, or any file changed, makes the report someone's.
	writeFiles(t, out, map[string]string{"reference.proptest/my-notes.txt": "mine\n"})
	refused(t, dir, out, nil, "reference.proptest/my-notes.txt, which sessioncheck did not write", append(quick, "-out", out)...)
	os.Remove(filepath.Join(out, "reference.proptest", "my-notes.txt"))
	if err := os.WriteFile(filepath.Join(out, "index.html"), []byte("edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(t, dir, out, nil, "index.html changed since sessioncheck wrote it", append(quick, "-out", out)...)
}

// TestReportDirAfterAnInterruptedRun: a run stopped during its checks
// leaves its manifest and staging directory; the next run clears both.
func TestReportDirAfterAnInterruptedRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	rep, err := prepareReport(out)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, rep.cellDir("reference.lin-processes"), map[string]string{"half-written.html": "<html"})
	if _, err := prepareReport(out); err != nil {
		t.Fatalf("the next run must clear an interrupted one: %v", err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Fatalf("want only the manifest and an empty staging directory, got %v", entries)
	}
	if staged, _ := os.ReadDir(filepath.Join(out, stagingName)); len(staged) != 0 {
		t.Fatalf("staging directory not cleared: %v", staged)
	}
}

// TestReportDirDistrustsItsManifest: a manifest names only what the tool
// may remove if it is found matching; it cannot claim a foreign staging
// directory, a symbolic link, or a file whose content differs.
func TestReportDirDistrustsItsManifest(t *testing.T) {
	for _, c := range []struct {
		name, manifest, want string
		files                map[string]string
	}{
		{"claims another staging name", `{"format":"` + manifestFormat + `","staging":"src"}`, "src, which sessioncheck did not write",
			map[string]string{"src/main.c": "x"}},
		{"lists a file with another hash", `{"format":"` + manifestFormat + `","files":[{"path":"NOTES","size":1,"sha256":"00"}]}`, "NOTES changed",
			map[string]string{"NOTES": "x"}},
		{"is not a manifest", `not json`, "unreadable", map[string]string{"NOTES": "x"}},
		{"has another format", `{"format":"x"}`, "format", map[string]string{"NOTES": "x"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			writeFiles(t, out, c.files)
			writeFiles(t, out, map[string]string{manifestName: c.manifest})
			before := snapshot(t, out)
			_, err := prepareReport(out)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("prepareReport = %v, want an error naming %q", err, c.want)
			}
			if after := snapshot(t, out); after != before {
				t.Fatalf("a refused directory changed:\n%s\n---\n%s", before, after)
			}
		})
	}
	t.Run("symbolic link listed as a file", func(t *testing.T) {
		out := t.TempDir()
		target := filepath.Join(t.TempDir(), "precious")
		writeFiles(t, filepath.Dir(target), map[string]string{"precious": "x"})
		if err := os.Symlink(target, filepath.Join(out, "link")); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("x"))
		writeFiles(t, out, map[string]string{manifestName: `{"format":"` + manifestFormat + `","files":[{"path":"link","size":1,"sha256":"` + hex.EncodeToString(sum[:]) + `"}]}`})
		if _, err := prepareReport(out); err == nil || !strings.Contains(err.Error(), "link") {
			t.Fatalf("prepareReport = %v, want a refusal naming the link", err)
		}
		if _, err := os.Lstat(filepath.Join(out, "link")); err != nil {
			t.Fatalf("link removed: %v", err)
		}
	})
}
