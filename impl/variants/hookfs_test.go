package variants_test

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/sessioncheck/sessioncheck/impl"
)

// call is one file-system call as the store made it.
type call struct {
	Op   string // open, rename, rename-noreplace, remove, readdir, lstat, lock, unlock, read, write, sync, close
	Path string // base name (the first path for renames)
	Flag int
	Kind impl.LockKind
}

func (c call) String() string {
	if c.Op == "open" {
		return fmt.Sprintf("open(%s, %#x)", c.Path, c.Flag)
	}
	return fmt.Sprintf("%s(%s)", c.Op, c.Path)
}

// hookFS wraps a real FS, records every call (file and lock calls too) and
// lets a test run code before a call or make it fail. Close and unlock still
// release the real descriptor or lock when they are made to fail, as the
// kernel does.
type hookFS struct {
	impl.FS
	mu     sync.Mutex
	calls  []call
	before func(n int, c call) error // n counts calls from 1; non-nil error = injected

	// procs, when set, is this FS's own table of process locks: stores on
	// different hookFS values with procs then behave like separate processes.
	procs map[string]*sync.RWMutex
}

// asProcess gives h its own process-lock table.
func (h *hookFS) asProcess() *hookFS {
	h.procs = map[string]*sync.RWMutex{}
	return h
}

func newHookFS() *hookFS { return &hookFS{FS: impl.OS} }

func (h *hookFS) hook(c call) error {
	h.mu.Lock()
	h.calls = append(h.calls, c)
	n, before := len(h.calls), h.before
	h.mu.Unlock()
	if before != nil {
		return before(n, c)
	}
	return nil
}

// reset forgets the calls so far and installs before.
func (h *hookFS) reset(before func(int, call) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls, h.before = nil, before
}

func (h *hookFS) log() []call {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]call(nil), h.calls...)
}

func (h *hookFS) OpenFile(name string, flag int, perm fs.FileMode) (impl.File, error) {
	base := filepath.Base(name)
	if err := h.hook(call{Op: "open", Path: base, Flag: flag}); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := h.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &hookFile{h: h, f: f, name: base}, nil
}

func (h *hookFS) Rename(o, n string) error {
	if err := h.hook(call{Op: "rename", Path: filepath.Base(o)}); err != nil {
		return err
	}
	return h.FS.Rename(o, n)
}

func (h *hookFS) RenameNoReplace(o, n string) error {
	if err := h.hook(call{Op: "rename-noreplace", Path: filepath.Base(o)}); err != nil {
		return err
	}
	return h.FS.RenameNoReplace(o, n)
}

func (h *hookFS) Remove(name string) error {
	if err := h.hook(call{Op: "remove", Path: filepath.Base(name)}); err != nil {
		return err
	}
	return h.FS.Remove(name)
}

func (h *hookFS) ReadDir(name string) ([]string, error) {
	if err := h.hook(call{Op: "readdir", Path: filepath.Base(name)}); err != nil {
		return nil, err
	}
	return h.FS.ReadDir(name)
}

func (h *hookFS) Lstat(name string) (fs.FileInfo, error) {
	if err := h.hook(call{Op: "lstat", Path: filepath.Base(name)}); err != nil {
		return nil, err
	}
	return h.FS.Lstat(name)
}

func (h *hookFS) Lock(name string, kind impl.LockKind) (func() error, error) {
	base := filepath.Base(name)
	if err := h.hook(call{Op: "lock", Path: base, Kind: kind}); err != nil {
		return nil, err
	}
	var unlock func() error
	var err error
	if kind != impl.FileLock && h.procs != nil {
		h.mu.Lock()
		m := h.procs[name]
		if m == nil {
			m = new(sync.RWMutex)
			h.procs[name] = m
		}
		h.mu.Unlock()
		if kind == impl.ProcessSharedLock {
			m.RLock()
			unlock = func() error { m.RUnlock(); return nil }
		} else {
			m.Lock()
			unlock = func() error { m.Unlock(); return nil }
		}
	} else if unlock, err = h.FS.Lock(name, kind); err != nil {
		return nil, err
	}
	return func() error {
		herr := h.hook(call{Op: "unlock", Path: base, Kind: kind})
		if err := unlock(); herr == nil {
			return err
		}
		return herr
	}, nil
}

type hookFile struct {
	h    *hookFS
	f    impl.File
	name string
}

func (f *hookFile) Read(p []byte) (int, error) {
	if err := f.h.hook(call{Op: "read", Path: f.name}); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *hookFile) Write(p []byte) (int, error) {
	if err := f.h.hook(call{Op: "write", Path: f.name}); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *hookFile) Sync() error {
	if err := f.h.hook(call{Op: "sync", Path: f.name}); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *hookFile) Close() error {
	herr := f.h.hook(call{Op: "close", Path: f.name})
	if err := f.f.Close(); herr == nil {
		return err
	}
	return herr
}

// errInjected is the error a test injects: EIO, like a failing disk.
var errInjected = syscall.EIO
