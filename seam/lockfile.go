package seam

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// lockAttempts bounds how often flockPath starts again because the lock
// file was replaced while it waited: only something outside the store
// replaces lock files, and one that does it 16 times in a row is an attack,
// not a temp cleaner.
const lockAttempts = 16

// ErrLockLost is the release error of a lock whose file was removed or
// replaced while it was held. A second writer may have locked the new file
// meanwhile, so the operation that held it may not have been exclusive:
// its outcome must be treated as unknown.
var ErrLockLost = errors.New("lock file removed or replaced while held: another writer may have taken the lock meanwhile")

// Test knobs (export_test.go): a function run between the open and the
// flock of each attempt, and a switch that turns the re-checks off.
var (
	lockOpenedHook atomic.Pointer[func(name string)]
	lockNoRecheck  atomic.Bool
)

// flockPath is OS's FileLock: an exclusive flock on the file called name,
// created 0600 if missing. A flock belongs to an inode, not to a name: if
// the file is unlinked or replaced between the open and the moment the
// flock is granted (an age-based temp cleaner removes lock files, whose
// modification time never changes), the caller would hold a lock on a file
// nobody else can open any more, while the next writer creates a new one
// and locks it too. So once granted, the lock is kept only if the name
// still leads to the same device and inode as the held descriptor;
// otherwise it is dropped and taken again on what the name leads to now.
// The release checks once more and reports ErrLockLost when the name no
// longer leads to the held file, since then a second writer may have got in.
func flockPath(name string) (func() error, error) {
	for range lockAttempts {
		fd, err := retryEINTR(func() (int, error) {
			return unix.Open(name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		})
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		if hook := lockOpenedHook.Load(); hook != nil {
			(*hook)(name)
		}
		if _, err := retryEINTR(func() (int, error) { return 0, unix.Flock(fd, unix.LOCK_EX) }); err != nil {
			unix.Close(fd)
			return nil, &os.PathError{Op: "flock", Path: name, Err: err}
		}
		var held unix.Stat_t
		if err := unix.Fstat(fd, &held); err != nil {
			unix.Close(fd)
			return nil, &os.PathError{Op: "fstat", Path: name, Err: err}
		}
		same, err := namesInode(name, &held)
		if err != nil {
			unix.Close(fd)
			return nil, err
		}
		if same || lockNoRecheck.Load() {
			return releaser(name, fd, &held), nil
		}
		// The name moved on: this lock excludes nobody. Closing drops it.
		unix.Close(fd)
	}
	return nil, &os.PathError{Op: "flock", Path: name,
		Err: fmt.Errorf("the lock file was removed or replaced %d times in a row while waiting for it", lockAttempts)}
}

// namesInode reports whether name (not followed if a link) is the file
// described by held; a missing name is not.
func namesInode(name string, held *unix.Stat_t) (bool, error) {
	var now unix.Stat_t
	err := unix.Lstat(name, &now)
	switch {
	case errors.Is(err, unix.ENOENT):
		return false, nil
	case err != nil:
		return false, &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	return now.Dev == held.Dev && now.Ino == held.Ino, nil
}

// releaser returns the release of the flock held through fd.
func releaser(name string, fd int, held *unix.Stat_t) func() error {
	dev, ino := held.Dev, held.Ino
	return func() error {
		var lost error
		if !lockNoRecheck.Load() {
			same, err := namesInode(name, &unix.Stat_t{Dev: dev, Ino: ino})
			switch {
			case err != nil:
				lost = err
			case !same:
				lost = &os.PathError{Op: "flock", Path: name, Err: ErrLockLost}
			}
		}
		// Closing the descriptor releases the flock; the explicit unlock
		// reports an error that close alone would hide.
		uerr := unix.Flock(fd, unix.LOCK_UN)
		cerr := unix.Close(fd)
		switch {
		case uerr != nil:
			return errors.Join(lost, &os.PathError{Op: "flock", Path: name, Err: uerr})
		case cerr != nil:
			return errors.Join(lost, &os.PathError{Op: "close", Path: name, Err: cerr})
		}
		return lost
	}
}
