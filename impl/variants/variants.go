// Package variants holds the reference store's historical and plausible
// bugs, each the reference with one of its [impl.Steps] replaced, and the one
// table of which check must catch which store (docs/BUGS.md shows the same
// table, and a test keeps the two equal).
//
// Only the reference is correct. The variants exist so that every check can
// show that it fails: a check that passes them all proves nothing.
package variants

import (
	"github.com/sessioncheck/sessioncheck/impl"
)

// Expectation is what a check must conclude about a store.
type Expectation string

// Expectations.
const (
	// Pass: the check must find nothing.
	Pass Expectation = "pass"
	// Violation: the check must catch the store; finding nothing is a miss.
	Violation Expectation = "violation"
	// Any: the check may or may not catch the store (its bug is outside
	// what the check looks at, or only sometimes within reach).
	Any Expectation = "any"
)

// Miss says how verdict (a check's "pass", "violation", "unknown" or
// "error") fails the expectation, or "" when it meets it: "false alarm"
// for a violation where none may be, "missed" for a pass where a violation
// is required, "undecided" for an unknown or an error. An Any accepts
// everything but "error": whatever the check concludes, the catalogue
// allowed it. Every check's catalogue test and the
// command's exit status judge by it.
func (e Expectation) Miss(verdict string) string {
	switch {
	case verdict == string(e), e == Any && verdict != "error":
		return ""
	case verdict == "violation":
		return "false alarm"
	case verdict == "pass":
		return "missed"
	}
	return "undecided"
}

// Checks are the stable names of the checks, in the order tables show them.
var Checks = []string{"proptest", "lin-goroutines", "lin-processes", "explore", "faults", "crash"}

// Store is one built-in store: the reference or a variant.
type Store struct {
	// Name is the stable name (reference, truncate-then-load, ...).
	Name string
	// Origin is where the bug comes from (a ticket, a project), "" for the
	// reference.
	Origin string
	// Summary says in one line what the store gets wrong.
	Summary string
	// Step is the field of impl.Steps the variant replaces ("" for the
	// reference; two fields joined by "+" where a bug needs both).
	Step string
	// Expect is what each check must conclude; a check not listed is Any
	// for a variant and Pass for the reference (see Store.Expectation).
	Expect map[string]Expectation
	// Open opens the store over dir. opts.Steps is overwritten.
	Open func(dir string, opts impl.Options) (*impl.Store, error)
}

// Expectation returns what check must conclude about s: the table's entry,
// or, when there is none, "pass" for the reference and "any" for a variant.
func (s Store) Expectation(check string) Expectation {
	if e, ok := s.Expect[check]; ok {
		return e
	}
	if s.Name == "reference" {
		return Pass
	}
	return Any
}

// withSteps returns an Open that runs the reference with change applied to
// its steps.
func withSteps(change func(*impl.Steps)) func(string, impl.Options) (*impl.Store, error) {
	return func(dir string, opts impl.Options) (*impl.Store, error) {
		st := impl.ReferenceSteps()
		change(&st)
		opts.Steps = &st
		return impl.Open(dir, opts)
	}
}

func expect(violations ...string) map[string]Expectation {
	m := map[string]Expectation{"proptest": Pass}
	for _, c := range violations {
		m[c] = Violation
	}
	return m
}

var all = []Store{
	{
		Name:    "reference",
		Summary: "the reference store, which every check must pass",
		Expect: map[string]Expectation{"proptest": Pass, "lin-goroutines": Pass, "lin-processes": Pass,
			"explore": Pass, "faults": Pass, "crash": Pass},
		Open: func(dir string, opts impl.Options) (*impl.Store, error) {
			opts.Steps = nil
			return impl.Open(dir, opts)
		},
	},
	{
		Name:    "truncate-then-load",
		Origin:  "Django #6984",
		Summary: "truncates the session file, then lazily loads the record it is about to rewrite: an untouched save loses the values",
		Step:    "Update",
		Expect: map[string]Expectation{"proptest": Violation, "lin-goroutines": Violation,
			"lin-processes": Violation, "explore": Violation},
		Open: withSteps(func(st *impl.Steps) { st.Update = TruncateThenLoad }),
	},
	{
		Name:    "write-in-place",
		Origin:  "Django #8616",
		Summary: "loads first, but truncates and rewrites the session file in place: readers and crashes see it empty or half-written",
		Step:    "Replace",
		Expect:  expect("lin-processes", "explore", "crash"),
		Open:    withSteps(func(st *impl.Steps) { st.Replace = WriteInPlace }),
	},
	{
		Name:    "check-then-rename",
		Origin:  "Django W1 / #37249",
		Summary: "save checks the session is live, then renames over it without the key's lock: a delete in between is undone",
		Step:    "Update",
		Expect:  expect("explore"),
		Open:    withSteps(func(st *impl.Steps) { st.Update = CheckThenRename }),
	},
	{
		Name:    "unlocked-sweep",
		Origin:  "Django clear_expired (W2)",
		Summary: "clear-expired reads, decides, then unlinks by path with no lock and no re-check: deletes a fresh save",
		Step:    "Expire",
		Expect:  expect("explore"),
		Open:    withSteps(func(st *impl.Steps) { st.Expire = UnlockedSweep }),
	},
	{
		Name:    "create-without-excl",
		Origin:  "Django must_create race",
		Summary: "create checks the key is free, then renames over it: two creates of one key both succeed",
		Step:    "Publish",
		Expect:  expect("explore"),
		Open:    withSteps(func(st *impl.Steps) { st.Publish = CreateWithoutExcl }),
	},
	{
		Name:    "mutex-in-place",
		Origin:  "gorilla/sessions FilesystemStore",
		Summary: "in-place writes guarded by a process-wide mutex: safe among goroutines, unsafe among processes",
		Step:    "Lock+Replace",
		Expect: map[string]Expectation{"proptest": Pass, "lin-goroutines": Pass,
			"lin-processes": Violation, "explore": Violation},
		Open: withSteps(func(st *impl.Steps) { st.Lock, st.Replace = ProcessMutex, WriteInPlace }),
	},
	{
		Name:    "swallow-errors",
		Origin:  "Django W7",
		Summary: "ignores write and rename errors and reports success",
		Step:    "Replace",
		Expect:  expect("faults"),
		Open:    withSteps(func(st *impl.Steps) { st.Replace = SwallowErrors }),
	},
	{
		Name:    "no-fsync",
		Origin:  "crash consistency (Django never fsyncs)",
		Summary: "atomic rename but no fsync of the file or the directory: a crash loses or empties acknowledged saves",
		Step:    "Sync",
		Expect:  expect("crash"),
		Open:    withSteps(func(st *impl.Steps) { st.Sync = NoFsync }),
	},
}

// All returns the built-in stores: the reference first, then the eight
// variants. The slice is a copy; changing it changes nothing here.
func All() []Store {
	out := make([]Store, len(all))
	copy(out, all)
	return out
}

// Lookup returns the built-in store called name.
func Lookup(name string) (Store, bool) {
	for _, s := range all {
		if s.Name == name {
			return s, true
		}
	}
	return Store{}, false
}
