package variants_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

var (
	t0     = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	later  = t0.Add(time.Hour)
	secret = []byte("variants test")
)

func vals(kv ...string) model.Values {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return model.NewValues(m)
}

func openStore(t *testing.T, name, dir string, opts impl.Options) *impl.Store {
	t.Helper()
	st, ok := variants.Lookup(name)
	require.True(t, ok, name)
	if opts.Clock == nil {
		opts.Clock = func() time.Time { return t0 }
	}
	opts.Secret = secret
	s, err := st.Open(dir, opts)
	require.NoError(t, err)
	return s
}

var names = []string{"reference", "truncate-then-load", "write-in-place", "check-then-rename", "unlocked-sweep",
	"create-without-excl", "mutex-in-place", "swallow-errors", "no-fsync"}

func TestTable(t *testing.T) {
	all := variants.All()
	var got []string
	stepFields := map[string]bool{}
	for f := range reflect.TypeFor[impl.Steps]().Fields() {
		stepFields[f.Name] = true
	}
	for _, s := range all {
		got = append(got, s.Name)
		l, ok := variants.Lookup(s.Name)
		require.True(t, ok)
		require.Equal(t, s.Name, l.Name)
		require.True(t, s.Open != nil && s.Summary != "", s.Name)
		for c := range s.Expect {
			require.True(t, slices.Contains(variants.Checks, c), "%s: unknown check %q", s.Name, c)
		}
		if s.Name == "reference" {
			for _, c := range variants.Checks {
				require.Equal(t, variants.Pass, s.Expectation(c), c)
			}
			continue
		}
		require.NotEmpty(t, s.Origin, s.Name)
		for _, f := range strings.Split(s.Step, "+") {
			require.True(t, stepFields[f], "%s replaces %q, which is not a field of impl.Steps", s.Name, f)
		}
		// A variant that no check must catch would prove nothing.
		caught := false
		for _, c := range variants.Checks {
			caught = caught || s.Expectation(c) == variants.Violation
		}
		require.True(t, caught, "%s: no check must catch it", s.Name)
		require.Equal(t, variants.Expectation("any"), s.Expectation("no-such-check"))
	}
	require.Equal(t, names, got)
	_, ok := variants.Lookup("nonsense")
	require.False(t, ok)
	// All returns a copy.
	all[0].Name = "changed"
	require.Equal(t, "reference", variants.All()[0].Name)
}

// TestBugsMarkdownMatchesTable parses the catalogue table of docs/BUGS.md and
// requires it to say exactly what the code's table says, so the two cannot
// drift apart.
func TestBugsMarkdownMatchesTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "BUGS.md"))
	require.NoError(t, err)
	header, rows := parseTable(t, string(doc), "variant")
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, want := range append([]string{"variant", "origin", "step"}, variants.Checks...) {
		_, ok := col[want]
		require.True(t, ok, "BUGS.md table has no column %q (header %v)", want, header)
	}
	var seen []string
	for _, r := range rows {
		name := strings.Trim(r[col["variant"]], "`")
		s, ok := variants.Lookup(name)
		require.True(t, ok, "BUGS.md lists unknown store %q", name)
		seen = append(seen, name)
		require.Equal(t, s.Origin, r[col["origin"]], "%s: origin", name)
		require.Equal(t, s.Step, strings.Trim(r[col["step"]], "`"), "%s: step", name)
		for _, c := range variants.Checks {
			cell := r[col[c]]
			require.Equal(t, string(s.Expectation(c)), strings.Trim(cell, "*"), "%s / %s in BUGS.md", name, c)
		}
	}
	require.Equal(t, names, seen, "BUGS.md must list every store, in order")
}

// parseTable returns the header and rows of the first markdown table whose
// first header cell is first.
func parseTable(t *testing.T, doc, first string) ([]string, [][]string) {
	cells := func(line string) []string {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(strings.TrimSuffix(line, "|"), "|")
		var out []string
		for _, c := range strings.Split(line, "|") {
			out = append(out, strings.TrimSpace(c))
		}
		return out
	}
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "|") {
			continue
		}
		header := cells(l)
		if header[0] != first {
			continue
		}
		var rows [][]string
		for _, r := range lines[i+2:] {
			if !strings.HasPrefix(strings.TrimSpace(r), "|") {
				break
			}
			row := cells(r)
			require.Len(t, row, len(header), "row %q", r)
			rows = append(rows, row)
		}
		return header, rows
	}
	t.Fatalf("no table starting with %q", first)
	return nil, nil
}

// script runs a fixed sequence of operations on a store and checks every
// result against the model; it returns the first disagreement.
func script(t *testing.T, name string) error {
	now := t0
	s := openStore(t, name, privateDir(t), impl.Options{Clock: func() time.Time { return now }})
	var st model.State
	var k1, k2, k3 string
	do := func(op model.Op) error {
		op.Now = now
		got, err := model.Do(s, op)
		next, cerr := st.Check(op, got)
		if cerr != nil {
			return fmt.Errorf("%v: %w (store error: %v)", op, cerr, err)
		}
		st = next
		switch {
		case op.Kind == model.OpCreate && k1 == "":
			k1 = got.Key
		case op.Kind == model.OpCreate:
			k3 = got.Key
		case op.Kind == model.OpCycle:
			k2 = got.Key
		}
		return nil
	}
	steps := []func() model.Op{
		func() model.Op { return model.Op{Kind: model.OpCreate, Values: vals("user", "42"), Expiry: later} },
		func() model.Op { return model.Op{Kind: model.OpLoad, Key: k1} },
		func() model.Op { return model.Op{Kind: model.OpTouch, Key: k1, Expiry: later.Add(time.Minute)} },
		func() model.Op { return model.Op{Kind: model.OpLoad, Key: k1} },
		func() model.Op {
			return model.Op{Kind: model.OpSave, Key: k1, Values: vals("user", "7"), Expiry: later}
		},
		func() model.Op { return model.Op{Kind: model.OpLoad, Key: k1} },
		func() model.Op { return model.Op{Kind: model.OpExists, Key: k1} },
		func() model.Op { return model.Op{Kind: model.OpCycle, Key: k1} },
		func() model.Op { return model.Op{Kind: model.OpLoad, Key: k1} },
		func() model.Op { return model.Op{Kind: model.OpLoad, Key: k2} },
		func() model.Op {
			return model.Op{Kind: model.OpCreate, Values: vals("short", "1"), Expiry: t0.Add(time.Second)}
		},
		func() model.Op { now = t0.Add(2 * time.Second); return model.Op{Kind: model.OpClearExpired} },
		func() model.Op { return model.Op{Kind: model.OpSave, Key: k3, Values: vals(), Expiry: later} },
		func() model.Op { return model.Op{Kind: model.OpDelete, Key: k2} },
		func() model.Op { return model.Op{Kind: model.OpExists, Key: k2} },
		func() model.Op { return model.Op{Kind: model.OpDelete, Key: k2} },
	}
	for _, step := range steps {
		if err := do(step()); err != nil {
			return err
		}
	}
	return nil
}

// TestSequentialScript shows the point of the other checks: every variant
// whose bug needs concurrency, faults or a crash behaves exactly like the
// model when operations run one at a time; truncate-then-load does not.
func TestSequentialScript(t *testing.T) {
	for _, s := range variants.All() {
		t.Run(s.Name, func(t *testing.T) {
			err := script(t, s.Name)
			if s.Expectation("proptest") == variants.Violation {
				require.Error(t, err, "a sequential script should catch %s", s.Name)
				t.Logf("caught: %v", err)
				return
			}
			require.NoError(t, err)
		})
	}
}

func opened(calls []hookfs.Call, path string, flag int) bool {
	return slices.ContainsFunc(calls, func(c hookfs.Call) bool { return c.Op == "open" && c.Path == path && c.Flag&flag == flag })
}

func ops(calls []hookfs.Call, op string) []hookfs.Call {
	var out []hookfs.Call
	for _, c := range calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// trace runs op on a fresh store called name, over a session created
// beforehand, and returns the file-system calls op made.
func trace(t *testing.T, name string, op func(s *impl.Store, key string) error) []hookfs.Call {
	h := hookfs.Record(seam.OS)
	s := openStore(t, name, privateDir(t), impl.Options{FS: h})
	key, err := s.Create(vals("user", "42"), later)
	require.NoError(t, err)
	h.Reset(nil)
	require.NoError(t, op(s, key))
	return h.Log()
}

func touch(s *impl.Store, k string) error { return s.Touch(k, later.Add(time.Minute)) }
func save(s *impl.Store, k string) error  { return s.Save(k, vals("user", "7"), later) }

func TestTruncateThenLoad(t *testing.T) {
	for _, name := range []string{"reference", "truncate-then-load"} {
		calls := trace(t, name, touch)
		var sess string
		for _, c := range calls {
			if strings.HasPrefix(filepath.Base(c.Path), "s_") {
				sess = c.Path
				break
			}
		}
		truncated := opened(calls, sess, syscall.O_TRUNC)
		require.Equal(t, name != "reference", truncated, "%s: %v", name, calls)
		if truncated {
			// The trace property: the operation reads the file it truncated.
			i := slices.IndexFunc(calls, func(c hookfs.Call) bool { return c.Flag&syscall.O_TRUNC != 0 })
			require.True(t, slices.ContainsFunc(calls[i:], func(c hookfs.Call) bool { return c.Op == "read" && c.Path == sess }))
		}
	}
	// And the consequence: an untouched save loses the values.
	dir := privateDir(t)
	s := openStore(t, "truncate-then-load", dir, impl.Options{})
	key, err := s.Create(vals("user", "42"), later)
	require.NoError(t, err)
	require.NoError(t, s.Touch(key, later.Add(time.Minute)))
	rec, err := s.Load(key)
	require.NoError(t, err)
	require.Equal(t, 0, rec.Values.Len(), "values survived: %v", rec)
}

// TestWriteInPlace: the variant truncates the live file and never renames,
// so a reader in the window sees an empty file; the reference's reader at
// the same moment (just before the rename) sees the old record.
func TestWriteInPlace(t *testing.T) {
	for _, name := range []string{"reference", "write-in-place"} {
		dir := privateDir(t)
		h := hookfs.Record(seam.OS)
		s := openStore(t, name, dir, impl.Options{FS: h})
		key, err := s.Create(vals("user", "42"), later)
		require.NoError(t, err)
		reader := openStore(t, name, dir, impl.Options{})
		var seen error
		var seenRec model.Record
		h.Reset(func(_ int, c hookfs.Call) error {
			// Right after the truncation (variant) or right before the rename
			// (reference): the moment the new content is not yet written.
			if (c.Op == "write" && filepath.Base(c.Path) == "s_"+key) || c.Op == "rename" {
				seenRec, seen = reader.Load(key)
			}
			return nil
		})
		require.NoError(t, s.Save(key, vals("user", "7"), later))
		calls := h.Log()
		if name == "reference" {
			require.NoError(t, seen)
			require.Equal(t, vals("user", "42"), seenRec.Values)
			require.Len(t, ops(calls, "rename"), 1)
			continue
		}
		require.Empty(t, ops(calls, "rename"))
		require.ErrorIs(t, seen, model.ErrCorrupt, "the reader should see the truncated file")
		require.ErrorContains(t, seen, "empty file")
	}
}

// TestCheckThenRename: the variant's Save holds no lock between its check and
// its rename, so a Delete that runs there returns, and then the rename brings
// the session back. The reference's Delete waits for the lock and wins.
func TestCheckThenRename(t *testing.T) {
	for _, name := range []string{"reference", "check-then-rename"} {
		calls := trace(t, name, save)
		require.Equal(t, name == "reference", len(ops(calls, "lock")) == 1, "%s: %v", name, calls)

		dir := privateDir(t)
		h := hookfs.Record(seam.OS)
		s := openStore(t, name, dir, impl.Options{FS: h})
		key, err := s.Create(vals("user", "42"), later)
		require.NoError(t, err)
		other := openStore(t, name, dir, impl.Options{})
		deleted := make(chan error, 1)
		h.Reset(func(_ int, c hookfs.Call) error {
			if c.Op == "rename" {
				// Another process logs the user out. Against the variant it
				// finishes before the rename; against the reference it blocks
				// on the lock until Save is done.
				go func() { deleted <- other.Delete(key) }()
				if name == "check-then-rename" {
					require.NoError(t, <-deleted)
				}
			}
			return nil
		})
		require.NoError(t, s.Save(key, vals("user", "7"), later))
		if name == "reference" {
			require.NoError(t, <-deleted)
		}
		ok, err := other.Exists(key)
		require.NoError(t, err)
		require.Equal(t, name == "check-then-rename", ok, "%s: a session deleted after the save began exists afterwards: resurrected", name)
	}
}

// TestUnlockedSweep: a save refreshes an expired-looking session between the
// sweep's read and its unlink. The variant deletes the fresh save; the
// reference re-reads under the lock and keeps it.
func TestUnlockedSweep(t *testing.T) {
	for _, name := range []string{"reference", "unlocked-sweep"} {
		dir := privateDir(t)
		h := hookfs.Record(seam.OS)
		// The sweeper's clock is past the expiry; the saving request's clock
		// is just before it (the save began while the session was live).
		sweeper := openStore(t, name, dir, impl.Options{FS: h, Clock: func() time.Time { return t0.Add(time.Minute) }})
		saver := openStore(t, name, dir, impl.Options{})
		key, err := saver.Create(vals("user", "42"), t0.Add(time.Second))
		require.NoError(t, err)
		once := false
		h.Reset(func(_ int, c hookfs.Call) error {
			if c.Op == "close" && filepath.Base(c.Path) == "s_"+key && !once {
				once = true
				require.NoError(t, saver.Save(key, vals("user", "42", "fresh", "1"), later))
			}
			return nil
		})
		removed, err := sweeper.ClearExpired()
		require.NoError(t, err)
		rec, lerr := saver.Load(key)
		if name == "reference" {
			require.Empty(t, removed)
			require.NoError(t, lerr)
			require.Equal(t, vals("user", "42", "fresh", "1"), rec.Values)
			continue
		}
		require.Equal(t, []string{key}, removed)
		require.ErrorIs(t, lerr, model.ErrNotFound, "the fresh save should be gone")
	}
}

// keyThenOthers returns a key source that draws key first, then fresh keys.
func keyThenOthers(key string) func() (string, error) {
	first := true
	return func() (string, error) {
		if first {
			first = false
			return key, nil
		}
		return model.NewKey(nil)
	}
}

// TestCreateWithoutExcl: two creators draw the same key; the second runs
// between the first's check and its rename. The variant lets both succeed
// with one key; the reference's first creator finds the key taken and draws
// another.
func TestCreateWithoutExcl(t *testing.T) {
	const key = "collision0000000"
	for _, name := range []string{"reference", "create-without-excl"} {
		dir := privateDir(t)
		h := hookfs.Record(seam.OS)
		a := openStore(t, name, dir, impl.Options{FS: h, NewKey: keyThenOthers(key)})
		b := openStore(t, name, dir, impl.Options{NewKey: keyThenOthers(key)})
		var kb string
		h.Reset(func(_ int, c hookfs.Call) error {
			if (c.Op == "rename" || c.Op == "renameat2") && kb == "" {
				var err error
				kb, err = b.Create(vals("owner", "b"), later)
				require.NoError(t, err)
			}
			return nil
		})
		ka, err := a.Create(vals("owner", "a"), later)
		require.NoError(t, err)
		require.Equal(t, key, kb)
		recB, err := b.Load(key)
		require.NoError(t, err)
		if name == "reference" {
			require.NotEqual(t, key, ka)
			require.Equal(t, vals("owner", "b"), recB.Values)
			continue
		}
		require.Equal(t, key, ka, "both creates returned the same key")
		require.Equal(t, vals("owner", "a"), recB.Values, "b's session was overwritten")
	}
}

// TestMutexInPlace: the variant takes process locks (readers shared) and
// rewrites in place. A reader in the same process waits and sees the new
// record; a reader in another process (its own lock table) sees the file
// truncated.
func TestMutexInPlace(t *testing.T) {
	calls := trace(t, "mutex-in-place", func(s *impl.Store, k string) error {
		if _, err := s.Load(k); err != nil {
			return err
		}
		return save(s, k)
	})
	require.Equal(t, []seam.LockKind{seam.ProcessSharedLock, seam.ProcessLock},
		[]seam.LockKind{ops(calls, "lock")[0].Kind, ops(calls, "lock")[1].Kind})
	require.Empty(t, ops(calls, "rename"))

	for _, sameProcess := range []bool{true, false} {
		// Two processes are two views of one simulated disk, each with its
		// own table of process locks.
		disk := memfs.New(nil)
		const dir = "/sessions"
		require.NoError(t, disk.MkdirAll(dir, 0o700))
		h := hookfs.Record(disk)
		s := openStore(t, "mutex-in-place", dir, impl.Options{FS: h})
		key, err := s.Create(vals("user", "42"), later)
		require.NoError(t, err)
		var readerFS seam.FS = h
		if !sameProcess {
			readerFS = disk.NewProcess()
		}
		reader := openStore(t, "mutex-in-place", dir, impl.Options{FS: readerFS})
		type loaded struct {
			rec model.Record
			err error
		}
		got := make(chan loaded, 1)
		started := false
		h.Reset(func(_ int, c hookfs.Call) error {
			if c.Op == "write" && filepath.Base(c.Path) == "s_"+key && !started {
				started = true // the file is truncated, the new record not yet written
				if sameProcess {
					// This reader waits on the mutex Save holds.
					go func() { r, err := reader.Load(key); got <- loaded{r, err} }()
				} else {
					// This one shares no memory with Save, so nothing stops it.
					r, err := reader.Load(key)
					got <- loaded{r, err}
				}
			}
			return nil
		})
		require.NoError(t, s.Save(key, vals("user", "7"), later))
		l := <-got
		if sameProcess {
			require.NoError(t, l.err)
			require.Equal(t, vals("user", "7"), l.rec.Values)
			continue
		}
		require.ErrorIs(t, l.err, model.ErrCorrupt, "another process should see the truncated file")
	}
}

// TestSwallowErrors: an injected rename error is reported by the reference
// and hidden by the variant, which leaves the old record while saying the
// save succeeded.
func TestSwallowErrors(t *testing.T) {
	for _, name := range []string{"reference", "swallow-errors"} {
		dir := privateDir(t)
		h := hookfs.Record(seam.OS)
		s := openStore(t, name, dir, impl.Options{FS: h})
		key, err := s.Create(vals("user", "42"), later)
		require.NoError(t, err)
		h.Reset(func(_ int, c hookfs.Call) error {
			if c.Op == "rename" {
				return syscall.ENOSPC
			}
			return nil
		})
		err = s.Save(key, vals("user", "7"), later)
		h.Reset(nil)
		rec, lerr := s.Load(key)
		require.NoError(t, lerr)
		require.Equal(t, vals("user", "42"), rec.Values, "the failed save changed the record")
		if name == "reference" {
			require.ErrorIs(t, err, syscall.ENOSPC)
			continue
		}
		require.NoError(t, err, "swallow-errors should report the failed save as a success")
	}
}

// TestNoFsync: the variant makes no Sync call in any operation; the
// reference syncs in every writing operation.
func TestNoFsync(t *testing.T) {
	for _, name := range []string{"reference", "no-fsync"} {
		all := func(s *impl.Store, k string) error {
			var errs []error
			errs = append(errs, s.Save(k, vals("a", "1"), later), s.Touch(k, later))
			nk, err := s.Cycle(k)
			errs = append(errs, err, s.Delete(nk))
			_, err = s.ClearExpired()
			return joinAll(append(errs, err))
		}
		calls := trace(t, name, all)
		syncs := ops(calls, "fsync")
		if name == "reference" {
			require.True(t, len(syncs) >= 7, "reference syncs: %v", syncs)
			continue
		}
		require.Empty(t, syncs)
		require.NotEmpty(t, ops(calls, "rename"), "no-fsync still renames")
	}
}

func joinAll(errs []error) error {
	var b bytes.Buffer
	for _, e := range errs {
		if e != nil {
			fmt.Fprintln(&b, e)
		}
	}
	if b.Len() > 0 {
		return fmt.Errorf("%s", b.String())
	}
	return nil
}

// privateDir is a fresh directory of mode 0700, as impl.Open requires
// (t.TempDir makes its directories 0777 less the umask).
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
