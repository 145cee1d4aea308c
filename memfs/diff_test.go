package memfs_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"pgregory.net/rapid"

	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/seam"
)

// side is one file system under the differential test, rooted at root.
type side struct {
	fsys  seam.FS
	root  string
	files []seam.File
}

func (s *side) path(name string) string { return s.root + "/" + name }

// outcome is what a call returned, with the side's root removed so the two
// sides compare.
type outcome struct {
	Err  string
	Data string
}

func (s *side) describe(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		inner := pe.Err.Error()
		if errors.As(err, &errno) {
			inner = errno.Error()
		}
		return fmt.Sprintf("PathError{%s %s %s}", pe.Op, strings.TrimPrefix(pe.Path, s.root), inner)
	case errors.As(err, &le):
		return fmt.Sprintf("LinkError{%s %s %s %v}", le.Op, strings.TrimPrefix(le.Old, s.root),
			strings.TrimPrefix(le.New, s.root), le.Err)
	case err == io.EOF:
		return "EOF"
	}
	return fmt.Sprintf("%T %v", err, err)
}

var (
	names = []string{"a", "b", "sub", "sub/c", "a/x", "missing/y", "sub/", "."}
	flags = []int{
		os.O_RDONLY, os.O_WRONLY, os.O_RDWR,
		os.O_WRONLY | os.O_CREATE, os.O_RDWR | os.O_CREATE | os.O_EXCL,
		os.O_WRONLY | os.O_CREATE | os.O_TRUNC, os.O_WRONLY | os.O_TRUNC,
		os.O_WRONLY | os.O_CREATE | os.O_APPEND, os.O_RDWR | os.O_APPEND,
		os.O_RDONLY | syscall.O_DIRECTORY, os.O_WRONLY | syscall.O_DIRECTORY,
		os.O_RDONLY | os.O_CREATE, os.O_RDWR | os.O_CREATE,
	}
)

// TestDifferential runs the same random call sequences on the real file
// system and on memfs and requires the same results, call by call.
func TestDifferential(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "memfs-diff")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
			rt.Fatal(err)
		}
		m := memfs.New(nil)
		if err := m.MkdirAll("/d", 0o700); err != nil { // as os.MkdirTemp makes it
			rt.Fatal(err)
		}
		if err := m.MkdirAll("/d/sub", 0o755); err != nil {
			rt.Fatal(err)
		}
		sides := []*side{{fsys: seam.OS, root: dir}, {fsys: m, root: "/d"}}
		defer func() {
			for _, s := range sides {
				for _, f := range s.files {
					f.Close()
				}
			}
		}()

		name := rapid.SampledFrom(names)
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			op := rapid.IntRange(0, 10).Draw(rt, "op")
			var (
				a, b  = name.Draw(rt, "name"), ""
				flag  int
				fd    int
				data  []byte
				n     int
				descr string
			)
			switch op {
			case 0:
				flag = rapid.SampledFrom(flags).Draw(rt, "flag")
				descr = fmt.Sprintf("open(%s, %#o)", a, flag)
			case 1, 2, 3, 4:
				if len(sides[0].files) == 0 {
					continue
				}
				fd = rapid.IntRange(0, len(sides[0].files)-1).Draw(rt, "fd")
				switch op {
				case 1:
					data = []byte(rapid.StringMatching(`[a-z]{0,6}`).Draw(rt, "data"))
					descr = fmt.Sprintf("write(%d, %q)", fd, data)
				case 2:
					n = rapid.IntRange(0, 8).Draw(rt, "n")
					descr = fmt.Sprintf("read(%d, %d)", fd, n)
				case 3:
					descr = fmt.Sprintf("sync(%d)", fd)
				case 4:
					descr = fmt.Sprintf("close(%d)", fd)
				}
			case 5, 6:
				b = name.Draw(rt, "name2")
				descr = fmt.Sprintf("rename(%s, %s, noreplace=%v)", a, b, op == 6)
			case 7:
				descr = fmt.Sprintf("remove(%s)", a)
			case 8:
				descr = fmt.Sprintf("readdir(%s)", a)
			case 9:
				descr = fmt.Sprintf("lstat(%s)", a)
			case 10:
				descr = fmt.Sprintf("lock(%s)", a)
			}
			var got [2]outcome
			for k, s := range sides {
				var err error
				var out string
				switch op {
				case 0:
					var f seam.File
					f, err = s.fsys.OpenFile(s.path(a), flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
					if err == nil {
						s.files = append(s.files, f)
					}
				case 1:
					var w int
					w, err = s.files[fd].Write(data)
					out = fmt.Sprint(w)
				case 2:
					buf := make([]byte, n)
					var r int
					r, err = s.files[fd].Read(buf)
					out = string(buf[:r])
				case 3:
					err = s.files[fd].Sync()
				case 4:
					err = s.files[fd].Close()
				case 5:
					err = s.fsys.Rename(s.path(a), s.path(b))
				case 6:
					err = s.fsys.RenameNoReplace(s.path(a), s.path(b))
				case 7:
					err = s.fsys.Remove(s.path(a))
				case 8:
					var ns []string
					ns, err = s.fsys.ReadDir(s.path(a))
					out = fmt.Sprint(ns)
				case 9:
					var fi fs.FileInfo
					fi, err = s.fsys.Lstat(s.path(a))
					if err == nil {
						size := fi.Size()
						if fi.IsDir() {
							size = -1 // a directory's size depends on the file system
						}
						out = fmt.Sprintf("%s size=%d mode=%v dir=%v", fi.Name(), size, fi.Mode(), fi.IsDir())
					}
				case 10:
					var unlock func() error
					unlock, err = s.fsys.Lock(s.path(a), seam.FileLock)
					if err == nil {
						err = unlock()
					}
				}
				got[k] = outcome{Err: s.describe(err), Data: out}
			}
			if op == 6 && strings.HasSuffix(got[1].Err, "invalid argument}") {
				// seam.OS takes EINVAL from renameat2 to mean "flag not
				// supported" and falls back to link(2), so a directory moved
				// into itself fails with link's EPERM there.
				continue
			}
			if got[0] != got[1] {
				rt.Fatalf("step %d: %s\n  OS:    %+v\n  memfs: %+v", i, descr, got[0], got[1])
			}
		}
	})
}
