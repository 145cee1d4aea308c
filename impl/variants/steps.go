package variants

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// The replacement steps. Each is the reference step with one historical
// mistake put back; the comment names where the mistake comes from and what
// the reference does instead.

// TruncateThenLoad replaces the Update step with Django's 2007 order (ticket
// #6984, file backend before r8340): save() opened the session file for
// writing — which truncates it — and only then touched the lazily loaded
// session, so load() read the empty file it had just made, found no valid
// data and carried on with an empty session. Here Touch (a save of a session
// the request never accessed) therefore writes empty values; Save, whose
// values are given, still works; a concurrent reader sees the empty file.
// The reference loads first and never truncates.
func TruncateThenLoad(s *impl.Store, key string, next func(model.Record) model.Record) error {
	return s.WithLock(key, false, func() error {
		f, err := s.FS().OpenFile(s.Path(key), syscall.O_WRONLY|syscall.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("session %s: %w", key, model.ErrNotFound)
		}
		if err != nil {
			return err
		}
		cur, err := s.Read(key) // reads its own truncation
		switch {
		case errors.Is(err, model.ErrCorrupt):
			cur = model.Record{} // "session data corrupted": start empty, as 2007 Django did
		case err != nil:
			return errors.Join(err, f.Close())
		case !cur.LiveAt(s.Now()):
			return errors.Join(fmt.Errorf("session %s: %w", key, model.ErrNotFound), f.Close())
		}
		data, err := s.Encode(key, next(cur))
		if err == nil {
			_, err = f.Write(data)
		}
		if err == nil {
			err = s.Sync(f)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		return s.SyncDir()
	})
}

// WriteInPlace replaces the Replace step with Django's 2008 file backend
// (ticket #8616): the record was loaded first (the #6984 fix), but the file
// was then truncated and rewritten in place, so a reader in another process
// between the truncation and the write sees an empty or half-written file,
// and a crash in that window leaves one. The reference writes a temporary
// file and renames it over.
func WriteInPlace(s *impl.Store, key string, data []byte) error {
	f, err := s.FS().OpenFile(s.Path(key), syscall.O_WRONLY|syscall.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("session %s: open for rewrite: %w", key, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = s.Sync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("session %s: rewrite: %w", key, err)
	}
	return nil
}

// CheckThenRename replaces the Update step with Django's current save()
// (window W1, open ticket #37249): it checks that the session exists, writes
// a temporary file and renames it over — with no lock, so a Delete (logout,
// cycle, clear_expired) between the check and the rename is undone and the
// session is resurrected. The reference holds the key's lock from the read to
// the rename, and every remover takes the same lock.
func CheckThenRename(s *impl.Store, key string, next func(model.Record) model.Record) error {
	return s.UpdateLocked(key, next) // the same steps, but without WithLock
}

// UnlockedSweep replaces the Expire step with Django's clear_expired (window
// W2): the sweep read the session, decided it had expired, and then unlinked
// it by path, with no lock and no second look, deleting a save that renamed
// a fresh record into place meanwhile. The reference takes the key's lock,
// reads again and removes only a record that is still expired.
func UnlockedSweep(s *impl.Store, key string, _ time.Time) (bool, error) {
	err := s.FS().Remove(s.Path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// CreateWithoutExcl replaces the Publish step with a check-then-act create
// (the must_create race that Django closes with O_EXCL): it checks that the
// key is free, then renames over it, so two creators that drew the same key
// both see it free and both report success, the second overwriting the
// first. The reference publishes with one no-replace rename.
func CreateWithoutExcl(s *impl.Store, key string, data []byte) error {
	_, err := s.FS().Lstat(s.Path(key))
	if err == nil {
		return fmt.Errorf("session %s: %w", key, fs.ErrExist)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := s.WriteTemp(key, data)
	if err != nil {
		return err
	}
	if err := s.FS().Rename(tmp, s.Path(key)); err != nil {
		return errors.Join(err, s.FS().Remove(tmp))
	}
	return nil
}

// ProcessMutex replaces the Lock step with gorilla/sessions' FilesystemStore
// locking: a package-level sync.RWMutex, taken shared by readers and
// exclusive by writers. Paired with WriteInPlace (gorilla rewrites the file
// in place, trusting the mutex), it is correct among the goroutines of one
// process and wrong among processes, which share no memory. The two fields go
// together because neither is the bug alone: in-place writes under a lock
// every process honours would be safe, and a process mutex in front of
// atomic renames would be harmless. The reference takes an flock, which every
// process honours, and needs no reader lock because it never writes in place.
func ProcessMutex(s *impl.Store, key string, shared bool) (func() error, error) {
	kind := seam.ProcessLock
	if shared {
		kind = seam.ProcessSharedLock
	}
	return s.FS().Lock(s.LockPath(key), kind)
}

// SwallowErrors replaces the Replace step with Django's error handling in
// save() (window W7: `except (EOFError, OSError): pass` around mkstemp,
// write and rename): a full disk or an I/O error drops the save and the
// caller is told it succeeded. The reference returns every error.
func SwallowErrors(s *impl.Store, key string, data []byte) error {
	_ = impl.ReferenceSteps().Replace(s, key, data) // the bug: the error is dropped
	return nil
}

// NoFsync replaces the Sync step with nothing, as Django's file backend (and
// most others) do: the rename is atomic while the machine runs, but neither
// the new file's content nor the directory entry is forced to disk, so after
// a crash an acknowledged save may be gone, or present and empty. The
// reference syncs the temporary file before the rename and the directory
// after it.
func NoFsync(seam.File) error { return nil }
