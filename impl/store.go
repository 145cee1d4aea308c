// Package impl is the reference file session store: one file per session in
// one directory, every write a complete new file made visible by rename,
// writers of one key serialised by a file lock, readers lock-free.
//
// docs/DESIGN.md gives every operation's system-call sequence, its
// linearization point and the race each step prevents. The store performs
// every file operation and takes every lock through [FS], so checkers can
// schedule, fail or crash it without changing it, and its replaceable
// [Steps] let impl/variants re-create historical bugs one step at a time.
package impl

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// Defaults for the zero Options.
const (
	// DefaultMaxRecordSize bounds an encoded session file (1 MiB).
	DefaultMaxRecordSize = 1 << 20
	// DefaultTempTTL is the age after which ClearExpired removes a stray
	// temporary file. It is far longer than any write takes, so a sweep
	// never removes the temporary file of a write still in progress.
	DefaultTempTTL = time.Hour
	// CreateAttempts bounds how many fresh keys Create and Cycle draw
	// before they give up: with crypto/rand a single collision is already
	// astronomically unlikely, so running out means the key source is broken.
	CreateAttempts = 16
)

// ErrTooLarge is returned, before any file-system access, for a record whose
// encoding exceeds Options.MaxRecordSize.
var ErrTooLarge = errors.New("session record too large")

// File-name prefixes. '_' is outside the key alphabet, so no name made with
// one prefix can be mistaken for a name made with another.
const (
	sessionPrefix = "s_" // s_<key>: a session file
	tempPrefix    = "t_" // t_<key>_<n>: a file being written
	lockPrefix    = "l_" // l_<nn>: a lock stripe
	lockStripes   = 64
)

// Options configures a Store. The zero Options is production-ready.
type Options struct {
	// FS is the file system (nil = OS).
	FS seam.FS
	// Clock is the store's time (nil = time.Now). Each operation that needs
	// the time reads it exactly once.
	Clock model.Clock
	// Rand is the randomness fresh keys are drawn from (nil = crypto/rand).
	// Tests pass a tiny or repeating source to force key collisions.
	Rand io.Reader
	// NewKey, if set, draws fresh keys instead of model.NewKey(Rand) (a test
	// or a worker draws from a small key pool with it). Keys it returns are
	// validated like any other.
	NewKey func() (string, error)
	// Secret keys the HMAC that protects every session file (may be nil:
	// corruption is then still detected, deliberate tampering is not).
	Secret []byte
	// MaxRecordSize bounds an encoded record in bytes (0 = DefaultMaxRecordSize).
	MaxRecordSize int
	// TempTTL is the age after which ClearExpired removes stray temporary
	// files left by a crash (0 = DefaultTempTTL).
	TempTTL time.Duration
	// Steps replaces parts of the store (nil = ReferenceSteps()). Only
	// impl/variants sets it, to re-create historical bugs.
	Steps *Steps
}

// Store is the reference file session store. It implements model.Store and
// is safe for concurrent use by goroutines and by processes sharing dir.
type Store struct {
	dir     string
	fs      seam.FS
	clock   model.Clock
	newKey  func() (string, error)
	secret  []byte
	max     int
	tempTTL time.Duration
	steps   Steps
	tempSeq atomic.Uint64
}

var _ model.Store = (*Store)(nil)

// Open returns a store over dir, which must be given (Open("") is an
// error, not the working directory), exist, be a directory (not a symbolic
// link to one), be owned by the effective user or root, and be private: no
// permission bit for group or others (checkDir says why each matters). Open
// never creates the directory: a store that silently made a fresh empty one
// would log everybody out after a mount failure. If the directory holds
// sessions whose lock stripes are missing (an older store made them on
// first lock), Open makes them, so that no lock a logout needs will need a
// new inode (makeStripes).
func Open(dir string, opts Options) (*Store, error) {
	if dir == "" {
		return nil, errors.New("session directory: empty path; give the directory explicitly (the store never defaults to the working directory)")
	}
	s := &Store{dir: filepath.Clean(dir), fs: opts.FS, clock: opts.Clock, secret: opts.Secret,
		max: opts.MaxRecordSize, tempTTL: opts.TempTTL}
	if s.fs == nil {
		s.fs = seam.OS
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.newKey = opts.NewKey
	if s.newKey == nil {
		r := opts.Rand
		s.newKey = func() (string, error) { return model.NewKey(r) }
	}
	if s.max <= 0 {
		s.max = DefaultMaxRecordSize
	}
	if s.tempTTL <= 0 {
		s.tempTTL = DefaultTempTTL
	}
	s.steps = ReferenceSteps()
	if opts.Steps != nil {
		s.steps = *opts.Steps
		if err := s.steps.check(); err != nil {
			return nil, err
		}
	}
	if err := s.checkDir(); err != nil {
		return nil, err
	}
	if err := s.makeStripes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir returns the session directory.
func (s *Store) Dir() string { return s.dir }

// FS returns the file system the store works through (for Steps).
func (s *Store) FS() seam.FS { return s.fs }

// Now reads the store's clock (for Steps).
func (s *Store) Now() time.Time { return s.clock() }

// Path returns the name of key's session file (for Steps).
func (s *Store) Path(key string) string { return filepath.Join(s.dir, sessionPrefix+key) }

// LockPath returns the name of the lock stripe that guards key (for Steps).
// 64 stripes bound the number of lock files whatever the number of sessions;
// two keys sharing a stripe only wait for each other, which costs
// throughput, never correctness.
func (s *Store) LockPath(key string) string {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return s.stripePath(h % lockStripes)
}

// Encode returns the session file bytes of rec under key with the store's
// secret, or ErrTooLarge (for Steps; no I/O).
func (s *Store) Encode(key string, rec model.Record) ([]byte, error) {
	data := Encode(key, rec, s.secret)
	if len(data) > s.max {
		return nil, fmt.Errorf("session %s: %w: %d bytes encoded, limit %d", key, ErrTooLarge, len(data), s.max)
	}
	return data, nil
}

// Read opens key's session file without following a symbolic link and
// decodes it, holding no lock. A missing file matches fs.ErrNotExist; a file
// that does not verify is a *model.CorruptError and stays where it is.
// Expiry is not checked. Because session files are only ever replaced whole
// by rename, the bytes read through one open descriptor are one complete
// record, whatever writers do meanwhile.
func (s *Store) Read(key string) (model.Record, error) {
	// O_NONBLOCK: a FIFO planted under a session's name would otherwise
	// block the open forever (and with it ClearExpired, or a writer holding
	// its stripe's lock); this way it reads as empty, which is corrupt.
	f, err := s.fs.OpenFile(s.Path(key), syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errors.Is(err, syscall.ENXIO) {
		return model.Record{}, s.notAFile(key, err) // a socket cannot be opened
	}
	if err != nil {
		return model.Record{}, err
	}
	buf := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(buf)
	data, err := readLimited(f, (*buf)[:0], s.max)
	*buf = data[:0] // keep the grown buffer for the next read
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EISDIR) {
		return model.Record{}, s.notAFile(key, err)
	}
	if err != nil {
		return model.Record{}, fmt.Errorf("session %s: read: %w", key, err)
	}
	if len(data) > s.max {
		return model.Record{}, &model.CorruptError{Key: key, Reason: fmt.Sprintf("file larger than the %d-byte limit", s.max)}
	}
	// DecodeVerified copies what it keeps, so the buffer can be reused.
	return DecodeVerified(key, data, s.secret)
}

// readBuffers holds read buffers between loads: a load then costs one read
// for the file and one for its end, and no garbage.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readLimited appends f's contents to buf until the end of the file or one
// byte past limit (to tell a full file from an oversized one).
func readLimited(f seam.File, buf []byte, limit int) ([]byte, error) {
	for len(buf) <= limit {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(max(cap(buf), 512), limit+1-len(buf)))
		}
		n, err := f.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// readLive is Read plus the expiry check at now: absent and expired are
// both ErrNotFound.
func (s *Store) readLive(key string, now time.Time) (model.Record, error) {
	rec, err := s.Read(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return model.Record{}, fmt.Errorf("session %s: %w", key, model.ErrNotFound)
	case err != nil:
		return model.Record{}, err
	case !rec.LiveAt(now):
		return model.Record{}, fmt.Errorf("session %s: %w (expired %s)", key, model.ErrNotFound, rec.Expiry.Format(time.RFC3339Nano))
	}
	return rec, nil
}

// WriteTemp writes data to a new temporary file for key, syncs it (through
// the Sync step) and returns its name (for Steps). O_EXCL means two writers
// never share a temporary file, O_NOFOLLOW that a planted symbolic link is
// never written through. On error nothing is left behind.
func (s *Store) WriteTemp(key string, data []byte) (name string, err error) {
	const flags = syscall.O_WRONLY | syscall.O_CREAT | syscall.O_EXCL | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	var f seam.File
	for range CreateAttempts {
		// A per-store sequence keeps names deterministic for replay; a
		// name left by another store or a crash is skipped, not reused.
		name = filepath.Join(s.dir, fmt.Sprintf("%s%s_%d", tempPrefix, key, s.tempSeq.Add(1)))
		f, err = s.fs.OpenFile(name, flags, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if errors.Is(err, fs.ErrExist) {
		// Not a key collision (%v, not %w): Create must not draw another key.
		return "", fmt.Errorf("session %s: %d temporary names in a row are taken: %v", key, CreateAttempts, err)
	}
	if err != nil {
		return "", fmt.Errorf("session %s: create temporary file: %w", key, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = s.steps.SyncFile(s, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", errors.Join(fmt.Errorf("session %s: write %s: %w", key, name, err), s.fs.Remove(name))
	}
	return name, nil
}

// Sync makes a file's content durable by running the SyncFile step (for
// Steps).
func (s *Store) Sync(f seam.File) error { return s.steps.SyncFile(s, f) }

// SyncDir makes the directory's entries (renames, unlinks) durable by
// running the SyncDir step (for Steps). Without it a crash may undo a
// rename that an operation already reported.
func (s *Store) SyncDir() error { return s.steps.SyncDir(s) }

// syncDir is the reference SyncDir step: open the directory and run the
// Sync step on it.
func syncDir(s *Store) error {
	d, err := s.fs.OpenFile(s.dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sync session directory: %w", err)
	}
	err = s.steps.Sync(d)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync session directory: %w", err)
	}
	return nil
}

// WithLock runs fn holding key's lock through the Lock step (exclusive
// unless shared) and returns fn's error joined with the unlock's (for Steps).
func (s *Store) WithLock(key string, shared bool, fn func() error) error {
	unlock, err := s.steps.Lock(s, key, shared)
	if err != nil {
		return fmt.Errorf("session %s: lock: %w", key, err)
	}
	err = fn()
	if uerr := unlock(); uerr != nil {
		err = errors.Join(err, fmt.Errorf("session %s: unlock: %w", key, uerr))
	}
	return err
}

// drawKey draws a fresh key and checks it, so a broken key source is an
// error rather than a path.
func (s *Store) drawKey() (string, error) {
	key, err := s.newKey()
	if err != nil {
		return "", err
	}
	if err := model.ValidateKey(key); err != nil {
		return "", fmt.Errorf("key source: %w", err)
	}
	return key, nil
}

// publishNew stores rec under a fresh key, drawing again when the key is
// taken (the Publish step refuses to replace), and returns the key.
func (s *Store) publishNew(rec model.Record) (string, error) {
	for range CreateAttempts {
		key, err := s.drawKey()
		if err != nil {
			return "", err
		}
		data, err := s.Encode(key, rec)
		if err != nil {
			return "", err
		}
		if err := s.ensureStripe(key); err != nil {
			return "", err
		}
		err = s.steps.Publish(s, key, data)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return key, err
	}
	return "", fmt.Errorf("no free session key after %d draws: is the key source random?", CreateAttempts)
}

// Create stores a new record under a fresh key. Its linearization point is
// the Publish step's no-replace rename: the complete file appears at once,
// so no reader ever sees an empty placeholder, and an existing key is never
// overwritten.
func (s *Store) Create(values model.Values, expiry time.Time) (string, error) {
	key, err := s.publishNew(model.Record{Values: values, Expiry: expiry})
	if err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	if err := s.SyncDir(); err != nil {
		return "", fmt.Errorf("create session %s: %w", key, err)
	}
	return key, nil
}

// Load returns the record of a live session. It takes no lock (the Lock
// step's shared side is free in the reference): its linearization point is
// the open, which pins one complete file.
func (s *Store) Load(key string) (model.Record, error) {
	if err := model.ValidateKey(key); err != nil {
		return model.Record{}, err
	}
	return s.steps.Load(s, key)
}

// load is the reference Load step: read under the Lock step's shared side.
func load(s *Store, key string) (model.Record, error) {
	var rec model.Record
	err := s.WithLock(key, true, func() (err error) {
		rec, err = s.readLive(key, s.clock())
		return err
	})
	return rec, err
}

// Exists reports whether the session is stored and live; like Load it
// takes no lock.
func (s *Store) Exists(key string) (bool, error) {
	if err := model.ValidateKey(key); err != nil {
		return false, err
	}
	return s.steps.Exists(s, key)
}

// exists is the reference Exists step: the Load step, its not-found false.
func exists(s *Store, key string) (bool, error) {
	_, err := s.steps.Load(s, key)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Save replaces the record of a live session, or returns ErrNotFound.
func (s *Store) Save(key string, values model.Values, expiry time.Time) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	return s.steps.Save(s, key, values, expiry)
}

// save is the reference Save step: the Update step, replacing the record.
func save(s *Store, key string, values model.Values, expiry time.Time) error {
	return s.steps.Update(s, key, func(model.Record) model.Record {
		return model.Record{Values: values, Expiry: expiry}
	})
}

// Touch sets a new expiry on a live session, keeping its values.
func (s *Store) Touch(key string, expiry time.Time) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	return s.steps.Touch(s, key, expiry)
}

// touch is the reference Touch step: the Update step, keeping the values.
func touch(s *Store, key string, expiry time.Time) error {
	return s.steps.Update(s, key, func(cur model.Record) model.Record {
		return model.Record{Values: cur.Values, Expiry: expiry}
	})
}

// Delete removes the session. It holds the key's lock so that it cannot
// fall between a writer's read and its rename, which would resurrect the
// session (Django #37249); its linearization point is the unlink.
func (s *Store) Delete(key string) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	return s.steps.Delete(s, key)
}

// deleteKey is the reference Delete step: unlink under key's lock.
func deleteKey(s *Store, key string) error {
	return s.WithLock(key, false, func() error {
		err := s.fs.Remove(s.Path(key))
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleting nothing is no error, and nothing to sync
		}
		if errors.Is(err, syscall.EISDIR) {
			// The store never writes a directory, so one under a session's
			// name was planted; what is in it is not the store's to remove.
			return fmt.Errorf("session %s: delete: %s is a directory, not a session file, and the store removes only files; no session can be loaded under this key while it is there: %w", key, s.Path(key), err)
		}
		if err != nil {
			return fmt.Errorf("session %s: delete: %w", key, err)
		}
		return s.SyncDir()
	})
}

// Cycle moves a live session's record to a fresh key. Holding the old key's
// lock from the read to the unlink means no save of the old key can land in
// between and be lost. It has a linearization point per key, as the model's
// per-key view (model.Split) allows: the new key's is the Publish step's
// no-replace rename, the old key's the unlink; between them a reader finds
// the record under both names (docs/DESIGN.md, Cycle).
func (s *Store) Cycle(key string) (string, error) {
	if err := model.ValidateKey(key); err != nil {
		return "", err
	}
	return s.steps.Cycle(s, key)
}

// cycle is the reference Cycle step: read, publish under a fresh key, and
// unlink the old key, all under the old key's lock.
func cycle(s *Store, key string) (string, error) {
	var newKey string
	err := s.WithLock(key, false, func() error {
		rec, err := s.readLive(key, s.clock())
		if err != nil {
			return err
		}
		if newKey, err = s.publishNew(rec); err != nil {
			return fmt.Errorf("cycle session %s: %w", key, err)
		}
		if err := s.fs.Remove(s.Path(key)); err != nil {
			return fmt.Errorf("cycle session %s: remove old key: %w", key, err)
		}
		// One directory sync covers both names: a crash before it keeps the
		// old key, after it the new key alone.
		return s.SyncDir()
	})
	if err != nil {
		return "", err
	}
	return newKey, nil
}

// ClearExpired removes every session expired at the clock's reading and every
// temporary file older than TempTTL, and returns the keys it removed. It
// reads without a lock to find candidates and lets the Expire step decide
// under the key's lock, so a session saved since the read survives. A file it
// cannot read or verify is left in place and its error is returned (joined)
// after the sweep has done everything else.
func (s *Store) ClearExpired() ([]string, error) {
	now := s.clock()
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("clear expired: %w", err)
	}
	// A temporary file's age is a physical fact, measured on the file
	// system's own clock: the directory's modification time, which every
	// create, rename and unlink in it moves. The store's clock is session
	// time (a test may set it a day ahead), and comparing it with file
	// times would delete writes in progress.
	dirInfo, err := s.fs.Lstat(s.dir)
	if err != nil {
		return nil, fmt.Errorf("clear expired: %w", err)
	}
	dirTime := dirInfo.ModTime()
	var removed []string
	var errs []error
	for _, name := range names {
		switch {
		case strings.HasPrefix(name, sessionPrefix):
			key := name[len(sessionPrefix):]
			if model.ValidateKey(key) != nil {
				continue // not a name this store writes
			}
			var rec model.Record
			err := s.WithLock(key, true, func() (err error) { rec, err = s.Read(key); return err })
			if errors.Is(err, fs.ErrNotExist) || err == nil && rec.LiveAt(now) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			gone, err := s.steps.Expire(s, key, now)
			if err != nil {
				errs = append(errs, err)
			}
			if gone {
				removed = append(removed, key)
			}
		case strings.HasPrefix(name, tempPrefix):
			if err := s.removeStaleTemp(name, dirTime); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(removed) > 0 {
		if err := s.SyncDir(); err != nil {
			errs = append(errs, err)
		}
	}
	slices.Sort(removed)
	if len(errs) > 0 {
		return removed, fmt.Errorf("clear expired: %w", errors.Join(errs...))
	}
	return removed, nil
}

// removeStaleTemp removes a temporary file last modified more than TempTTL
// before the directory last changed (dirTime): only a crash leaves one that
// old, since a writer removes its own on every failure.
func (s *Store) removeStaleTemp(name string, dirTime time.Time) error {
	path := filepath.Join(s.dir, name)
	fi, err := s.fs.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // its writer renamed or removed it meanwhile
	}
	if err != nil {
		return err
	}
	if dirTime.Sub(fi.ModTime()) <= s.tempTTL {
		return nil
	}
	if err := s.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
