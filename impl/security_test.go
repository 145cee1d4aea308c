package impl_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// Hostile files and directories (docs/SECURITY.md). Each case is a scenario
// that returns what went wrong ("" when the store held), run twice: on the
// reference, where it must hold, and with the one guard it tests switched
// off, where it must not — so each test shows it can fail. A guard is
// switched off from outside the store, by a file system (secFS) that drops
// one flag or follows one link, or by an option or a variant step.

var (
	secSecret = []byte("sessioncheck security test secret")
	secNow    = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	secExpiry = secNow.Add(time.Hour)
)

func secVals(pairs ...string) model.Values {
	m := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = pairs[i+1]
	}
	return model.NewValues(m)
}

// secOpen opens the reference over dir with the test's secret and clock.
func secOpen(t *testing.T, dir string, opts impl.Options) *impl.Store {
	t.Helper()
	s, err := secOpenWith(impl.Open, dir, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return s
}

func secOpenWith(open func(string, impl.Options) (*impl.Store, error), dir string, opts impl.Options) (*impl.Store, error) {
	opts.Secret = secSecret
	opts.Clock = func() time.Time { return secNow }
	return open(dir, opts)
}

// guardCase runs scenario with the guard on and requires it to hold, then
// with the guard off and requires it to fail.
func guardCase(t *testing.T, on func(t *testing.T) string, offName string, off func(t *testing.T) string) {
	t.Helper()
	if p := on(t); p != "" {
		t.Errorf("reference: %s", p)
	}
	if p := off(t); p == "" {
		t.Errorf("with %s the scenario shows nothing wrong: this test cannot fail", offName)
	} else {
		t.Logf("with %s: %s", offName, p)
	}
}

// secFS wraps a file system to switch one guard off or to inject errors.
type secFS struct {
	seam.FS
	strip       int    // flags removed from every OpenFile
	followLstat bool   // Lstat follows a final symbolic link (os.Stat)
	lockFollows bool   // Lock opens its file without O_NOFOLLOW
	rebind      []byte // if set, a session file read is rebound to the key asked for, signed with this secret
	// inject, if set, is asked before each call that can run out of space
	// (op is open, write, sync, close, rename or lock); an error it returns
	// is the call's result (a write first writes half its bytes).
	inject func(op, name string) error

	mu      sync.Mutex
	creates []string // names opened for writing
	read    int64    // bytes read from session files
}

func (f *secFS) ask(op, name string) error {
	if f.inject == nil {
		return nil
	}
	if err := f.inject(op, name); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

func (f *secFS) OpenFile(name string, flag int, perm fs.FileMode) (seam.File, error) {
	flag &^= f.strip
	writes := flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC) != 0
	if writes {
		f.mu.Lock()
		f.creates = append(f.creates, filepath.Base(name))
		f.mu.Unlock()
		if err := f.ask("open", name); err != nil {
			return nil, err
		}
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(name)
	if !writes && f.rebind != nil && strings.HasPrefix(base, "s_") {
		data, err := io.ReadAll(file)
		file.Close()
		if err != nil {
			return nil, err
		}
		return &secMemFile{Reader: bytes.NewReader(rebindKey(data, base[2:], f.rebind))}, nil
	}
	return &secFile{File: file, fs: f, name: name, session: strings.HasPrefix(base, "s_")}, nil
}

func (f *secFS) Rename(o, n string) error {
	if err := f.ask("rename", n); err != nil {
		return err
	}
	return f.FS.Rename(o, n)
}

func (f *secFS) RenameNoReplace(o, n string) error {
	if err := f.ask("rename", n); err != nil {
		return err
	}
	return f.FS.RenameNoReplace(o, n)
}

func (f *secFS) Lstat(name string) (fs.FileInfo, error) {
	if f.followLstat {
		return os.Stat(name)
	}
	return f.FS.Lstat(name)
}

func (f *secFS) Lock(name string, kind seam.LockKind) (func() error, error) {
	if err := f.ask("lock", name); err != nil {
		return nil, err
	}
	if !f.lockFollows || kind != seam.FileLock {
		return f.FS.Lock(name, kind)
	}
	// seam.OS's file lock without O_NOFOLLOW.
	file, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(file.Fd()), unix.LOCK_EX); err != nil {
		file.Close()
		return nil, err
	}
	return file.Close, nil
}

type secFile struct {
	seam.File
	fs      *secFS
	name    string
	session bool
}

func (f *secFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if f.session {
		f.fs.mu.Lock()
		f.fs.read += int64(n)
		f.fs.mu.Unlock()
	}
	return n, err
}

func (f *secFile) Write(p []byte) (int, error) {
	if err := f.fs.ask("write", f.name); err != nil {
		n, _ := f.File.Write(p[:len(p)/2]) // a full disk takes what fits
		return n, err
	}
	return f.File.Write(p)
}

func (f *secFile) Sync() error {
	if err := f.fs.ask("sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *secFile) Close() error {
	err := f.fs.ask("close", f.name)
	if cerr := f.File.Close(); err == nil { // the descriptor goes either way
		err = cerr
	}
	return err
}

type secMemFile struct{ *bytes.Reader }

func (*secMemFile) Write([]byte) (int, error) { return 0, errors.New("read-only") }
func (*secMemFile) Sync() error               { return nil }
func (*secMemFile) Close() error              { return nil }

// secNames lists dir's entries with the given prefix.
func secNames(t *testing.T, dir, prefix string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

func secRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return b
}

// secProblems collects what went wrong in a scenario.
type secProblems []string

func (p *secProblems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }
func (p secProblems) String() string                  { return strings.Join(p, "; ") }

// --- A session file that is a symbolic link ---------------------------------

// symlinkedSessionFile plants s_<key> as a link to a valid session file of
// the same key in another directory (a backup, a staging copy, anything an
// attacker got written elsewhere) and runs every operation on key. The store
// must follow none of them: nothing may be read through the link and its
// target must stay as it was.
func symlinkedSessionFile(t *testing.T, fsys seam.FS) string {
	dir, outside := privateDir(t), privateDir(t)
	key, err := secOpen(t, outside, impl.Options{}).Create(secVals("user", "admin"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	target, link := filepath.Join(outside, "s_"+key), filepath.Join(dir, "s_"+key)
	before := secRead(target)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	s := secOpen(t, dir, impl.Options{FS: fsys})
	var p secProblems
	if rec, err := s.Load(key); err == nil {
		p.add("Load followed the link and returned %v", rec)
	}
	if ok, err := s.Exists(key); ok || err == nil {
		p.add("Exists followed the link: %v, %v", ok, err)
	}
	if err := s.Touch(key, secExpiry.Add(time.Hour)); err == nil {
		p.add("Touch followed the link")
	}
	if err := s.Save(key, secVals("user", "mallory"), secExpiry); err == nil {
		p.add("Save followed the link")
	}
	if k, err := s.Cycle(key); err == nil {
		p.add("Cycle followed the link to new key %s", k)
	}
	if after := secRead(target); !bytes.Equal(before, after) {
		p.add("the link's target changed")
	}
	if fi, err := os.Lstat(link); err == nil && fi.Mode()&fs.ModeSymlink == 0 {
		p.add("the link was replaced by a regular file: the store adopted a session it never wrote")
	}
	return p.String()
}

func TestHostileSessionFileSymlink(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return symlinkedSessionFile(t, seam.OS) },
		"O_NOFOLLOW stripped from every open",
		func(t *testing.T) string {
			return symlinkedSessionFile(t, &secFS{FS: seam.OS, strip: syscall.O_NOFOLLOW})
		})
}

// --- A temporary path that is a symbolic link --------------------------------

// symlinkedTempPath plants the temporary names the next Save of key will try
// (t_<key>_1, t_<key>_2, ...) as links to an existing file outside the
// directory and to a name that does not exist there. Save must create
// through neither: the outside file keeps its bytes, the missing one stays
// missing, the session file stays a regular file holding the new record.
func symlinkedTempPath(t *testing.T, fsys seam.FS) string {
	dir, outside := privateDir(t), privateDir(t)
	key, err := secOpen(t, dir, impl.Options{}).Create(secVals("n", "1"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	victim, absent := filepath.Join(outside, "victim"), filepath.Join(outside, "planted")
	if err := os.WriteFile(victim, []byte("precious bytes that are not a session"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, target := range []string{victim, absent, victim, absent} {
		if err := os.Symlink(target, filepath.Join(dir, fmt.Sprintf("t_%s_%d", key, i+1))); err != nil {
			t.Fatal(err)
		}
	}
	s := secOpen(t, dir, impl.Options{FS: fsys}) // a fresh store: its temporary names start again
	var p secProblems
	saveErr := s.Save(key, secVals("n", "2"), secExpiry)
	if got := string(secRead(victim)); got != "precious bytes that are not a session" {
		p.add("Save wrote through a planted link: the outside file now holds %q", got)
	}
	if _, err := os.Lstat(absent); err == nil {
		p.add("Save created a file outside the directory through a planted link")
	}
	if fi, err := os.Lstat(filepath.Join(dir, "s_"+key)); err != nil || fi.Mode()&fs.ModeSymlink != 0 {
		p.add("the session file is no longer a regular file (%v)", err)
	}
	if saveErr != nil {
		p.add("Save failed: %v (a planted link must cost a name, not the write)", saveErr)
	} else if rec, err := secOpen(t, dir, impl.Options{}).Load(key); err != nil || rec.Values != secVals("n", "2") {
		p.add("after Save the session holds %v, %v", rec, err)
	}
	return p.String()
}

func TestHostileTempPathSymlink(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return symlinkedTempPath(t, seam.OS) },
		"O_EXCL and O_NOFOLLOW stripped",
		func(t *testing.T) string {
			return symlinkedTempPath(t, &secFS{FS: seam.OS, strip: syscall.O_EXCL | syscall.O_NOFOLLOW})
		})
	// Either flag alone keeps the outside file safe; without O_EXCL the
	// planted link costs the write (ELOOP), not just a name.
	for _, c := range []struct {
		name  string
		strip int
	}{{"O_NOFOLLOW", syscall.O_NOFOLLOW}, {"O_EXCL", syscall.O_EXCL}} {
		p := symlinkedTempPath(t, &secFS{FS: seam.OS, strip: c.strip})
		if strings.Contains(p, "outside") {
			t.Errorf("with only %s stripped: %s", c.name, p)
		}
		t.Logf("with only %s stripped: %q", c.name, p)
	}
}

// symlinkedLockFile plants key's lock stripe as a link to a name outside the
// directory. Taking the lock must not create that file.
func symlinkedLockFile(t *testing.T, fsys seam.FS) string {
	dir, outside := privateDir(t), privateDir(t)
	key, err := secOpen(t, dir, impl.Options{}).Create(secVals("n", "1"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	s := secOpen(t, dir, impl.Options{FS: fsys})
	planted := filepath.Join(outside, "cron-job")
	lock := s.LockPath(key)
	os.Remove(lock) // the creating store may have made it
	if err := os.Symlink(planted, lock); err != nil {
		t.Fatal(err)
	}
	var p secProblems
	err = s.Save(key, secVals("n", "2"), secExpiry)
	if _, serr := os.Lstat(planted); serr == nil {
		p.add("taking the lock created %s outside the directory (Save: %v)", planted, err)
	}
	return p.String()
}

func TestHostileLockFileSymlink(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return symlinkedLockFile(t, seam.OS) },
		"a lock opened without O_NOFOLLOW",
		func(t *testing.T) string { return symlinkedLockFile(t, &secFS{FS: seam.OS, lockFollows: true}) })
}

// --- A session directory that is a symbolic link -----------------------------

func symlinkedDirectory(t *testing.T, fsys seam.FS) string {
	real := privateDir(t)
	link := filepath.Join(privateDir(t), "sessions")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	_, err := secOpenWith(impl.Open, link, impl.Options{FS: fsys})
	switch {
	case err == nil:
		return "Open accepted a session directory that is a symbolic link"
	case !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), link):
		return fmt.Sprintf("Open refused with %q, which does not say the path is a symbolic link", err)
	}
	return ""
}

func TestHostileDirectorySymlink(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return symlinkedDirectory(t, seam.OS) },
		"an Lstat that follows links",
		func(t *testing.T) string { return symlinkedDirectory(t, &secFS{FS: seam.OS, followLstat: true}) })
}

// --- A session file copied to another key's name -----------------------------

// copiedSessionFile copies alice's session file over bob's, and to the name
// of a key that was never issued. Both must read as ErrCorrupt naming the
// key read, be left in place, and refuse to be saved over.
func copiedSessionFile(t *testing.T, fsys seam.FS) string {
	dir := privateDir(t)
	s := secOpen(t, dir, impl.Options{FS: fsys})
	alice, err := s.Create(secVals("user", "alice", "role", "admin"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := s.Create(secVals("user", "bob"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	const never = "nevernevernevernevernevernever00"
	stolen := secRead(s.Path(alice))
	var p secProblems
	for _, key := range []string{bob, never} {
		if err := os.WriteFile(s.Path(key), stolen, 0o600); err != nil {
			t.Fatal(err)
		}
		rec, err := s.Load(key)
		var ce *model.CorruptError
		switch {
		case err == nil:
			p.add("Load(%s) returned %v from a file copied from %s", key, rec, alice)
			continue
		case !errors.As(err, &ce) || !errors.Is(err, model.ErrCorrupt) || ce.Key != key:
			p.add("Load(%s) of a copied file: %v, want a *model.CorruptError naming %s", key, err, key)
		}
		if err := s.Save(key, secVals("user", "mallory"), secExpiry); !errors.Is(err, model.ErrCorrupt) {
			p.add("Save(%s) over a copied file: %v, want ErrCorrupt", key, err)
		}
		if !bytes.Equal(secRead(s.Path(key)), stolen) {
			p.add("the copied file under %s was changed or removed; it must stay for inspection", key)
		}
	}
	if rec, err := s.Load(alice); err != nil || rec.Values != secVals("user", "alice", "role", "admin") {
		p.add("alice's own session: %v, %v", rec, err)
	}
	return p.String()
}

func TestHostileCopiedSessionFile(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return copiedSessionFile(t, seam.OS) },
		"the key binding switched off (each file read is re-keyed and re-signed)",
		func(t *testing.T) string { return copiedSessionFile(t, &secFS{FS: seam.OS, rebind: secSecret}) })
}

// --- An oversized record -----------------------------------------------------

const secLimit = 4096

// oversizedRecord runs with MaxRecordSize = max and checks the behaviour
// docs/SECURITY.md promises for a limit of secLimit bytes: a Create or Save
// whose encoding exceeds it fails with ErrTooLarge naming the size and the
// limit and writes nothing, and a planted file over the limit is refused as
// corrupt after reading at most secLimit+1 of its bytes.
func oversizedRecord(t *testing.T, max int) string {
	dir := privateDir(t)
	fsys := &secFS{FS: seam.OS}
	s := secOpen(t, dir, impl.Options{FS: fsys, MaxRecordSize: max})
	var p secProblems
	big := secVals("blob", strings.Repeat("x", 2*secLimit))
	tooLarge := func(op string, err error) {
		switch {
		case err == nil:
			p.add("%s of a %d-byte value succeeded", op, 2*secLimit)
		case !errors.Is(err, impl.ErrTooLarge) || !strings.Contains(err.Error(), strconv.Itoa(secLimit)):
			p.add("%s: %q, want ErrTooLarge naming the %d-byte limit", op, err, secLimit)
		}
	}
	fsys.creates = nil
	_, err := s.Create(big, secExpiry)
	tooLarge("Create", err)
	if fsys.creates != nil || secNames(t, dir, "s_") != nil || secNames(t, dir, "t_") != nil {
		p.add("Create of an oversized record wrote %v", fsys.creates)
	}
	key, err := s.Create(secVals("small", "1"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	fsys.creates = nil
	tooLarge("Save", s.Save(key, big, secExpiry))
	if w := slices.DeleteFunc(slices.Clone(fsys.creates), func(n string) bool { return strings.HasPrefix(n, "l_") }); len(w) > 0 || secNames(t, dir, "t_") != nil {
		p.add("Save of an oversized record wrote %v", w)
	}
	if rec, err := s.Load(key); err != nil || rec.Values != secVals("small", "1") {
		p.add("after the refused Save the session holds %d pairs (%d bytes encoded), %v", rec.Values.Len(), len(impl.Encode(key, rec, secSecret)), err)
	}
	// A planted file of 16 times the limit.
	const planted = "plantedplantedplantedplanted0000"
	if err := os.WriteFile(s.Path(planted), bytes.Repeat([]byte("A"), 16*secLimit), 0o600); err != nil {
		t.Fatal(err)
	}
	fsys.read = 0
	if _, err := s.Load(planted); !errors.Is(err, model.ErrCorrupt) {
		p.add("Load of an oversized file: %v, want ErrCorrupt", err)
	}
	if fsys.read > secLimit+1 {
		p.add("Load read %d bytes of an oversized file, want at most %d", fsys.read, secLimit+1)
	}
	return p.String()
}

func TestHostileOversizedRecord(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return oversizedRecord(t, secLimit) },
		"MaxRecordSize at 1 GiB (the limit off)",
		func(t *testing.T) string { return oversizedRecord(t, 1<<30) })
}

// --- A full disk -------------------------------------------------------------

// fullDisk fails, one at a time, every call of a Save and of a Create that
// can run out of space — creating a name (a temporary or lock file),
// writing, syncing (delayed allocation), closing (network file systems),
// renaming (a growing directory) — with ENOSPC. Each operation must return an error
// matching ENOSPC; a failed Save must leave the record it replaced intact
// (or, when only the directory sync after the rename failed, the new
// record, complete); a failed Create must leave no session behind; no
// temporary file may remain; and once space returns the next Save works.
func fullDisk(t *testing.T, open func(string, impl.Options) (*impl.Store, error)) string {
	dir := privateDir(t)
	var (
		count  int
		fail   = -1 // the count at which to fail; -1 never
		trace  []string
		failed string
	)
	fsys := &secFS{FS: seam.OS}
	fsys.inject = func(op, name string) error {
		count++
		trace = append(trace, op+" "+filepath.Base(name))
		if count == fail {
			failed = op + " " + filepath.Base(name)
			return syscall.ENOSPC
		}
		return nil
	}
	s, err := secOpenWith(open, dir, impl.Options{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	key, err := s.Create(secVals("gen", "0"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	var p secProblems
	// Count the calls of one Save and one Create, and where the rename is.
	count, trace = 0, nil
	if err := s.Save(key, secVals("gen", "1"), secExpiry); err != nil {
		t.Fatal(err)
	}
	saveTrace := trace
	count, trace = 0, nil
	extra, err := s.Create(secVals("extra", "1"), secExpiry)
	if err != nil {
		t.Fatal(err)
	}
	createTrace := trace
	if err := s.Delete(extra); err != nil {
		t.Fatal(err)
	}
	renameAt := slices.IndexFunc(saveTrace, func(c string) bool { return strings.HasPrefix(c, "rename") }) + 1
	if renameAt == 0 {
		renameAt = len(saveTrace) + 1 // a store that never renames: every call is before "the rename"
	}
	t.Logf("ENOSPC points of a Save: %v; of a Create: %v", saveTrace, createTrace)
	cur := secVals("gen", "1")
	for n := 1; n <= len(saveTrace); n++ {
		next := secVals("gen", fmt.Sprint(n+1))
		count, fail, failed = 0, n, ""
		err := s.Save(key, next, secExpiry)
		fail = -1
		if failed == "" {
			p.add("Save %d: the injection point was not reached (the trace changed)", n)
			continue
		}
		if err == nil {
			p.add("Save with ENOSPC at %s reported success", failed)
		} else if !errors.Is(err, syscall.ENOSPC) {
			p.add("Save with ENOSPC at %s: %q does not match ENOSPC", failed, err)
		}
		rec, lerr := s.Load(key)
		switch {
		case lerr != nil:
			p.add("after ENOSPC at %s of a Save the session is lost: %v", failed, lerr)
		case rec.Values == cur:
		case n > renameAt && rec.Values == next:
			cur = next // the rename happened; only its sync failed
		default:
			p.add("after ENOSPC at %s of a Save the session holds %v, want %v", failed, rec.Values, cur)
		}
		if tmp := secNames(t, dir, "t_"); tmp != nil {
			p.add("ENOSPC at %s left %v", failed, tmp)
			for _, n := range tmp {
				os.Remove(filepath.Join(dir, n))
			}
		}
		// Space is back: the next Save works.
		if err := s.Save(key, secVals("gen", "ok"), secExpiry); err != nil {
			p.add("after ENOSPC at %s, Save with space back: %v", failed, err)
		}
		cur = secVals("gen", "ok")
	}
	sessions := secNames(t, dir, "s_")
	for n := 1; n <= len(createTrace); n++ {
		count, fail, failed, trace = 0, n, "", nil
		k, err := s.Create(secVals("new", "1"), secExpiry)
		fail = -1
		// A Create whose key's lock stripe exists makes fewer calls than
		// the first one, so where the rename is is read from its own trace.
		renamed := slices.ContainsFunc(trace[:max(len(trace)-1, 0)], func(c string) bool { return strings.HasPrefix(c, "rename") })
		if failed == "" {
			continue // a Create ends earlier when it fails
		}
		if err == nil {
			p.add("Create with ENOSPC at %s reported success (key %s)", failed, k)
			continue
		}
		if !errors.Is(err, syscall.ENOSPC) {
			p.add("Create with ENOSPC at %s: %q does not match ENOSPC", failed, err)
		}
		after := secNames(t, dir, "s_")
		// Only a failure after the rename (the directory sync) may leave
		// the new session, complete, under a key nobody was given.
		if !renamed && !slices.Equal(after, sessions) {
			p.add("a failed Create (ENOSPC at %s) left sessions %v, had %v", failed, after, sessions)
		}
		if tmp := secNames(t, dir, "t_"); tmp != nil {
			p.add("ENOSPC at %s of a Create left %v", failed, tmp)
		}
		sessions = after
	}
	return p.String()
}

func TestHostileFullDisk(t *testing.T) {
	for _, name := range []string{"swallow-errors", "write-in-place"} {
		v, ok := variants.Lookup(name)
		if !ok {
			t.Fatalf("variant %s is missing", name)
		}
		t.Run(name, func(t *testing.T) {
			guardCase(t,
				func(t *testing.T) string { return fullDisk(t, impl.Open) },
				"variant "+name,
				func(t *testing.T) string { return fullDisk(t, v.Open) })
		})
	}
}
