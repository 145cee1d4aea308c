// Package check is what every check of sessioncheck takes and gives: an
// environment a store is opened in, an opener, a target (an opener or a
// worker command) and the core of a result. A backend author writes one
// Opener and every check that applies can run it.
package check

import (
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
	"github.com/sessioncheck/sessioncheck/verdict"
)

// Env is everything a check decides for the store it opens. A store must
// do all its file I/O through FS, read the time only from Clock and draw
// fresh keys only from NewKey: the fault and crash checks replay a
// workload and require that the same Env and the same operations make the
// same file-system calls in the same order (a store that does not is
// reported as not deterministic, not as a pass).
type Env struct {
	// Dir is the session directory; it exists when the opener is called.
	Dir string
	// FS is the file system to do every file operation through.
	FS seam.FS
	// Clock is the store's time.
	Clock model.Clock
	// NewKey draws a fresh key (nil: the store draws its own).
	NewKey func() (string, error)
	// Secret keys any integrity check the store makes (may be nil).
	Secret []byte
}

// Opener opens a store in env. Any model.Store will do; a store that does
// its I/O through env.FS can also be fault- and crash-tested.
type Opener func(env Env) (model.Store, error)

// Target is what is checked: an in-process store (Open) or a worker
// command speaking the worker protocol (Worker). Exactly one is set.
type Target struct {
	// Name names the target in reports.
	Name string
	// Open opens an in-process store.
	Open Opener
	// Worker is the argv of a worker process.
	Worker []string
}

// Result is the core every check's result shares.
type Result struct {
	// Check names the check that ran.
	Check string
	// Verdict is the judged verdict (verdict.Judge over Work).
	Verdict verdict.Verdict
	// Seed replays the run.
	Seed int64
	// Work is what the check did, counted.
	Work verdict.Work
	// Detail explains the verdict.
	Detail string
	// Files are counterexample files by name, for a report to write.
	Files map[string]string
}
