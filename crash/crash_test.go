package crash_test

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/sessioncheck/sessioncheck/crash"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/seam"
	"github.com/sessioncheck/sessioncheck/verdict"
)

// TestCatalogue runs the check on every store in the catalogue and holds it
// to the catalogue's expectation for "crash": the reference must pass, the
// variants the table names must be caught.
func TestCatalogue(t *testing.T) {
	for _, st := range variants.All() {
		want := st.Expectation("crash")
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			// The reference gets more seeds than the variants: a false alarm
			// is the costlier mistake, and each run costs a second or two
			// under the race detector.
			seeds := []int64{1}
			if want == "pass" {
				seeds = []int64{1, 2, 3}
			}
			for _, seed := range seeds {
				res := crash.Check(workload.ImplOpener(st.Open), crash.Config{Seed: seed})
				t.Logf("seed %d: %s, %d points, %d states, %d violations, %.2fs",
					seed, res.Verdict, res.Points, res.States, res.Violations, res.Seconds)
				switch {
				case res.Verdict == "error":
					t.Fatalf("seed %d: the check could not run: %s", seed, res.Detail)
				case want.Miss(res.Verdict) != "":
					t.Fatalf("seed %d: %s (%s, expected %s):\n%s", seed, want.Miss(res.Verdict), res.Verdict, want, res.Detail)
				case res.Verdict == "violation" && res.Detail == "":
					t.Fatalf("seed %d: a violation without a report", seed)
				}
				if res.Verdict == "violation" && seed == 1 {
					t.Logf("report:\n%s", res.Detail)
				}
			}
		})
	}
}

// TestReportNamesEverything holds a violation report to what a reader needs
// to act on it: the seed, the crash point, the operation in flight, what the
// model required and what was found.
func TestReportNamesEverything(t *testing.T) {
	st, ok := variants.Lookup("no-fsync")
	if !ok {
		t.Fatal("no-fsync is not in the catalogue")
	}
	res := crash.Check(workload.ImplOpener(st.Open), crash.Config{Seed: 4, Operations: 10})
	if res.Verdict != "violation" {
		t.Fatalf("no-fsync: %s, want a violation", res.Verdict)
	}
	for _, want := range []string{"seed 4", "crash after call #", "in flight:", "the model requires", "found", "replay"} {
		if !strings.Contains(res.Detail, want) {
			t.Errorf("report lacks %q:\n%s", want, res.Detail)
		}
	}
}

// lazyUnlink is a file system on which unlinks are never made durable: the
// directory fsync that follows a Remove does nothing. A store over it
// acknowledges a Delete (and the removal of a cycled-out key) that a crash
// undoes: the session comes back.
type lazyUnlink struct {
	seam.FS
	pending bool // a Remove happened since the last directory fsync
}

func (l *lazyUnlink) Remove(name string) error {
	err := l.FS.Remove(name)
	if err == nil {
		l.pending = true
	}
	return err
}

func (l *lazyUnlink) OpenFile(name string, flag int, perm fs.FileMode) (seam.File, error) {
	f, err := l.FS.OpenFile(name, flag, perm)
	if err == nil && flag&syscall.O_DIRECTORY != 0 && l.pending {
		l.pending = false
		return noSync{f}, nil
	}
	return f, err
}

type noSync struct{ seam.File }

func (noSync) Sync() error { return nil }

// TestResurrectionIsCaught: a deleted session that a crash brings back is
// under a key the model no longer holds and no operation in flight
// touches; only the file named after it on the crash image says it must
// be loaded. The check must find it.
func TestResurrectionIsCaught(t *testing.T) {
	open := func(dir string, opts impl.Options) (*impl.Store, error) {
		opts.FS = &lazyUnlink{FS: opts.FS}
		return impl.Open(dir, opts)
	}
	res := crash.Check(workload.ImplOpener(open), crash.Config{Seed: 1})
	if res.Verdict != "violation" {
		t.Fatalf("unlinks never made durable: %s, want a violation", res.Verdict)
	}
	if !strings.Contains(res.Detail, "the model requires absent") {
		t.Errorf("the report does not show a session that came back:\n%s", res.Detail)
	}
	t.Logf("%d of %d states broke the contract; first:\n%s", res.Violations, res.States, res.Detail)
}

// TestWorkIsCounted: a pass says how many crash states it checked and how
// many operations it ran, in the verdict package's terms, and the verdict is
// the one verdict.Judge gives that work.
func TestWorkIsCounted(t *testing.T) {
	res := crash.Check(workload.ImplOpener(impl.Open), crash.Config{Seed: 3, Operations: 25})
	w := res.Work
	if res.Verdict != "pass" {
		t.Fatalf("reference: %s:\n%s", res.Verdict, res.Detail)
	}
	if w.Unit != "crash states" || w.Units != res.States || w.Planned != res.States || w.Operations != 25 || w.Failed != 0 {
		t.Errorf("work %+v does not match the result (%d states, 25 operations)", w, res.States)
	}
	if res.States != 4*res.Points || res.Distinct == 0 || res.Distinct > res.States || res.Reopened < res.Distinct {
		t.Errorf("%d points, %d states, %d distinct, %d reopened: inconsistent", res.Points, res.States, res.Distinct, res.Reopened)
	}
	if v, _ := verdict.Judge(verdict.Pass, w); string(v) != res.Verdict {
		t.Errorf("verdict %s, but Judge gives %s for its work", res.Verdict, v)
	}
}

// TestNoStoreIsAnError: a store that cannot even be opened did no work,
// and that is an error, never a pass.
func TestNoStoreIsAnError(t *testing.T) {
	open := func(string, impl.Options) (*impl.Store, error) { return nil, errors.New("no such backend") }
	res := crash.Check(workload.ImplOpener(open), crash.Config{Seed: 1})
	if res.Verdict != "error" || !strings.Contains(res.Detail, "no such backend") {
		t.Errorf("unopenable store: %s (%q), want an error naming why", res.Verdict, res.Detail)
	}
	if res.Work.Units != 0 || res.Work.Operations != 0 {
		t.Errorf("unopenable store: work %+v, want none", res.Work)
	}
}
