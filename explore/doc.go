// Package explore runs small concurrent scenarios against a session store
// under a controlled scheduler and checks every interleaving it runs.
//
// Random concurrent runs find the narrow races of a file store only by luck:
// a check-then-rename window is a few microseconds wide. Here the scheduler
// stands behind the store's file-system seam (seam.FS). Every concurrent
// client is its own store instance with its own view of one shared file
// system, as a separate process would be; exactly one client runs at a time,
// and every file-system call (open, read, write, sync, close, rename, remove,
// readdir, lstat, lock, unlock) is a scheduling point at which the client
// waits until the scheduler picks it. Locks go through the seam too, so the
// scheduler knows which client waits for which lock, never picks a client
// whose lock is held, and reports a deadlock when nobody can move.
//
// Two ways to choose the interleavings:
//
//   - Exhaustive ([Check], [TestStore]): every interleaving of each scenario is
//     enumerated by depth-first search over the choice points, replaying the
//     scenario from the start for each branch. Schedules with fewer
//     preemptions are explored first (iterative context bounding, as in
//     CHESS), so the first violation found is one with the fewest
//     preemptions, and the search order is fixed: two runs report the same
//     schedule.
//   - Random with shrinking ([Property], [TestRandom]): the scenario and every
//     scheduling decision are drawn from rapid, so rapid shrinks operations
//     and interleavings together to a minimal counterexample.
//
// Every history (the operations with their call and return order in the
// schedule) is checked against the model by searching for a linearization
// with model.CheckSlot, and every trace is checked for the #6984 signature:
// an operation that reads a file after truncating that file itself.
//
// A store in another process — any program that speaks the worker protocol
// with its scheduling hook (docs/PROTOCOL.md, feature "schedule"), such as
// the Django adapter — is explored the same way ([CheckWorker], [TestWorker],
// [ReplayWorker], [Workers]): every file-system call the worker announces is
// a scheduling point, the client that stands for the worker parks there,
// and the go-ahead is sent when the scheduler picks it. Only the source of
// the choice points differs; the search, the checks and the schedule
// strings are the same. Each client is its own worker process, started once
// and opened again on a fresh directory for every run, at its own scenario
// clock and, when the worker honours key pools, with a fresh one-key pool
// before every operation, so that a run is a function of its schedule.
// Announced locks are scheduled; a worker that blocks in a call it did not
// announce is reported as a stall.
//
// A pass counts its work, by package verdict's rule (Result.Work, and
// Result.PerOp per kind of operation): the schedules, the operations, and
// the scheduling points every operation reached (Operation.Points). Every
// store operation must touch storage — only the refusal of a bad key comes
// before any file-system access — so an operation that reached no
// scheduling point means the store's file operations are not behind the
// scheduler: a Go store that bypasses Env.FS, or a worker that declares
// the hook and does not announce its calls. Its operations then run in one
// step each, every scenario has one schedule, and no race can show. Such
// an exploration is an Error that counts the silent operations of each
// kind, never a pass; so is one in which no scenario had more than one
// schedule. The random mode fails a case with a silent operation the same
// way.
//
// A violation prints the exact schedule — which client made which call, in
// order, with paths relative to the store directory — and a schedule string
// that [Replay] runs again bit for bit.
package explore
