package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The report directory is the one place where sessioncheck deletes files
// the user can see, so it deletes only what it can prove it wrote: every
// file and directory it leaves there is listed, with each file's size and
// SHA-256, in manifestName. A later run removes exactly the listed entries
// that still match, and refuses (touching nothing) a directory that holds
// anything else. While the checks run, everything goes into stagingName,
// a directory the manifest claims before it is made; it is moved into
// place only when the run is over, so an interrupted run leaves the
// earlier report's removal complete and its own writes inside a directory
// the next run knows to be its own.
const (
	manifestName   = "sessioncheck-manifest.json"
	stagingName    = ".sessioncheck-staging"
	manifestFormat = "sessioncheck report manifest 1"
)

// manifest is what sessioncheck records of the report directory it wrote.
type manifest struct {
	Format  string         `json:"format"`
	Staging string         `json:"staging"` // claimed wholesale: sessioncheck makes it, empty, before writing into it
	Dirs    []string       `json:"dirs"`    // slash-separated, relative to the report directory
	Files   []manifestFile `json:"files"`
}

type manifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// reportDir is the report directory of one run.
type reportDir struct {
	out  string // as the user named it, for messages
	real string // absolute, symbolic links resolved: every operation uses it
}

func (r *reportDir) stage() string { return filepath.Join(r.real, stagingName) }

// cellDir is where one result's files go while the run lasts; publish
// moves it to the same name directly under the report directory.
func (r *reportDir) cellDir(name string) string { return filepath.Join(r.stage(), name) }

func (r *reportDir) errorf(format string, args ...any) error {
	return usagef("report directory %s: %s", r.out, fmt.Sprintf(format, args...))
}

// prepareReport makes the report directory ready for a run: it refuses a
// directory that is dangerous to write into or holds anything sessioncheck
// did not write (a usage error, exit status 2, nothing touched), removes
// an earlier report's files, and makes the staging directory. Writing the
// manifest first proves the directory writable before minutes of checks.
func prepareReport(out string) (*reportDir, error) {
	r := &reportDir{out: out}
	real, err := safeReportPath(out)
	if err != nil {
		return nil, usagef("report directory %s: %v", out, err)
	}
	r.real = real
	st, err := os.Stat(real)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(real, 0o755); err != nil {
			return nil, r.errorf("%v", err)
		}
	case err != nil:
		return nil, r.errorf("%v", err)
	case !st.IsDir():
		return nil, r.errorf("exists and is not a directory")
	default:
		if err := r.removeEarlier(); err != nil {
			return nil, err
		}
	}
	m := manifest{Format: manifestFormat, Staging: stagingName}
	if err := writeManifest(filepath.Join(real, manifestName), m); err != nil {
		return nil, r.errorf("not writable: %v", err)
	}
	if err := os.Mkdir(r.stage(), 0o755); err != nil {
		return nil, r.errorf("%v", err)
	}
	return r, nil
}

// safeReportPath resolves out and refuses the directories a report must
// never replace: the root, the working directory or any directory above
// it (".", ".."), and the home directory or any directory above it.
func safeReportPath(out string) (string, error) {
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	real, err := resolve(abs)
	if err != nil {
		return "", err
	}
	if real == string(filepath.Separator) {
		return "", errors.New("is the root directory; refusing to write a report there")
	}
	if cwd, err := os.Getwd(); err == nil {
		for _, c := range []string{cwd, resolveOr(cwd)} {
			if within(c, real) || within(c, abs) {
				if c == real || c == abs {
					return "", errors.New("is the working directory; refusing to write a report there (name a directory of its own)")
				}
				return "", errors.New("contains the working directory; refusing to write a report there (name a directory of its own)")
			}
		}
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		for _, h := range []string{filepath.Clean(home), resolveOr(home)} {
			if within(h, real) || within(h, abs) {
				return "", fmt.Errorf("is or contains the home directory %s; refusing to write a report there", home)
			}
		}
	}
	return real, nil
}

// resolve resolves the symbolic links of the longest existing prefix of
// the absolute path p, so that a directory not yet made is judged by where
// it would be made.
func resolve(p string) (string, error) {
	rest := ""
	for {
		r, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(r, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

func resolveOr(p string) string {
	if r, err := resolve(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// within reports whether path inner is dir or lies below it.
func within(inner, dir string) bool {
	if inner == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(inner, dir)
}

// removeEarlier removes an earlier report, after checking that every entry
// in the directory is one the manifest lists and, for a file, still holds
// what sessioncheck wrote. An empty directory is fine; anything unlisted
// refuses the whole directory before anything is removed.
func (r *reportDir) removeEarlier() error {
	entries, err := os.ReadDir(r.real)
	if err != nil {
		return r.errorf("%v", err)
	}
	if len(entries) == 0 {
		return nil
	}
	m, err := readManifest(filepath.Join(r.real, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return r.errorf("not empty and not a sessioncheck report (it has no %s listing what sessioncheck wrote); refusing to touch it", manifestName)
	}
	if err != nil {
		return r.errorf("%s: %v; refusing to touch the directory", manifestName, err)
	}
	dirs := map[string]bool{}
	for _, d := range m.Dirs {
		dirs[d] = true
	}
	files := map[string]manifestFile{}
	for _, f := range m.Files {
		files[f.Path] = f
	}
	var (
		rmFiles, rmDirs []string
		staging         bool
	)
	walkErr := filepath.WalkDir(r.real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(r.real, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		slash := filepath.ToSlash(rel)
		switch {
		case slash == manifestName && d.Type().IsRegular():
			return nil
		case slash == stagingName && m.Staging == stagingName && d.IsDir():
			staging = true
			return fs.SkipDir
		case d.IsDir():
			if !dirs[slash] {
				return fmt.Errorf("holds %s, which sessioncheck did not write (not in %s); refusing to touch the directory", slash, manifestName)
			}
			rmDirs = append(rmDirs, p)
			return nil
		case d.Type().IsRegular():
			f, ok := files[slash]
			if !ok {
				return fmt.Errorf("holds %s, which sessioncheck did not write (not in %s); refusing to touch the directory", slash, manifestName)
			}
			if same, err := fileMatches(p, f); err != nil {
				return err
			} else if !same {
				return fmt.Errorf("%s changed since sessioncheck wrote it; refusing to touch the directory", slash)
			}
			rmFiles = append(rmFiles, p)
			return nil
		}
		return fmt.Errorf("holds %s, which sessioncheck did not write (it writes no %v); refusing to touch the directory", slash, d.Type())
	})
	if walkErr != nil {
		return r.errorf("%v", walkErr)
	}
	// Everything is accounted for: remove it, files first, then the
	// directories from the deepest up, each of which is now empty.
	if staging {
		if err := os.RemoveAll(r.stage()); err != nil {
			return r.errorf("removing the earlier run's staging directory: %v", err)
		}
	}
	for _, p := range rmFiles {
		if err := os.Remove(p); err != nil {
			return r.errorf("removing the earlier report: %v", err)
		}
	}
	slices.Sort(rmDirs)
	for _, p := range slices.Backward(rmDirs) {
		if err := os.Remove(p); err != nil {
			return r.errorf("removing the earlier report: %v", err)
		}
	}
	return nil
}

func fileMatches(p string, want manifestFile) (bool, error) {
	size, sum, err := hashFile(p)
	if err != nil {
		return false, err
	}
	return size == want.Size && sum == want.SHA256, nil
}

func hashFile(p string) (int64, string, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

func readManifest(p string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(p)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("unreadable: %v", err)
	}
	if m.Format != manifestFormat {
		return m, fmt.Errorf("format %q, want %q", m.Format, manifestFormat)
	}
	return m, nil
}

func writeManifest(p string, m manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(p, append(b, '\n'), 0o644)
}

// publish writes the report's own files into the staging directory, lists
// everything there in the manifest, and then moves it into place. The
// manifest goes first, so that at every moment each entry sessioncheck
// wrote is either listed or inside the staging directory.
func (r *reportDir) publish(results []result) error {
	stage := r.stage()
	if err := writeReport(stage, results); err != nil {
		return err
	}
	m := manifest{Format: manifestFormat, Staging: stagingName}
	err := filepath.WalkDir(stage, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == stage {
			return err
		}
		rel, err := filepath.Rel(stage, p)
		if err != nil {
			return err
		}
		slash := filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			m.Dirs = append(m.Dirs, slash)
		case d.Type().IsRegular():
			size, sum, err := hashFile(p)
			if err != nil {
				return err
			}
			m.Files = append(m.Files, manifestFile{Path: slash, Size: size, SHA256: sum})
		default:
			return fmt.Errorf("%s: a check left a %v, which a report may not hold", slash, d.Type())
		}
		return nil
	})
	if err != nil {
		return r.errorf("%v", err)
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		return r.errorf("%v", err)
	}
	for _, e := range entries {
		if _, err := os.Lstat(filepath.Join(r.real, e.Name())); !errors.Is(err, fs.ErrNotExist) {
			return r.errorf("%s appeared while the checks ran; the report is left in %s", e.Name(), stage)
		}
	}
	tmp := filepath.Join(stage, manifestName+".new")
	if err := writeManifest(tmp, m); err != nil {
		return r.errorf("%v", err)
	}
	if err := os.Rename(tmp, filepath.Join(r.real, manifestName)); err != nil {
		return r.errorf("%v", err)
	}
	for _, e := range entries {
		if err := os.Rename(filepath.Join(stage, e.Name()), filepath.Join(r.real, e.Name())); err != nil {
			return r.errorf("%v", err)
		}
	}
	if err := os.Remove(stage); err != nil {
		return r.errorf("%v", err)
	}
	return nil
}
