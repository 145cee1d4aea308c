package impl_test

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

var (
	t0     = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	later  = t0.Add(time.Hour)
	secret = []byte("test secret")
)

func fixedClock(t time.Time) model.Clock { return func() time.Time { return t } }

// seededRand is a deterministic key source, so a run replays.
func seededRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

func vals(kv ...string) model.Values {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return model.NewValues(m)
}

// open opens a store over dir with a fixed clock at t0 and a seeded key source.
func open(t *testing.T, dir string, opts impl.Options) *impl.Store {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = fixedClock(t0)
	}
	if opts.Rand == nil {
		opts.Rand = seededRand(1)
	}
	if opts.Secret == nil {
		opts.Secret = secret
	}
	s, err := impl.Open(dir, opts)
	require.NoError(t, err)
	return s
}

// snapshot reads every session file in dir (expired or not) with a clean
// store, and lists the temporary files.
func snapshot(t *testing.T, dir string) (map[string]model.Record, []string) {
	t.Helper()
	s := open(t, dir, impl.Options{})
	names, err := seam.OS.ReadDir(dir)
	require.NoError(t, err)
	recs := map[string]model.Record{}
	var temps []string
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "s_") && model.ValidateKey(n[2:]) == nil:
			rec, err := s.Read(n[2:])
			require.NoError(t, err, n)
			recs[n[2:]] = rec
		case strings.HasPrefix(n, "t_"):
			temps = append(temps, n)
		}
	}
	return recs, temps
}

func TestOperations(t *testing.T) {
	dir := privateDir(t)
	s := open(t, dir, impl.Options{})
	v1, v2 := vals("user", "42"), vals("user", "42", "cart", "3")

	key, err := s.Create(v1, later)
	require.NoError(t, err)
	require.NoError(t, model.ValidateKey(key))
	require.Len(t, key, model.KeyLength)

	rec, err := s.Load(key)
	require.NoError(t, err)
	require.True(t, rec.Equal(model.Record{Values: v1, Expiry: later}), "%v", rec)
	ok, err := s.Exists(key)
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, s.Save(key, v2, later.Add(time.Minute)))
	rec, err = s.Load(key)
	require.NoError(t, err)
	require.True(t, rec.Equal(model.Record{Values: v2, Expiry: later.Add(time.Minute)}), "%v", rec)

	// Touch: new expiry, values untouched.
	require.NoError(t, s.Touch(key, later.Add(2*time.Minute)))
	rec, err = s.Load(key)
	require.NoError(t, err)
	require.True(t, rec.Equal(model.Record{Values: v2, Expiry: later.Add(2 * time.Minute)}), "%v", rec)

	// Cycle: the record moves, the old key is gone.
	nk, err := s.Cycle(key)
	require.NoError(t, err)
	require.NotEqual(t, key, nk)
	_, err = s.Load(key)
	require.ErrorIs(t, err, model.ErrNotFound)
	rec, err = s.Load(nk)
	require.NoError(t, err)
	require.Equal(t, v2, rec.Values)

	// Delete, twice: absent is no error.
	require.NoError(t, s.Delete(nk))
	require.NoError(t, s.Delete(nk))
	ok, err = s.Exists(nk)
	require.NoError(t, err)
	require.False(t, ok)

	// Nothing resurrects a missing session.
	require.ErrorIs(t, s.Save(nk, v1, later), model.ErrNotFound)
	require.ErrorIs(t, s.Touch(nk, later), model.ErrNotFound)
	_, err = s.Cycle(nk)
	require.ErrorIs(t, err, model.ErrNotFound)
	recs, temps := snapshot(t, dir)
	require.Empty(t, recs)
	require.Empty(t, temps)

	// Files are 0600.
	key, err = s.Create(v1, later)
	require.NoError(t, err)
	fi, err := os.Lstat(filepath.Join(dir, "s_"+key))
	require.NoError(t, err)
	require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	require.Equal(t, dir, s.Dir())
}

func TestExpiry(t *testing.T) {
	dir := privateDir(t)
	now := t0
	s := open(t, dir, impl.Options{Clock: func() time.Time { return now }})
	short, err := s.Create(vals("a", "1"), t0.Add(time.Minute))
	require.NoError(t, err)
	long, err := s.Create(vals("b", "2"), t0.Add(time.Hour))
	require.NoError(t, err)

	now = t0.Add(time.Minute) // exactly at expiry: expired (live strictly before)
	_, err = s.Load(short)
	require.ErrorIs(t, err, model.ErrNotFound)
	ok, err := s.Exists(short)
	require.NoError(t, err)
	require.False(t, ok)
	require.ErrorIs(t, s.Save(short, vals(), t0.Add(time.Hour)), model.ErrNotFound, "save must not resurrect an expired session")
	require.ErrorIs(t, s.Touch(short, t0.Add(time.Hour)), model.ErrNotFound)
	_, err = s.Cycle(short)
	require.ErrorIs(t, err, model.ErrNotFound)

	// The expired file is still stored until ClearExpired removes it and
	// only it.
	recs, _ := snapshot(t, dir)
	require.Len(t, recs, 2)
	removed, err := s.ClearExpired()
	require.NoError(t, err)
	require.Equal(t, []string{short}, removed)
	recs, _ = snapshot(t, dir)
	require.Len(t, recs, 1)
	require.Contains(t, recs, long)
	removed, err = s.ClearExpired()
	require.NoError(t, err)
	require.Empty(t, removed)
}

func TestClearExpiredSorted(t *testing.T) {
	dir := privateDir(t)
	now := t0
	s := open(t, dir, impl.Options{Clock: func() time.Time { return now }})
	var keys []string
	for range 5 {
		k, err := s.Create(vals(), t0.Add(time.Second))
		require.NoError(t, err)
		keys = append(keys, k)
	}
	now = later
	removed, err := s.ClearExpired()
	require.NoError(t, err)
	require.ElementsMatch(t, keys, removed)
	require.IsNonDecreasing(t, removed)
}

// badKeys are rejected before any file-system call.
var badKeys = []string{"../x", "a/b", `a\b`, "", "abcdefg", strings.Repeat("a", 65), "ABCDEFGH", "abcd\x00efgh",
	"../../etc/passwd", "s_abcdefgh", "abcdefgh/", "abcdefgh.", "abcdéfgh"}

func TestInvalidKeysTouchNothing(t *testing.T) {
	h := hookfs.Record(seam.OS)
	s := open(t, privateDir(t), impl.Options{FS: h})
	h.Reset(func(_ int, c hookfs.Call) error {
		t.Errorf("file-system call %v for an invalid key", c)
		return errInjected
	})
	for _, key := range badKeys {
		_, err := s.Load(key)
		require.ErrorIs(t, err, model.ErrInvalidKey, "load %q", key)
		_, err = s.Exists(key)
		require.ErrorIs(t, err, model.ErrInvalidKey, "exists %q", key)
		require.ErrorIs(t, s.Save(key, vals("a", "b"), later), model.ErrInvalidKey, "save %q", key)
		require.ErrorIs(t, s.Touch(key, later), model.ErrInvalidKey, "touch %q", key)
		require.ErrorIs(t, s.Delete(key), model.ErrInvalidKey, "delete %q", key)
		_, err = s.Cycle(key)
		require.ErrorIs(t, err, model.ErrInvalidKey, "cycle %q", key)
	}
	require.Empty(t, h.Log())
}

func TestKeySourceCollisions(t *testing.T) {
	dir := privateDir(t)
	const fixed = "collidingkey0000"
	draws := []string{fixed, fixed, fixed, "otherkey00000000"}
	n := 0
	s := open(t, dir, impl.Options{NewKey: func() (string, error) { k := draws[n%len(draws)]; n++; return k, nil }})
	k1, err := s.Create(vals("first", "1"), later)
	require.NoError(t, err)
	require.Equal(t, fixed, k1)
	// The second create draws the taken key twice and must not overwrite it.
	k2, err := s.Create(vals("second", "2"), later)
	require.NoError(t, err)
	require.Equal(t, "otherkey00000000", k2)
	rec, err := s.Load(fixed)
	require.NoError(t, err)
	require.Equal(t, vals("first", "1"), rec.Values)

	// A source that only ever repeats is a clear error, not a loop or an
	// overwrite.
	s = open(t, dir, impl.Options{NewKey: func() (string, error) { return fixed, nil }})
	_, err = s.Create(vals("third", "3"), later)
	require.ErrorContains(t, err, "no free session key")
	// So is a source that returns something that is not a key.
	s = open(t, dir, impl.Options{NewKey: func() (string, error) { return "../etc", nil }})
	_, err = s.Create(vals(), later)
	require.ErrorIs(t, err, model.ErrInvalidKey)
	recs, temps := snapshot(t, dir)
	require.Len(t, recs, 2)
	require.Empty(t, temps)
	require.Equal(t, vals("first", "1"), recs[fixed].Values)

	// A repeating Rand (the other way to force collisions) gives the same.
	dir2 := privateDir(t)
	s = open(t, dir2, impl.Options{Rand: zeroReader{}})
	_, err = s.Create(vals(), later)
	require.NoError(t, err)
	_, err = s.Create(vals(), later)
	require.ErrorContains(t, err, "no free session key")
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestTooLarge(t *testing.T) {
	dir := privateDir(t)
	h := hookfs.Record(seam.OS)
	s := open(t, dir, impl.Options{FS: h, MaxRecordSize: 200})
	key, err := s.Create(vals("a", "b"), later)
	require.NoError(t, err)
	big := vals("big", strings.Repeat("x", 300))
	h.Reset(nil)
	_, err = s.Create(big, later)
	require.ErrorIs(t, err, impl.ErrTooLarge)
	require.Empty(t, h.Log(), "create of an oversized record touched storage")
	require.ErrorIs(t, s.Save(key, big, later), impl.ErrTooLarge)
	h.Reset(nil)
	rec, err := s.Load(key)
	require.NoError(t, err)
	require.Equal(t, vals("a", "b"), rec.Values)

	// A file larger than the limit is corrupt, and is not read whole.
	other := open(t, dir, impl.Options{})
	bigKey, err := other.Create(big, later)
	require.NoError(t, err)
	_, err = s.Load(bigKey)
	var ce *model.CorruptError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, bigKey, ce.Key)
	require.Contains(t, ce.Reason, "limit")
}

func TestOpenRejects(t *testing.T) {
	base := privateDir(t)
	_, err := impl.Open(filepath.Join(base, "missing"), impl.Options{})
	require.ErrorIs(t, err, fs.ErrNotExist)
	_, err = os.Stat(filepath.Join(base, "missing"))
	require.ErrorIs(t, err, fs.ErrNotExist, "Open must not create the directory")

	file := filepath.Join(base, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = impl.Open(file, impl.Options{})
	require.ErrorContains(t, err, "not a directory")

	real := filepath.Join(base, "real")
	require.NoError(t, os.Mkdir(real, 0o700))
	link := filepath.Join(base, "link")
	require.NoError(t, os.Symlink(real, link))
	_, err = impl.Open(link, impl.Options{})
	require.ErrorContains(t, err, "symbolic link")

	_, err = impl.Open(real, impl.Options{})
	require.NoError(t, err)
}

func TestSymlinkedSessionFileRefused(t *testing.T) {
	dir := privateDir(t)
	s := open(t, dir, impl.Options{})
	key, err := s.Create(vals("a", "1"), later)
	require.NoError(t, err)
	victim := "victimkey0000000"
	require.NoError(t, os.Symlink(filepath.Join(dir, "s_"+key), filepath.Join(dir, "s_"+victim)))
	_, err = s.Load(victim)
	require.Error(t, err)
	require.ErrorIs(t, err, syscall.ELOOP)
	require.Error(t, s.Save(victim, vals(), later))
}

func TestTempFiles(t *testing.T) {
	dir := privateDir(t)
	now := t0
	s := open(t, dir, impl.Options{Clock: func() time.Time { return now }, TempTTL: time.Hour})
	key := "tempkey000000000"
	// A temp file holding a valid record is never a session.
	data := impl.Encode(key, model.Record{Values: vals("a", "1"), Expiry: t0.Add(24 * time.Hour)}, secret)
	stale := filepath.Join(dir, "t_"+key+"_1")
	fresh := filepath.Join(dir, "t_"+key+"_2")
	require.NoError(t, os.WriteFile(stale, data, 0o600))
	require.NoError(t, os.WriteFile(fresh, data, 0o600))
	// Ages are on the file system's clock (the directory's mtime), never
	// the store's: a store clock a year ahead must not make a fresh file
	// stale (that deleted writes in progress).
	wall := time.Now()
	now = wall.AddDate(1, 0, 0)
	require.NoError(t, os.Chtimes(stale, wall.Add(-2*time.Hour), wall.Add(-2*time.Hour)))
	require.NoError(t, os.Chtimes(fresh, wall.Add(-time.Minute), wall.Add(-time.Minute)))
	require.NoError(t, os.Chtimes(dir, wall, wall))
	// Lock files and foreign names are ignored too.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s_BAD"), nil, 0o600))

	_, err := s.Load(key)
	require.ErrorIs(t, err, model.ErrNotFound)
	removed, err := s.ClearExpired()
	require.NoError(t, err)
	require.Empty(t, removed, "a temporary file was reported as a session")
	_, err = os.Lstat(stale)
	require.ErrorIs(t, err, fs.ErrNotExist, "stale temporary file kept")
	_, err = os.Lstat(fresh)
	require.NoError(t, err, "a temporary file younger than TempTTL was removed")
	_, err = os.Lstat(filepath.Join(dir, "README"))
	require.NoError(t, err)

	// Sessions in use leave no temporary files behind.
	now = t0
	require.NoError(t, os.Remove(fresh))
	k, err := s.Create(vals("a", "1"), later)
	require.NoError(t, err)
	require.NoError(t, s.Save(k, vals("b", "2"), later))
	require.NoError(t, s.Touch(k, later))
	_, err = s.Cycle(k)
	require.NoError(t, err)
	_, temps := snapshot(t, dir)
	require.Empty(t, temps)
}

// TestConcurrentReadersNeverSeeAPartialFile runs writers and readers of one
// key, each with its own store (as separate processes would have), under
// the race detector.
func TestConcurrentReadersNeverSeeAPartialFile(t *testing.T) {
	dir := privateDir(t)
	key, err := open(t, dir, impl.Options{}).Create(vals("n", "0"), later)
	require.NoError(t, err)
	concurrently(t, dir, 4, func(s *impl.Store, w int) error {
		for i := range 50 {
			var err error
			if w%2 == 0 {
				err = s.Save(key, vals("n", strings.Repeat("x", i*50)), later)
			} else {
				_, err = s.Load(key)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// concurrently runs client(s, w) for w in [0, n), each client with its own
// store over dir (as separate processes would have), and fails t with every
// error a client returned.
func concurrently(t *testing.T, dir string, n int, client func(s *impl.Store, w int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := impl.Open(dir, impl.Options{Clock: fixedClock(t0), Secret: secret})
			if err == nil {
				err = client(s, w)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestCorruptFilesAreReportedAndKept(t *testing.T) {
	dir := privateDir(t)
	s := open(t, dir, impl.Options{})
	key, err := s.Create(vals("user", "42", "role", "admin"), later)
	require.NoError(t, err)
	path := filepath.Join(dir, "s_"+key)
	good, err := os.ReadFile(path)
	require.NoError(t, err)

	other := "otherkey11111111"
	moved := impl.Encode(other, model.Record{Values: vals("user", "1"), Expiry: later}, secret)
	forged := impl.Encode(key, model.Record{Values: vals("user", "1", "role", "admin"), Expiry: later}, []byte("guessed secret"))
	cases := map[string][]byte{
		"empty":    {},
		"moved":    moved,
		"tampered": forged,
		"garbage":  []byte("this is not a session file at all, not even close to one"),
	}
	for _, n := range []int{1, 7, 8, len(good) / 2, len(good) - 1} {
		cases[fmt.Sprintf("truncated to %d bytes", n)] = good[:n]
	}
	for i := range good {
		b := append([]byte(nil), good...)
		b[i] ^= 0x20
		cases[fmt.Sprintf("flipped byte %d", i)] = b
	}
	cases["extended"] = append(append([]byte(nil), good...), 0)

	for name, data := range cases {
		require.NoError(t, os.WriteFile(path, data, 0o600))
		check := func(op string, err error) {
			t.Helper()
			var ce *model.CorruptError
			require.ErrorAs(t, err, &ce, "%s: %s", name, op)
			require.ErrorIs(t, err, model.ErrCorrupt)
			require.Equal(t, key, ce.Key, name)
			require.NotEmpty(t, ce.Reason)
			require.Equal(t, model.Corrupt, model.OutcomeOf(err))
		}
		_, err := s.Load(key)
		check("load", err)
		_, err = s.Exists(key)
		check("exists", err)
		check("save", s.Save(key, vals(), later))
		check("touch", s.Touch(key, later))
		_, err = s.Cycle(key)
		check("cycle", err)
		_, err = s.ClearExpired()
		check("clear-expired", err)
		after, err := os.ReadFile(path)
		require.NoError(t, err, "%s: the corrupt file was removed", name)
		require.Equal(t, data, after, "%s: the corrupt file was changed", name)
	}
	// The moved file names the key it belongs to.
	require.NoError(t, os.WriteFile(path, moved, 0o600))
	_, err = s.Load(key)
	require.ErrorContains(t, err, other)
	// Delete still removes a corrupt file: the user can log out.
	require.NoError(t, s.Delete(key))
	_, err = os.Lstat(path)
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestRecordSurvivesFailedClose(t *testing.T) {
	// An error while closing after a read is returned, not ignored.
	h := hookfs.Record(seam.OS)
	s := open(t, privateDir(t), impl.Options{FS: h})
	key, err := s.Create(vals("a", "1"), later)
	require.NoError(t, err)
	h.Reset(func(_ int, c hookfs.Call) error {
		if c.Op == "close" {
			return errInjected
		}
		return nil
	})
	_, err = s.Load(key)
	require.ErrorIs(t, err, errInjected)
	require.False(t, errors.Is(err, model.ErrNotFound))
}

// TestCreateShowsNoPlaceholder reads the key a Create is about to publish at
// every call the Create makes: until the rename it is absent, never empty.
func TestCreateShowsNoPlaceholder(t *testing.T) {
	dir := privateDir(t)
	h := hookfs.Record(seam.OS)
	const key = "placeholder00000"
	s := open(t, dir, impl.Options{FS: h, NewKey: func() (string, error) { return key, nil }})
	reader := open(t, dir, impl.Options{})
	published := false
	h.Reset(func(_ int, c hookfs.Call) error {
		_, err := reader.Load(key)
		if published {
			require.NoError(t, err, "at %v", c)
		} else {
			require.ErrorIs(t, err, model.ErrNotFound, "at %v", c)
		}
		published = published || c.Op == "renameat2"
		return nil
	})
	_, err := s.Create(vals("a", "1"), later)
	require.NoError(t, err)
	require.True(t, published)
}

// TestConcurrentSaveDelete races Saves, Touches, Deletes, Cycles and Loads
// of one key, each client with its own store, under the race detector. No
// reader may see a corrupt file, no operation may fail other than with
// ErrNotFound, and no temporary file may be left.
func TestConcurrentSaveDelete(t *testing.T) {
	dir := privateDir(t)
	key, err := open(t, dir, impl.Options{}).Create(vals("n", "0"), later)
	require.NoError(t, err)
	concurrently(t, dir, 6, func(s *impl.Store, w int) error {
		for i := range 40 {
			var err error
			switch (w + i) % 5 {
			case 0:
				err = s.Save(key, vals("n", fmt.Sprint(w, i)), later)
			case 1:
				err = s.Touch(key, later)
			case 2:
				_, err = s.Load(key)
			case 3:
				if i%10 == 3 {
					err = s.Delete(key)
				}
			case 4:
				var k string
				if k, err = s.Create(vals(), later); err == nil {
					_, err = s.Cycle(k)
				}
			}
			if err != nil && !errors.Is(err, model.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	_, temps := snapshot(t, dir)
	require.Empty(t, temps)
}

func TestOpenRejectsIncompleteSteps(t *testing.T) {
	st := impl.ReferenceSteps()
	st.Expire = nil
	_, err := impl.Open(privateDir(t), impl.Options{Steps: &st})
	require.ErrorContains(t, err, "Expire is nil")
}

func TestTakenTempNamesAreNotKeyCollisions(t *testing.T) {
	dir := privateDir(t)
	const key = "tempnamestaken00"
	for n := 1; n <= impl.CreateAttempts; n++ {
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("t_%s_%d", key, n)), nil, 0o600))
	}
	draws := 0
	s := open(t, dir, impl.Options{NewKey: func() (string, error) { draws++; return key, nil }})
	_, err := s.Create(vals(), later)
	require.ErrorContains(t, err, "temporary names in a row are taken")
	require.Equal(t, 1, draws, "a taken temporary name was treated as a key collision")
}

// privateDir is a fresh directory of mode 0700, as Open requires
// (t.TempDir makes its directories 0777 less the umask).
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
