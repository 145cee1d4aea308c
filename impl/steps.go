package impl

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// Steps are the parts of the store that impl/variants may replace, each a
// function of the store it runs in. The reference store is ReferenceSteps();
// a variant is the reference with one step swapped for a historical mistake,
// so the difference between a correct store and a buggy one is one function
// a reader can see whole.
//
// The steps are cut where the historical bugs are: how writers exclude each
// other (Lock), the read-modify-write of Save and Touch (Update), how a
// record replaces the stored one (Replace) or appears under a new key
// (Publish), how ClearExpired removes one key (Expire), and what makes bytes
// durable (Sync). Load, Exists, Save, Touch, Delete and Cycle are steps of
// their own, and so are a file's sync (SyncFile) and the directory's
// (SyncDir), so that a bug confined to one of them is one step too. The
// finer steps' reference versions call the coarser shared ones (Save and
// Touch call Update, Exists calls Load, SyncFile and SyncDir call Sync), so
// a variant still replaces exactly one step: Update to change both Save and
// Touch, Touch to change only Touch. Key validation and encoding are fixed.
type Steps struct {
	// Lock takes key's lock and returns its release. Writers take it
	// exclusive (shared false) around every change of key's file; readers
	// (Load, Exists, ClearExpired's scan) take it shared. Reference: an
	// flock on key's stripe for writers; nothing for readers, which need no
	// lock because files are only ever replaced whole.
	Lock func(s *Store, key string, shared bool) (unlock func() error, err error)
	// Update is Save's and Touch's read-modify-write: holding key's lock,
	// read the record, return ErrNotFound unless it is live, and replace it
	// with next(record). Reference: Lock, then UpdateLocked.
	Update func(s *Store, key string, next func(model.Record) model.Record) error
	// Replace makes data the content of key's existing session file; the
	// caller holds key's lock and syncs the directory afterwards. Reference:
	// WriteTemp, then rename over the session file; readers see the old file
	// or the new one, never a mix.
	Replace func(s *Store, key string, data []byte) error
	// Publish makes data the content of key's session file only if the key
	// is free, failing with an error matching fs.ErrExist otherwise; the
	// caller syncs the directory. Reference: WriteTemp, then a no-replace
	// rename.
	Publish func(s *Store, key string, data []byte) error
	// Expire removes key for ClearExpired, which read it unlocked and found
	// it expired at now, and reports whether it did. Reference: lock, read
	// again, remove only if still expired.
	Expire func(s *Store, key string, now time.Time) (removed bool, err error)
	// Sync makes what was written through f durable: a temporary file's
	// content or the directory's entries. Reference: f.Sync().
	Sync func(f seam.File) error

	// Load reads a live session (key is valid). Reference: the Lock
	// step's shared side around a read; ErrNotFound unless live.
	Load func(s *Store, key string) (model.Record, error)
	// Exists reports whether the session is live. Reference: the Load
	// step, with not-found as false.
	Exists func(s *Store, key string) (bool, error)
	// Save replaces a live session's record. Reference: the Update step.
	Save func(s *Store, key string, values model.Values, expiry time.Time) error
	// Touch sets a live session's expiry, keeping its values. Reference:
	// the Update step.
	Touch func(s *Store, key string, expiry time.Time) error
	// Delete removes the session if stored. Reference: unlink under key's
	// lock (exclusive), then SyncDir.
	Delete func(s *Store, key string) (err error)
	// Cycle moves a live session's record to a fresh key. Reference: under
	// the old key's lock, read, publish under a fresh key (the Publish
	// step), unlink the old key, SyncDir.
	Cycle func(s *Store, key string) (newKey string, err error)
	// SyncFile makes a temporary file's content durable before it is
	// renamed into place. Reference: the Sync step.
	SyncFile func(s *Store, f seam.File) error
	// SyncDir makes the directory's entries (renames, unlinks) durable.
	// Reference: open the directory, the Sync step, close.
	SyncDir func(s *Store) error
}

// ReferenceSteps returns the steps of the reference store.
func ReferenceSteps() Steps {
	return Steps{
		Lock:     lockStripe,
		Update:   update,
		Replace:  replace,
		Publish:  publish,
		Expire:   expire,
		Sync:     func(f seam.File) error { return f.Sync() },
		Load:     load,
		Exists:   exists,
		Save:     save,
		Touch:    touch,
		Delete:   deleteKey,
		Cycle:    cycle,
		SyncFile: func(s *Store, f seam.File) error { return s.steps.Sync(f) },
		SyncDir:  syncDir,
	}
}

// check reports a missing step, which would otherwise be a nil call deep
// inside an operation.
func (st Steps) check() error {
	for _, f := range []struct {
		name    string
		missing bool
	}{{"Lock", st.Lock == nil}, {"Update", st.Update == nil}, {"Replace", st.Replace == nil},
		{"Publish", st.Publish == nil}, {"Expire", st.Expire == nil}, {"Sync", st.Sync == nil},
		{"Load", st.Load == nil}, {"Exists", st.Exists == nil}, {"Save", st.Save == nil},
		{"Touch", st.Touch == nil}, {"Delete", st.Delete == nil}, {"Cycle", st.Cycle == nil},
		{"SyncFile", st.SyncFile == nil}, {"SyncDir", st.SyncDir == nil}} {
		if f.missing {
			return fmt.Errorf("impl.Options.Steps: %s is nil (start from ReferenceSteps())", f.name)
		}
	}
	return nil
}

var noUnlock = func() error { return nil }

func lockStripe(s *Store, key string, shared bool) (func() error, error) {
	if shared {
		return noUnlock, nil
	}
	return s.fs.Lock(s.LockPath(key), seam.FileLock)
}

func update(s *Store, key string, next func(model.Record) model.Record) error {
	// The lock spans the read and the rename: no Delete, Cycle or expiry can
	// remove the file in between, so a live read stays true until the
	// rename (the check-then-rename resurrection, Django #37249), and no
	// other writer's rename can be lost between them.
	return s.WithLock(key, false, func() error { return s.UpdateLocked(key, next) })
}

// UpdateLocked is the body of the reference Update: read key's record,
// return ErrNotFound unless it is live at the clock's reading, encode
// next(record) — everything a write needs exists before storage is touched —
// then run the Replace step and sync the directory. The caller must hold
// key's lock (for Steps).
func (s *Store) UpdateLocked(key string, next func(model.Record) model.Record) error {
	cur, err := s.readLive(key, s.clock())
	if err != nil {
		return err
	}
	data, err := s.Encode(key, next(cur))
	if err != nil {
		return err
	}
	if err := s.steps.Replace(s, key, data); err != nil {
		return err
	}
	return s.SyncDir()
}

func replace(s *Store, key string, data []byte) error {
	tmp, err := s.WriteTemp(key, data)
	if err != nil {
		return err
	}
	if err := s.fs.Rename(tmp, s.Path(key)); err != nil {
		return errors.Join(fmt.Errorf("session %s: rename: %w", key, err), s.fs.Remove(tmp))
	}
	return nil
}

func publish(s *Store, key string, data []byte) error {
	tmp, err := s.WriteTemp(key, data)
	if err != nil {
		return err
	}
	// No-replace, not check-then-rename: two creators of one key cannot both
	// see it free, because the check and the rename are one system call.
	if err := s.fs.RenameNoReplace(tmp, s.Path(key)); err != nil {
		if rerr := s.fs.Remove(tmp); rerr != nil {
			// Not a collision any more: the caller must not draw again and
			// leave another temporary file behind.
			return fmt.Errorf("session %s: publish: %v; remove temporary file: %w", key, err, rerr)
		}
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("session %s: publish: %w", key, err)
	}
	return nil
}

func expire(s *Store, key string, now time.Time) (removed bool, err error) {
	// The unlocked read that chose key may be stale: a Save may have
	// refreshed it since (Django's clear_expired deletes that fresh save).
	// Under the lock no writer can change it, so read again and decide.
	err = s.WithLock(key, false, func() error {
		rec, err := s.Read(key)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || rec.LiveAt(now) {
			return err
		}
		if err := s.fs.Remove(s.Path(key)); err != nil {
			return fmt.Errorf("session %s: remove expired: %w", key, err)
		}
		removed = true
		return nil
	})
	return removed, err
}
