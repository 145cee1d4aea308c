package memfs

import (
	"fmt"
	"io/fs"
	"syscall"

	"github.com/sessioncheck/sessioncheck/seam"
)

// Lock blocks until it holds the lock called name of the given kind and
// returns the function that releases it. A FileLock is flock(2) on the file
// called name, which is created 0600 if missing.
func (f *FS) Lock(name string, kind seam.LockKind) (func() error, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	for {
		unlock, ok, err := f.tryLock(name, kind)
		if err != nil || ok {
			return unlock, err
		}
		d.cond.Wait()
	}
}

// TryLock is Lock without the wait: ok is false, and nothing is held, when
// the lock is taken by someone else. A scheduler uses it to learn that a
// client would block, so that it never waits on one.
func (f *FS) TryLock(name string, kind seam.LockKind) (unlock func() error, ok bool, err error) {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	return f.tryLock(name, kind)
}

// tryLock does the work of TryLock. The caller holds d.mu.
func (f *FS) tryLock(name string, kind seam.LockKind) (func() error, bool, error) {
	d := f.d
	switch kind {
	case seam.FileLock:
		n, errno := d.open(name, syscall.O_RDWR|syscall.O_CREAT, 0o600)
		if errno != 0 {
			return nil, false, pathErr("open", name, errno)
		}
		if n.flocked {
			return nil, false, nil
		}
		n.flocked = true
		return d.releaser(name, func() { n.flocked = false }), true, nil
	case seam.ProcessLock, seam.ProcessSharedLock:
		l := f.procs[name]
		if l == nil {
			l = &rwState{}
			f.procs[name] = l
		}
		if l.writer || (kind == seam.ProcessLock && l.readers > 0) {
			return nil, false, nil
		}
		if kind == seam.ProcessSharedLock {
			l.readers++
			return d.releaser(name, func() { l.readers-- }), true, nil
		}
		l.writer = true
		return d.releaser(name, func() { l.writer = false }), true, nil
	}
	return nil, false, fmt.Errorf("memfs: lock %s: unknown lock kind %d", name, kind)
}

// releaser returns an unlock function that runs release once under d.mu and
// wakes every waiter; a second call is an error, as unlocking a closed
// descriptor is.
func (d *disk) releaser(name string, release func()) func() error {
	done := false
	return func() error {
		d.mu.Lock()
		defer d.mu.Unlock()
		if done {
			return &fs.PathError{Op: "flock", Path: name, Err: fs.ErrClosed}
		}
		done = true
		release()
		d.cond.Broadcast()
		return nil
	}
}
