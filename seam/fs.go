package seam

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// FS is the seam between the store and the file system. The store performs
// every file operation and takes every lock through it, so that a controlled
// scheduler, a fault injector or a crash simulator can stand behind it
// without any change to the store. OS is the default.
//
// Errors follow package os: a missing name matches fs.ErrNotExist, an
// existing one fs.ErrExist, and an implementation may wrap a syscall.Errno.
type FS interface {
	// OpenFile opens name like os.OpenFile. The store always passes
	// O_NOFOLLOW and O_CLOEXEC; a directory is opened with O_DIRECTORY to be
	// synced.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Rename atomically replaces newpath with oldpath.
	Rename(oldpath, newpath string) error
	// RenameNoReplace atomically renames oldpath to newpath, failing with an
	// error matching fs.ErrExist if newpath exists.
	RenameNoReplace(oldpath, newpath string) error
	// Remove removes a file.
	Remove(name string) error
	// ReadDir returns the names in the directory, sorted.
	ReadDir(name string) ([]string, error)
	// Lstat describes name without following a symbolic link.
	Lstat(name string) (fs.FileInfo, error)
	// Lock blocks until it holds the lock called name, of the given kind,
	// and returns the function that releases it.
	Lock(name string, kind LockKind) (unlock func() error, err error)
}

// File is an open file.
type File interface {
	io.Reader
	io.Writer
	Sync() error
	Close() error
}

// LockKind says what a lock excludes.
type LockKind uint8

const (
	// FileLock is an exclusive advisory lock (flock) on the file called
	// name, created 0600 if missing. It excludes every process.
	FileLock LockKind = iota
	// ProcessLock is an exclusive in-memory lock shared by every user of the
	// same FS value: within a process it excludes every store opened on
	// OS, across processes it excludes nothing.
	ProcessLock
	// ProcessSharedLock is the shared (reader) side of ProcessLock.
	ProcessSharedLock
)

// OS is the real file system.
var OS FS = &osFS{}

type osFS struct {
	mu    sync.Mutex
	procs map[string]*sync.RWMutex
}

func (*osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	// A raw descriptor, not an *os.File: the store reads and writes each
	// file once, and os.File's set-up (fcntl calls, a poller registration
	// that fails for regular files) cost as many system calls as the work.
	fd, err := retryEINTR(func() (int, error) { return unix.Open(name, flag, uint32(perm.Perm())) })
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return &rawFile{fd: fd, name: name}, nil
}

// rawFile is an open file descriptor, used by one goroutine at a time.
type rawFile struct {
	fd   int // -1 once closed: a closed number may already name another file
	name string
}

func (f *rawFile) closed(op string) error {
	return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
}

func (f *rawFile) Read(p []byte) (int, error) {
	if f.fd < 0 {
		return 0, f.closed("read")
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := retryEINTR(func() (int, error) { return unix.Read(f.fd, p) })
	switch {
	case err != nil:
		return 0, &os.PathError{Op: "read", Path: f.name, Err: err}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (f *rawFile) Write(p []byte) (int, error) {
	if f.fd < 0 {
		return 0, f.closed("write")
	}
	return writeAll(p, func(b []byte) (int, error) {
		n, err := retryEINTR(func() (int, error) { return unix.Write(f.fd, b) })
		if err != nil {
			return n, &os.PathError{Op: "write", Path: f.name, Err: err}
		}
		return n, nil
	})
}

// writeAll writes p with write until all of it is written or write fails.
// It calls write at least once, even for nothing, so that writing to a
// descriptor not open for writing fails as it does through package os. A
// write that writes nothing without an error is io.ErrShortWrite, as in
// package os, rather than a loop that never ends.
func writeAll(p []byte, write func([]byte) (int, error)) (int, error) {
	written := 0
	for {
		n, err := write(p[written:])
		if err != nil {
			return written, err
		}
		written += n
		if written == len(p) {
			return written, nil
		}
		if n == 0 {
			return written, io.ErrShortWrite
		}
	}
}

func (f *rawFile) Sync() error {
	if f.fd < 0 {
		return f.closed("sync")
	}
	if _, err := retryEINTR(func() (int, error) { return 0, unix.Fsync(f.fd) }); err != nil {
		return &os.PathError{Op: "fsync", Path: f.name, Err: err}
	}
	return nil
}

func (f *rawFile) Close() error {
	if f.fd < 0 {
		return f.closed("close")
	}
	// close(2) must not be retried on EINTR: the descriptor is gone either way.
	fd := f.fd
	f.fd = -1
	if err := unix.Close(fd); err != nil {
		return &os.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// retryEINTR repeats a system call interrupted by a signal, as package os does.
func retryEINTR(call func() (int, error)) (int, error) {
	for {
		n, err := call()
		if err != unix.EINTR {
			return n, err
		}
	}
}

func (*osFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

func (*osFS) RenameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS):
		// The file system cannot rename without replacing: link(2) fails
		// with EEXIST just as atomically; the temporary name then goes.
		if err := os.Link(oldpath, newpath); err != nil {
			return err
		}
		return os.Remove(oldpath)
	}
	return &os.LinkError{Op: "renameat2", Old: oldpath, New: newpath, Err: err}
}

func (*osFS) Remove(name string) error { return syscallRemove(name) }

// syscallRemove unlinks a file (never a directory, unlike os.Remove).
func syscallRemove(name string) error {
	if err := unix.Unlink(name); err != nil {
		return &os.PathError{Op: "unlink", Path: name, Err: err}
	}
	return nil
}

func (*osFS) ReadDir(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	slices.Sort(names)
	return names, err
}

func (*osFS) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(name) }

func (o *osFS) Lock(name string, kind LockKind) (func() error, error) {
	if kind != FileLock {
		o.mu.Lock()
		if o.procs == nil {
			o.procs = make(map[string]*sync.RWMutex)
		}
		m := o.procs[name]
		if m == nil {
			m = new(sync.RWMutex)
			o.procs[name] = m
		}
		o.mu.Unlock()
		if kind == ProcessSharedLock {
			m.RLock()
			return func() error { m.RUnlock(); return nil }, nil
		}
		m.Lock()
		return func() error { m.Unlock(); return nil }, nil
	}
	return flockPath(name)
}
