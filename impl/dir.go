package impl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sessioncheck/sessioncheck/model"
)

// checkDir refuses a session directory the store's guarantees do not hold
// in. Every permission bit for group or others is refused, not only the
// write bits: whoever can write the directory can plant, replace or remove
// any session; whoever can read it lists every s_<key> name, and a key is
// the whole of a session's credential; whoever can search it can stat
// guessed names and hold the lock stripes' files open. There is no use for
// any of them (the store's user is the only one who needs the directory),
// so one rule (mode & 077 == 0) is simpler to state and to
// check than a finer one.
func (s *Store) checkDir() error {
	fi, err := s.fs.Lstat(s.dir)
	switch {
	case err != nil:
		return fmt.Errorf("session directory: %w", err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("session directory %s is a symbolic link; give the real path", s.dir)
	case !fi.IsDir():
		return fmt.Errorf("session directory %s is not a directory", s.dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("session directory %s has mode %04o: %s; %s: make it private with chmod go-rwx %s",
			s.dir, uint32(perm), openTo(perm), exposure(perm), shellQuote(s.dir))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uint32(os.Geteuid()) && st.Uid != 0 {
		return fmt.Errorf("session directory %s is owned by uid %d, not by this user (uid %d) or root", s.dir, st.Uid, os.Geteuid())
	}
	return nil
}

// openTo says which classes have which access, as "readable and searchable
// by group, writable by others".
func openTo(perm fs.FileMode) string {
	var parts []string
	for _, c := range []struct {
		who   string
		shift uint
	}{{"group", 3}, {"others", 0}} {
		var can []string
		for _, b := range []struct {
			bit  fs.FileMode
			word string
		}{{4, "readable"}, {2, "writable"}, {1, "searchable"}} {
			if perm>>c.shift&b.bit != 0 {
				can = append(can, b.word)
			}
		}
		if len(can) > 0 {
			parts = append(parts, strings.Join(can, " and ")+" by "+c.who)
		}
	}
	return strings.Join(parts, ", ")
}

// exposure says what the access in perm gives away.
func exposure(perm fs.FileMode) string {
	switch {
	case perm&0o022 != 0:
		return "whoever can write it can plant, replace or remove any session"
	case perm&0o044 != 0:
		return "whoever can list it learns every session key and can take over every session"
	}
	return "whoever can search it can stat any name in it, and the store needs no access for anyone else"
}

// shellQuote quotes path for a shell command line when it needs it.
func shellQuote(path string) string {
	if path != "" && strings.Trim(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// stripePath is the name of lock stripe i.
func (s *Store) stripePath(i uint32) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%02d", lockPrefix, i))
}

// makeStripes makes sure that no lock a logout needs will need a new
// inode: when a full disk or an exhausted inode table makes every Create
// fail, Delete and ClearExpired must still lock, unlink and free space — a
// user can always log out. Create and Cycle make the stripe of each key
// they publish before the session exists (ensureStripe), so only a
// directory written by an older store (which made stripes on first lock)
// can hold sessions without their stripes: Open lists the directory and, if
// it holds any session, makes every missing stripe. An empty directory
// costs one listing and no file. A name that exists as something else (a
// planted link) is left as it is, and the locks of its keys fail later,
// naming it. Stripes are not synced: one lost in a crash is made again by
// the next Open, Create or lock that needs it.
func (s *Store) makeStripes() error {
	names, err := s.fs.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("session directory: %w", err)
	}
	have := map[string]bool{}
	sessions := false
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, lockPrefix):
			have[n] = true
		case strings.HasPrefix(n, sessionPrefix):
			sessions = true
		}
	}
	if !sessions {
		return nil
	}
	for i := range uint32(lockStripes) {
		name := s.stripePath(i)
		if have[filepath.Base(name)] {
			continue
		}
		if err := s.makeStripe(name); err != nil {
			return err
		}
	}
	return nil
}

// ensureStripe makes key's lock stripe if it is missing, before a session
// under key exists (see makeStripes). It costs one Lstat when the stripe is
// there.
func (s *Store) ensureStripe(key string) error {
	name := s.LockPath(key)
	_, err := s.fs.Lstat(name)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("session %s: lock stripe: %w", key, err)
	}
	return s.makeStripe(name)
}

// makeStripe creates the lock stripe called name, 0600. No O_EXCL: another
// store may make it first, which is as good.
func (s *Store) makeStripe(name string) error {
	f, err := s.fs.OpenFile(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return fmt.Errorf("make lock stripe (each exists before a session needs it, so that logout works on a full disk): %w", err)
	}
	return nil
}

// notAFile turns the error of opening or reading key's session name into
// ErrCorrupt when the name is not a regular file (a directory, a socket, a
// named pipe, a device), naming what it is; otherwise it returns err. It
// costs an Lstat on these error paths only.
func (s *Store) notAFile(key string, err error) error {
	fi, lerr := s.fs.Lstat(s.Path(key))
	if lerr != nil || fi.Mode().IsRegular() {
		return err
	}
	return &model.CorruptError{Key: key, Reason: fmt.Sprintf("%s is %s, not a session file", s.Path(key), kindOf(fi.Mode()))}
}

// kindOf names a file type.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
