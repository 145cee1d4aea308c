// Package hookfs wraps an seam.FS so that a checker sees every call the store
// makes — through the file system, through its open files and through its
// locks — numbered in the order they happen, and can fail any one of them.
//
// The crash check takes a crash image after every call that may change the
// disk; the fault check makes one call fail with an errno. Both need the
// calls numbered identically from run to run, which holds when the store is
// driven sequentially over a deterministic file system such as memfs.
package hookfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"

	"github.com/sessioncheck/sessioncheck/seam"
)

// Call is one file-system call.
type Call struct {
	Index int    // position among all calls through this FS, from 0
	Op    string // open, read, write, fsync, close, rename, renameat2, unlink, readdir, lstat, lock, unlock
	Path  string // the name, or the name the file was opened as
	Path2 string // rename and renameat2: the new name
	Flag  int    // open: the flags
	Kind  seam.LockKind
	Size  int // read and write: the buffer length
}

func (c Call) String() string {
	switch c.Op {
	case "open":
		return fmt.Sprintf("#%d open(%s, %s)", c.Index, c.Path, FlagString(c.Flag))
	case "rename", "renameat2":
		return fmt.Sprintf("#%d %s(%s, %s)", c.Index, c.Op, c.Path, c.Path2)
	case "lock", "unlock":
		return fmt.Sprintf("#%d %s(%s, %s)", c.Index, c.Op, c.Path, kindName(c.Kind))
	case "read", "write":
		return fmt.Sprintf("#%d %s(%s, %d bytes)", c.Index, c.Op, c.Path, c.Size)
	}
	return fmt.Sprintf("#%d %s(%s)", c.Index, c.Op, c.Path)
}

func kindName(k seam.LockKind) string {
	switch k {
	case seam.FileLock:
		return "file"
	case seam.ProcessLock:
		return "process"
	case seam.ProcessSharedLock:
		return "process-shared"
	}
	return fmt.Sprint(k)
}

// FlagString spells open flags the way a reader of strace would.
func FlagString(flag int) string {
	var s string
	switch flag & syscall.O_ACCMODE {
	case syscall.O_RDONLY:
		s = "O_RDONLY"
	case syscall.O_WRONLY:
		s = "O_WRONLY"
	default:
		s = "O_RDWR"
	}
	for _, f := range []struct {
		bit  int
		name string
	}{{syscall.O_CREAT, "O_CREAT"}, {syscall.O_EXCL, "O_EXCL"}, {syscall.O_TRUNC, "O_TRUNC"},
		{syscall.O_APPEND, "O_APPEND"}, {syscall.O_DIRECTORY, "O_DIRECTORY"}} {
		if flag&f.bit != 0 {
			s += "|" + f.name
		}
	}
	return s
}

// Mutating reports whether the call may change what is on the disk, or what
// a crash would leave of it: these are the points after which a crash can
// show something new.
func (c Call) Mutating() bool {
	switch c.Op {
	case "open":
		return c.Flag&(syscall.O_CREAT|syscall.O_TRUNC) != 0
	case "write", "fsync", "rename", "renameat2", "unlink":
		return true
	case "lock":
		return c.Kind == seam.FileLock // creates the lock file if missing
	}
	return false
}

// ErrWouldBlock is what Lock returns, under NoWait, when the lock is held:
// in a sequential run nobody would ever release it.
var ErrWouldBlock = errors.New("lock would wait forever: it is held and no other client runs")

// Hooks are what a checker runs around each call.
type Hooks struct {
	// Before runs before each call. A non-nil error fails the call: a
	// syscall.Errno is wrapped the way package os wraps it. A failed call is
	// not performed, except that a write writes the first half of its
	// buffer (a short write, as a filling disk gives) and close and unlock
	// still release the descriptor and the lock (as the kernel does) before
	// reporting the error.
	Before func(c Call) error
	// After runs after each call with the error it returned.
	After func(c Call, err error)
	// NoWait makes Lock fail with ErrWouldBlock instead of waiting, when the
	// wrapped FS can try a lock without waiting (memfs can).
	NoWait bool
}

// TryLocker is implemented by a file system that can take a lock without
// waiting, as memfs does.
type TryLocker interface {
	TryLock(name string, kind seam.LockKind) (unlock func() error, ok bool, err error)
}

// FS is an seam.FS whose every call runs the hooks.
type FS struct {
	inner seam.FS
	hooks Hooks
	mu    sync.Mutex
	n     int
}

var _ seam.FS = (*FS)(nil)

// New wraps inner.
func New(inner seam.FS, hooks Hooks) *FS { return &FS{inner: inner, hooks: hooks} }

// Calls returns how many calls have been made.
func (h *FS) Calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func (h *FS) before(c *Call) error {
	h.mu.Lock()
	c.Index = h.n
	h.n++
	h.mu.Unlock()
	if h.hooks.Before == nil {
		return nil
	}
	err := h.hooks.Before(*c)
	var errno syscall.Errno
	if err == nil || !errors.As(err, &errno) || errors.Is(err, errno) && err != error(errno) {
		return err
	}
	switch c.Op {
	case "rename", "renameat2":
		return &os.LinkError{Op: c.Op, Old: c.Path, New: c.Path2, Err: errno}
	case "fsync":
		return &fs.PathError{Op: "sync", Path: c.Path, Err: errno}
	case "lock", "unlock":
		return &fs.PathError{Op: "flock", Path: c.Path, Err: errno}
	case "readdir":
		return &fs.PathError{Op: "readdirent", Path: c.Path, Err: errno}
	}
	return &fs.PathError{Op: c.Op, Path: c.Path, Err: errno}
}

func (h *FS) after(c Call, err error) {
	if h.hooks.After != nil {
		h.hooks.After(c, err)
	}
}

// OpenFile opens name through the wrapped FS.
func (h *FS) OpenFile(name string, flag int, perm fs.FileMode) (seam.File, error) {
	c := Call{Op: "open", Path: name, Flag: flag}
	if err := h.before(&c); err != nil {
		h.after(c, err)
		return nil, err
	}
	f, err := h.inner.OpenFile(name, flag, perm)
	h.after(c, err)
	if err != nil {
		return nil, err
	}
	return &file{h: h, f: f, name: name}, nil
}

// Rename renames through the wrapped FS.
func (h *FS) Rename(oldpath, newpath string) error {
	return h.do(Call{Op: "rename", Path: oldpath, Path2: newpath}, func() error { return h.inner.Rename(oldpath, newpath) })
}

// RenameNoReplace renames without replacing through the wrapped FS.
func (h *FS) RenameNoReplace(oldpath, newpath string) error {
	return h.do(Call{Op: "renameat2", Path: oldpath, Path2: newpath}, func() error { return h.inner.RenameNoReplace(oldpath, newpath) })
}

// Remove unlinks through the wrapped FS.
func (h *FS) Remove(name string) error {
	return h.do(Call{Op: "unlink", Path: name}, func() error { return h.inner.Remove(name) })
}

// ReadDir lists through the wrapped FS.
func (h *FS) ReadDir(name string) (names []string, err error) {
	err = h.do(Call{Op: "readdir", Path: name}, func() (err error) { names, err = h.inner.ReadDir(name); return err })
	return names, err
}

// Lstat describes through the wrapped FS.
func (h *FS) Lstat(name string) (fi fs.FileInfo, err error) {
	err = h.do(Call{Op: "lstat", Path: name}, func() (err error) { fi, err = h.inner.Lstat(name); return err })
	return fi, err
}

// Lock locks through the wrapped FS; the unlock it returns is a call too.
func (h *FS) Lock(name string, kind seam.LockKind) (func() error, error) {
	var unlock func() error
	err := h.do(Call{Op: "lock", Path: name, Kind: kind}, func() (err error) {
		if tl, ok := h.inner.(TryLocker); ok && h.hooks.NoWait {
			var got bool
			unlock, got, err = tl.TryLock(name, kind)
			if err == nil && !got {
				err = &fs.PathError{Op: "flock", Path: name, Err: ErrWouldBlock}
			}
			return err
		}
		unlock, err = h.inner.Lock(name, kind)
		return err
	})
	if err != nil {
		return nil, err
	}
	return func() error {
		c := Call{Op: "unlock", Path: name, Kind: kind}
		injected := h.before(&c)
		err := unlock()
		if injected != nil {
			err = injected
		}
		h.after(c, err)
		return err
	}, nil
}

// do runs one call that a failure skips.
func (h *FS) do(c Call, call func() error) error {
	err := h.before(&c)
	if err == nil {
		err = call()
	}
	h.after(c, err)
	return err
}

type file struct {
	h    *FS
	f    seam.File
	name string
}

func (f *file) Read(p []byte) (n int, err error) {
	err = f.h.do(Call{Op: "read", Path: f.name, Size: len(p)}, func() (err error) { n, err = f.f.Read(p); return err })
	return n, err
}

func (f *file) Write(p []byte) (n int, err error) {
	c := Call{Op: "write", Path: f.name, Size: len(p)}
	injected := f.h.before(&c)
	if injected != nil {
		n, err = f.f.Write(p[:len(p)/2])
		if err == nil {
			err = injected
		}
	} else {
		n, err = f.f.Write(p)
	}
	f.h.after(c, err)
	return n, err
}

func (f *file) Sync() error {
	return f.h.do(Call{Op: "fsync", Path: f.name}, f.f.Sync)
}

func (f *file) Close() error {
	c := Call{Op: "close", Path: f.name}
	injected := f.h.before(&c)
	err := f.f.Close()
	if injected != nil {
		err = injected
	}
	f.h.after(c, err)
	return err
}
