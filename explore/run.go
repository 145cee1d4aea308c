package explore

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// Env is what one client's store is opened with: the session directory, the
// client's view of the file system (every call a scheduling point), its
// clock and its key randomness.
type Env struct {
	Dir   string
	FS    seam.FS
	Clock model.Clock
	// Rand is the client's key randomness: every client draws the same
	// keys in the same order (see KeyAt), so concurrent creates collide.
	Rand io.Reader
	// Process numbers the simulated process, from 0.
	Process int

	// client is the scheduler's handle on this client: a store that is
	// not behind FS (a worker process announcing its own calls) parks
	// and records through it.
	client *client
	// fail ends the run with an error that is not a finding (a worker
	// broke the protocol or died): the exploration reports it as an error.
	fail func(error)
}

// Opener opens one client's store instance. It is called once per client
// per run, in that client's own scheduled goroutine.
type Opener func(env Env) (model.Store, error)

// Operation is one store operation of a run's history.
type Operation struct {
	Client int
	Op     model.Op // with the key resolved and the clock reading in Now
	Call   int      // logical time it was called
	Return int      // logical time it returned
	Result model.Result
	Err    error // what the store returned, for the report
	// Points is the number of scheduling points the operation reached:
	// its file-system calls through the seam, or the calls its worker
	// announced.
	Points int
}

func (o *Operation) String() string {
	return fmt.Sprintf("%-4s [%3d,%3d] %s -> %s", clientName(o.Client), o.Call, o.Return, fmtOp(o.Op), o.result())
}

// result prints what the operation returned.
func (o *Operation) result() string {
	switch {
	case o.Err != nil:
		return o.Result.Outcome.String() + " (" + strings.ReplaceAll(o.Err.Error(), "\n", "; ") + ")"
	case o.Op.Kind == model.OpSave || o.Op.Kind == model.OpTouch || o.Op.Kind == model.OpDelete:
		return "ok"
	}
	return o.Result.String()
}

// fmtOp prints an operation with times relative to Epoch.
func fmtOp(op model.Op) string {
	var args []string
	if op.Kind != model.OpCreate && op.Kind != model.OpClearExpired {
		args = append(args, op.Key)
	}
	if op.Kind == model.OpCreate || op.Kind == model.OpSave {
		args = append(args, op.Values.String())
	}
	if op.Kind == model.OpCreate || op.Kind == model.OpSave || op.Kind == model.OpTouch {
		args = append(args, "expiry=+"+op.Expiry.Sub(Epoch).String())
	}
	out := op.Kind.String() + "("
	for i, a := range args {
		if i > 0 {
			out += ", "
		}
		out += a
	}
	return out + ") at +" + op.Now.Sub(Epoch).String()
}

// run is one execution of a scenario under one schedule.
type run struct {
	sc      Scenario
	s       *sched
	history []*Operation
	keys    []string // keys the prefix created, in order
	err     error    // the run could not complete: deadlock, stall, open failure
	fatal   error    // set through Env.fail: the run cannot be trusted
}

// failed records the first fatal error of the run.
func (r *run) failed(err error) {
	r.s.locked(func() {
		if r.fatal == nil {
			r.fatal = err
		}
	})
}

// phaseErr is the error that ends the run after a phase: the phase's own,
// or a fatal one a client reported.
func (r *run) phaseErr(err error) error {
	if err != nil {
		return err
	}
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	return r.fatal
}

// absentKey stands for a key the prefix failed to create.
const absentKey = "absent0000000000000000000000000000"

// execute runs sc once in a fresh world. The chooser decides every choice
// point. The error is for a world that could not be made.
func execute(open Opener, sc Scenario, worlds func(model.Clock) (World, error), ch chooser, stall time.Duration) (r *run, err error) {
	r = &run{sc: sc}
	n := len(sc.Clients)
	stores := make([]model.Store, n+1) // the last is the observer
	clients := make([]*client, n+1)
	clocks := make([]time.Time, n+1)
	for i := range clocks {
		clocks[i] = Epoch
	}
	// The file system's clock is the running client's: a file written by a
	// client at +20 s is 20 s old for another at +40 s.
	w, err := worlds(func() time.Time {
		if r.s != nil && r.s.running >= 0 {
			return clocks[r.s.running]
		}
		return Epoch
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && r.err == nil {
			r.err = fmt.Errorf("explore: remove the run's file system: %w", cerr)
		}
	}()
	r.s = newSched(w.Dir(), ch, stall)
	for i := range clients {
		clients[i] = r.s.addClient(w.View(i))
	}
	var openErr error
	var tasks []task
	for i, c := range clients {
		env := Env{Dir: w.Dir(), FS: clientFS{c}, Clock: func() time.Time { return clocks[i] }, Rand: &keyRand{}, Process: i, client: c, fail: r.failed}
		tasks = append(tasks, task{c, func() {
			defer func() {
				if p := recover(); p != nil && openErr == nil {
					openErr = fmt.Errorf("opening the store of %s: %w", clientName(i), panicError(p))
				}
			}()
			st, err := open(env)
			if err != nil && openErr == nil {
				openErr = fmt.Errorf("opening the store of %s: %w", clientName(i), err)
			}
			stores[i] = st
		}})
	}
	// The stores are opened one after another: opening is not what is
	// being explored.
	for _, t := range tasks {
		if r.err = r.phaseErr(r.s.runPhase([]task{t})); r.err != nil {
			return r, nil
		}
	}
	if openErr != nil {
		r.err = openErr
		return r, nil
	}
	do := func(c int, st Step) {
		op := model.Op{Kind: st.Kind, Expiry: Epoch.Add(st.Expiry), Now: Epoch.Add(st.At)}
		if st.needsKey() {
			op.Key = absentKey
			if st.Key < len(r.keys) {
				op.Key = r.keys[st.Key]
			}
		}
		if st.Kind != model.OpCreate && st.Kind != model.OpSave && st.Kind != model.OpTouch {
			op.Expiry = time.Time{}
		}
		clocks[c] = op.Now
		r.invoke(clients[c], stores[c], op)
	}
	// Prefix: client 0 alone.
	r.err = r.s.runPhase([]task{{clients[0], func() {
		for _, st := range sc.Prefix {
			do(0, st)
			if h := r.history[len(r.history)-1]; h.Result.Outcome == model.OK && (st.Kind == model.OpCreate || st.Kind == model.OpCycle) {
				r.keys = append(r.keys, h.Result.Key)
			}
		}
	}}})
	if r.err = r.phaseErr(r.err); r.err != nil {
		return r, nil
	}
	tasks = tasks[:0]
	for i, steps := range sc.Clients {
		tasks = append(tasks, task{clients[i], func() {
			for _, st := range steps {
				do(i, st)
			}
		}})
	}
	if r.err = r.phaseErr(r.s.runPhase(tasks)); r.err != nil {
		return r, nil
	}
	// Observe: another process loads every key seen.
	seen := slices.Clone(r.keys)
	for _, h := range r.history {
		if h.Result.Outcome == model.OK && h.Result.Key != "" && !slices.Contains(seen, h.Result.Key) {
			seen = append(seen, h.Result.Key)
		}
	}
	obs := n
	r.err = r.s.runPhase([]task{{clients[obs], func() {
		clocks[obs] = Epoch
		for _, k := range seen {
			r.invoke(clients[obs], stores[obs], model.Op{Kind: model.OpLoad, Key: k, Now: Epoch})
		}
	}}})
	r.err = r.phaseErr(r.err)
	return r, nil
}

// invoke runs one operation on the client's store and records it. It runs
// in the client's goroutine, alone.
func (r *run) invoke(c *client, st model.Store, op model.Op) {
	if op.Kind == model.OpCreate || op.Kind == model.OpSave {
		// Unique per write, so every value read names its write.
		op.Values = model.NewValues(map[string]string{"w": fmt.Sprintf("%s#%d", clientName(c.id), r.opCount())})
	}
	h := &Operation{Client: c.id, Op: op}
	if !r.s.locked(func() {
		h.Call = r.s.tick
		r.s.tick++
		c.op = len(r.history)
		r.history = append(r.history, h)
	}) {
		return
	}
	res, err := call(st, op)
	res.Outcome = model.OutcomeOf(err)
	r.s.locked(func() {
		c.op = -1
		h.Return = r.s.tick
		r.s.tick++
		h.Result, h.Err = res, err
	})
}

// snapshot copies the events and history recorded so far, under the lock:
// a stalled client may still be running.
func (r *run) snapshot() ([]Event, []*Operation) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	ops := make([]*Operation, len(r.history))
	for i, h := range r.history {
		c := *h
		ops[i] = &c
	}
	return slices.Clone(r.s.events), ops
}

func (r *run) opCount() (n int) {
	r.s.locked(func() { n = len(r.history) })
	return n
}

// call performs op on st; a panic becomes an error.
func call(st model.Store, op model.Op) (res model.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = model.Result{}, panicError(p)
		}
	}()
	return model.Do(st, op)
}
