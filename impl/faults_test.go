package impl_test

import (
	"fmt"
	"maps"
	"reflect"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// errInjected is the error a test injects: EIO, like a failing disk.
var errInjected = syscall.EIO

// faultCase is one operation run with an error injected at one of its
// file-system calls.
type faultCase struct {
	name  string
	setup func(t *testing.T, s *impl.Store) string // returns the key run works on
	run   func(s *impl.Store, key string) error
	// points are the calls that make the operation visible: before the
	// first of them fails, the store must be exactly as it was.
	points []string
}

func created(t *testing.T, s *impl.Store) string {
	key, err := s.Create(vals("user", "42"), later)
	require.NoError(t, err)
	return key
}

var faultCases = []faultCase{
	{"save", created, func(s *impl.Store, k string) error { return s.Save(k, vals("user", "7", "x", "y"), later) }, []string{"rename"}},
	{"touch", created, func(s *impl.Store, k string) error { return s.Touch(k, later.Add(1)) }, []string{"rename"}},
	{"delete", created, func(s *impl.Store, k string) error { return s.Delete(k) }, []string{"unlink"}},
	{"create", func(*testing.T, *impl.Store) string { return "" }, func(s *impl.Store, _ string) error {
		_, err := s.Create(vals("new", "1"), later)
		return err
	}, []string{"renameat2"}},
	{"cycle", created, func(s *impl.Store, k string) error { _, err := s.Cycle(k); return err }, []string{"renameat2", "unlink"}},
}

// TestInjectedErrors fails each file-system call of each writing operation
// in turn — opens, reads, writes, syncs, closes, renames, removes, locks and
// unlocks — and requires that the error is returned, that the store holds
// the previous records if the failure came before the operation's
// linearization point and the previous or the new ones (never a mix, never a
// loss) after it, that no temporary file is left, and that the store keeps
// working.
func TestInjectedErrors(t *testing.T) {
	for _, fc := range faultCases {
		t.Run(fc.name, func(t *testing.T) {
			run := func(failAt int) (err error, before, after map[string]model.Record, calls []hookfs.Call) {
				dir := privateDir(t)
				h := hookfs.Record(seam.OS)
				s := open(t, dir, impl.Options{FS: h, Rand: seededRand(7)})
				created(t, s) // a bystander that must never change
				key := fc.setup(t, s)
				before, _ = snapshot(t, dir)
				h.Reset(func(n int, _ hookfs.Call) error {
					if n == failAt {
						return errInjected
					}
					return nil
				})
				err = fc.run(s, key)
				calls = h.Log()
				h.Reset(nil)
				after, temps := snapshot(t, dir)
				require.Empty(t, temps, "temporary files left after failing call %d", failAt)
				return err, before, after, calls
			}
			err, before, want, calls := run(0)
			require.NoError(t, err)
			require.NotEqual(t, before, want, "the operation changed nothing")
			first := len(calls) + 1
			for i, c := range calls {
				if c.Op == fc.points[0] {
					first = i + 1
					break
				}
			}
			require.True(t, first <= len(calls), "no %s in %v", fc.points[0], calls)
			t.Logf("%d calls: %v", len(calls), calls)
			for n := 1; n <= len(calls); n++ {
				err, before, got, _ := run(n)
				what := fmt.Sprintf("error injected at call %d (%v)", n, calls[n-1])
				require.ErrorIs(t, err, errInjected, what)
				require.Equal(t, model.Failed, model.OutcomeOf(err), what)
				switch {
				case n < first:
					require.Equal(t, before, got, "%s: the previous records changed before the linearization point", what)
				case reflect.DeepEqual(got, before), reflect.DeepEqual(got, want):
				case fc.name == "cycle" && reflect.DeepEqual(got, union(before, want)):
					// Publish done, unlink of the old key failed: the record
					// is under both keys, never under neither.
				default:
					t.Fatalf("%s: records %v, want the previous %v or the new %v", what, got, before, want)
				}
				// The store still works: a fresh session can be made and saved.
				s := open(t, privateDir(t), impl.Options{})
				k := created(t, s)
				require.NoError(t, s.Save(k, vals("after", "fault"), later), what)
			}
		})
	}
}

func union(a, b map[string]model.Record) map[string]model.Record {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}
