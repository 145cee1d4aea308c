package impl_test

import (
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/seam"
)

// hidePermFS reports every directory as 0700: the permission guard switched off.
type hidePermFS struct{ seam.FS }

type perm0700 struct{ fs.FileInfo }

func (p perm0700) Mode() fs.FileMode { return p.FileInfo.Mode()&^fs.ModePerm | 0o700 }

func (h hidePermFS) Lstat(name string) (fs.FileInfo, error) {
	fi, err := h.FS.Lstat(name)
	if err != nil || !fi.IsDir() {
		return fi, err
	}
	return perm0700{fi}, nil
}

// writableDirectory opens session directories writable, readable or only
// searchable by group or others: Open must refuse each, naming the path,
// the mode and the chmod that fixes it.
func writableDirectory(t *testing.T, fsys seam.FS) string {
	var p secProblems
	for _, mode := range []os.FileMode{0o777, 0o777 | os.ModeSticky, 0o770, 0o702, 0o755, 0o750, 0o740, 0o704, 0o710, 0o701} {
		dir := privateDir(t)
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		_, err := secOpenWith(impl.Open, dir, impl.Options{FS: fsys})
		switch {
		case err == nil:
			p.add("Open accepted a directory of mode %v", mode)
		case !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), fmt.Sprintf("%04o", mode.Perm())) ||
			!strings.Contains(err.Error(), "chmod go-rwx"):
			p.add("Open refused mode %v with %q, which does not name the directory, its mode and the chmod that fixes it", mode, err)
		}
	}
	if _, err := secOpenWith(impl.Open, privateDir(t), impl.Options{FS: fsys}); err != nil {
		p.add("Open refused a 0700 directory: %v", err)
	}
	return p.String()
}

func TestHostileDirectoryWritableByOthers(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return writableDirectory(t, seam.OS) },
		"an Lstat that reports every directory as 0700",
		func(t *testing.T) string { return writableDirectory(t, hidePermFS{seam.OS}) })
}
