package linearizability

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/verdict"
	"github.com/sessioncheck/sessioncheck/worker"
)

// Verdict is the outcome of a check: package verdict's, whose rule
// (verdict.Judge) decides it from the counted work.
type Verdict = verdict.Verdict

// Verdicts. Only Pass is a pass. Unknown: the checker ran out of time, or
// too much of its work had no known outcome (operations that hung, more
// unknown outcomes than verdict.UnknownShare allows). Error: the worker
// broke the protocol.
const (
	Pass      = verdict.Pass
	Violation = verdict.Violation
	Unknown   = verdict.Unknown
	Error     = verdict.Error
)

// Mode says how clients reach the store.
type Mode string

// Client modes; the check names are "lin-" + mode.
const (
	Goroutines Mode = "goroutines"
	Processes  Mode = "processes"
)

// Config configures a check: the workload of each history and how many.
type Config struct {
	Workload
	// Histories is the number of histories to record and check (default 10).
	// The check stops at the first violation.
	Histories int
	// Budget, if positive, stops recording new histories once the check has
	// run this long; the verdict is then based on the histories recorded
	// (the plan was "as many as fit in Budget": Work.Planned is then the
	// number recorded).
	Budget time.Duration
	// CheckTimeout bounds porcupine's search per history (default 10 s).
	// Running out of it gives the verdict Unknown.
	CheckTimeout time.Duration
	// OpTimeout is the deadline of every operation (default 5 s). An
	// operation that misses it gets an unknown outcome; its worker is
	// killed (processes) or its store instance abandoned (goroutines).
	OpTimeout time.Duration
	// Dir holds one session directory per history (default: a new
	// temporary directory, removed afterwards).
	Dir string
	// ReportDir receives the visualization of a violation (default: Dir,
	// or the temporary directory, which is then kept).
	ReportDir string
	// Now is the fixed clock of every history: the store's time, the same
	// for every client and process; expiries are drawn relative to it.
	// Default: the start of the check, truncated to the second. It should
	// not be ahead of the real time: a store may compare its clock with
	// file modification times (the reference does, to find stale temporary
	// files).
	Now time.Time
	// Secret is given to every store of a history.
	Secret string
	// Env is the environment of worker processes (nil: the driver's).
	Env []string
}

func (c Config) withDefaults() Config {
	c.Workload = c.Workload.withDefaults()
	if c.Histories <= 0 {
		c.Histories = 10
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 10 * time.Second
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = 5 * time.Second
	}
	if c.Secret == "" {
		c.Secret = "sessioncheck"
	}
	if c.Now.IsZero() {
		c.Now = time.Now().UTC().Truncate(time.Second)
	}
	return c
}

// Result is what a check found.
type Result struct {
	Verdict Verdict
	Mode    Mode
	// Store names what was checked (the worker's name in process mode).
	Store string
	// Histories and Operations count what was recorded and checked.
	Histories, Operations int
	// UnknownOps counts operations of unknown outcome (timeouts, dead
	// workers, failures); FailedOps counts those that were failures
	// reported by the store (an error other than the model's).
	UnknownOps, FailedOps int
	// Work is what the check did, as verdict.Judge weighed it to give
	// Verdict: histories, operations, and the operations that failed,
	// hung or had an unknown outcome, with worker errors and restarts.
	// Work.Unknown excludes failures (Work.Failed), unlike UnknownOps.
	Work verdict.Work
	// Seconds is the wall time of the whole check.
	Seconds float64
	// Seed replays the history that decided the verdict: run the same
	// Config with Seed set to it and Histories 1. For a pass it is the
	// first history's seed.
	Seed uint64
	// Detail explains a violation or an unknown verdict in plain text: the
	// key, its operations with their times, and what the model allowed
	// where it got stuck; or why the counted work is not a pass (which
	// operations hung, what the worker did wrong). It also lists failed
	// operations.
	Detail string
	// Visualization is the path of porcupine's HTML page of the violation.
	Visualization string
	// History is the history that decided a violation or unknown verdict.
	History []Entry
}

// OpenFunc opens one store instance for a history (goroutine mode): every
// client calls it, so each client has its own instance over cfg.Dir. It
// must honour cfg.Now as the store's fixed clock, and cfg.Keys, when not
// empty, as the pool fresh keys are drawn from.
type OpenFunc = worker.OpenFunc

// conns hands every client of a history its store.
type conns interface {
	// open returns the store of client i for a history.
	open(i int, cfg worker.Config) (model.Store, error)
	// lost discards client i's store after an unknown outcome.
	lost(i int)
	// supports says whether every client can run kind.
	supports(kind model.Kind) bool
	close() error
}

type goroutineConns struct{ openFn OpenFunc }

func (g goroutineConns) open(_ int, cfg worker.Config) (model.Store, error) { return g.openFn(cfg) }
func (g goroutineConns) lost(int)                                           {}
func (g goroutineConns) supports(model.Kind) bool                           { return true }
func (g goroutineConns) close() error                                       { return nil }

type processConns struct {
	argv    []string
	opts    worker.Options
	mu      sync.Mutex
	clients map[int]*worker.Client
	hello   worker.Hello
}

func (p *processConns) start() (*worker.Client, error) {
	return worker.Start(p.argv, p.opts)
}

func (p *processConns) open(i int, cfg worker.Config) (model.Store, error) {
	p.mu.Lock()
	c := p.clients[i]
	p.mu.Unlock()
	if c == nil {
		var err error
		if c, err = p.start(); err != nil {
			return nil, err
		}
		p.mu.Lock()
		p.clients[i] = c
		p.mu.Unlock()
	}
	if !c.Hello.Has(worker.FeatureKeyPool) {
		cfg.Keys = nil
	}
	if err := c.Open(cfg); err != nil {
		return nil, err
	}
	return c.Store(), nil
}

func (p *processConns) lost(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.clients[i]; c != nil {
		c.Kill()
		delete(p.clients, i)
	}
}

func (p *processConns) supports(k model.Kind) bool { return p.hello.Supports(k) }

func (p *processConns) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for i, c := range p.clients {
		errs = append(errs, c.Close())
		delete(p.clients, i)
	}
	return errors.Join(errs...)
}

// CheckGoroutines records cfg.Histories histories whose clients are
// goroutines, each with its own store instance from open over one shared
// directory, and checks each for linearizability. The error is for a check
// that could not run (a store that does not open); a store's misbehaviour is
// in the Result.
func CheckGoroutines(open OpenFunc, cfg Config) (Result, error) {
	return run(Goroutines, "", goroutineConns{open}, cfg)
}

// CheckProcesses is CheckGoroutines with each client a worker process
// started from argv, speaking the worker protocol (docs/PROTOCOL.md). The
// driver stamps times on its side of the pipes; a worker that misses
// cfg.OpTimeout or dies is killed and replaced, and its operation in flight
// gets an unknown outcome.
func CheckProcesses(argv []string, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	p := &processConns{argv: slices.Clone(argv), opts: worker.Options{Timeout: cfg.OpTimeout, Env: cfg.Env}, clients: map[int]*worker.Client{}}
	first, err := p.start()
	if err != nil {
		return Result{Verdict: Error, Mode: Processes}, err
	}
	p.clients[0] = first
	p.hello = first.Hello
	return run(Processes, first.Hello.Name, p, cfg)
}

func run(mode Mode, name string, cs conns, cfg Config) (res Result, err error) {
	start := time.Now()
	cfg = cfg.withDefaults()
	res = Result{Verdict: Pass, Mode: mode, Store: name, Seed: cfg.Seed}
	defer func() {
		if cerr := cs.close(); cerr != nil && err == nil && res.Verdict == Pass {
			err = fmt.Errorf("closing clients: %w", cerr)
		}
		res.Seconds = time.Since(start).Seconds()
	}()
	var unchecked []string
	for _, w := range cfg.Mix.weights() {
		if w.w > 0 && !cs.supports(w.kind) {
			cfg.Mix = cfg.Mix.without(w.kind)
			unchecked = append(unchecked, w.kind.String())
		}
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sessioncheck-lin-"); err != nil {
			return res, err
		}
		if cfg.ReportDir == "" {
			cfg.ReportDir = dir
		}
		defer func() {
			if res.Visualization == "" {
				os.RemoveAll(dir)
			}
		}()
	}
	if cfg.ReportDir == "" {
		cfg.ReportDir = dir
	}
	var unknownDetail string
	w := &res.Work
	w.Unit, w.Planned = "histories", cfg.Histories
	w.Unchecked = unchecked
	// judge gives the verdict from what the histories found and the
	// counted work, and says why when the work decided it.
	judge := func(found Verdict) {
		v, why := verdict.Judge(found, *w)
		res.Verdict = v
		if why != "" {
			res.Detail = fmt.Sprintf("%s: %s\n%s", mode, why, res.Detail)
		}
		if len(unchecked) > 0 {
			res.Detail += fmt.Sprintf("not checked: %s (the worker does not declare them, so no history ran them)\n", strings.Join(unchecked, ", "))
		}
	}
	for h := range cfg.Histories {
		if cfg.Budget > 0 && h > 0 && time.Since(start) >= cfg.Budget {
			w.Planned = w.Units // the plan was what fits in Budget
			break
		}
		seed := cfg.Seed + uint64(h)
		hist, st, err := recordHistory(cs, cfg, dir, seed)
		if err != nil {
			return res, fmt.Errorf("history %d (seed %d): %w", h, seed, err)
		}
		res.Histories++
		res.Operations += len(hist)
		w.Units++
		w.Operations += len(hist)
		w.Hung += len(st.hung)
		w.WorkerErrors += st.workerErrors
		w.Restarts += st.restarts
		for _, op := range st.hung {
			if len(w.HungOps) < maxHungOps {
				w.HungOps = append(w.HungOps, fmt.Sprintf("%s (history %d, seed %d)", op, h, seed))
			}
		}
		failed := 0
		for _, e := range hist {
			if e.Unknown {
				res.UnknownOps++
				if e.Result.Outcome == model.Failed {
					res.FailedOps++
					w.Failed++
					failed++
				} else {
					w.Unknown++
				}
			}
		}
		v, detail, vis, err := CheckHistory(hist, cfg.CheckTimeout, cfg.ReportDir, fmt.Sprintf("lin-%s-seed-%d", mode, seed))
		if err != nil {
			return res, err
		}
		switch v {
		case Violation:
			res.Seed, res.Visualization, res.History = seed, vis, hist
			res.Detail = fmt.Sprintf("%s: violation in history %d (seed %d; replay with Seed=%d, Histories=1)\n%s", mode, h, seed, seed, detail)
			judge(Violation)
			return res, nil
		case Unknown:
			if unknownDetail == "" {
				res.Seed, res.History = seed, hist
				unknownDetail = detail
			}
		}
		if failed > 0 && res.Detail == "" {
			res.Detail = failures(hist)
		}
		if st.workerErrors > 0 || len(st.hung) > 0 || failed > 0 {
			// The verdict can no longer be a pass, and every further
			// history would cost a timeout per operation that hangs:
			// stop here and say why.
			if res.History == nil {
				res.Seed, res.History = seed, hist
			}
			break
		}
	}
	if unknownDetail != "" {
		res.Detail = unknownDetail + "\n" + res.Detail
		judge(Unknown)
	} else {
		judge(Pass)
	}
	return res, nil
}

// maxHungOps bounds the operations that hung a Result names.
const maxHungOps = 20

// histStats is what the clients of one history counted besides the
// history itself.
type histStats struct {
	mu           sync.Mutex
	hung         []string // the operations that got no answer in time
	workerErrors int      // unknown outcomes from a worker that broke the protocol or died
	restarts     int      // clients replaced after an unknown outcome
}

func failures(hist []Entry) string {
	s := "operations that failed (recorded with unknown outcome):\n"
	for _, e := range hist {
		if e.Unknown && e.Result.Outcome == model.Failed {
			s += "  " + e.String() + "\n"
		}
	}
	return s
}

func (m Mix) without(k model.Kind) Mix {
	switch k {
	case model.OpCreate:
		m.Create = 0
	case model.OpLoad:
		m.Load = 0
	case model.OpSave:
		m.Save = 0
	case model.OpTouch:
		m.Touch = 0
	case model.OpDelete:
		m.Delete = 0
	case model.OpExists:
		m.Exists = 0
	case model.OpCycle:
		m.Cycle = 0
	case model.OpClearExpired:
		m.ClearExpired = 0
	}
	return m
}

// recordHistory runs one history and returns it.
func recordHistory(cs conns, cfg Config, parent string, seed uint64) ([]Entry, *histStats, error) {
	st := &histStats{}
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("h%d-", seed))
	if err != nil {
		return nil, st, err
	}
	defer os.RemoveAll(dir)
	wcfg := worker.Config{Dir: dir, Now: cfg.Now, Secret: cfg.Secret}
	if cfg.KeySpace > 0 {
		wcfg.Keys = KeyPool(seed, cfg.KeySpace)
	}
	rec := NewRecorder()
	p := &pool{max: cfg.Keys}
	stores := make([]model.Store, cfg.Clients)
	for i := range stores {
		if stores[i], err = cs.open(i, wcfg); err != nil {
			return nil, st, fmt.Errorf("client %d: %w", i, err)
		}
	}
	errs := make([]error, cfg.Clients)
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{i: i, id: rec.NewClient(), store: stores[i], rec: rec, cs: cs, cfg: wcfg, timeout: cfg.OpTimeout, stats: st}
			errs[i] = c.run(newGen(cfg.Workload, seed, i, cfg.Now), p, cfg.Operations)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, st, err
	}
	return rec.Finish("history ended"), st, nil
}

// client is one sequential client of a history.
type client struct {
	i       int
	id      int
	store   model.Store
	rec     *Recorder
	cs      conns
	cfg     worker.Config
	timeout time.Duration
	stats   *histStats
	// hungInARow counts this client's consecutive operations that hung.
	hungInARow int
}

// giveUpAfter is how many operations in a row may hang before a client
// stops its history: the backend is not answering, and each further
// operation would only cost another timeout.
const giveUpAfter = 2

func (c *client) run(g *gen, p *pool, n int) error {
	for range n {
		if c.hungInARow >= giveUpAfter {
			return nil
		}
		op := g.next(p)
		res, known, err := c.do(op)
		if err != nil {
			return err
		}
		if !known || res.Outcome != model.OK {
			continue
		}
		switch op.Kind {
		case model.OpCreate:
			p.add(res.Key)
		case model.OpCycle:
			// Load the new key before any other client can know it: the
			// record it returns is the record the cycle moved.
			lres, known, err := c.do(model.Op{Kind: model.OpLoad, Key: res.Key, Now: op.Now})
			if err != nil {
				return err
			}
			if known && lres.Outcome == model.OK {
				p.add(res.Key)
			}
		}
	}
	return nil
}

// do runs op, recording it. known is false when the outcome is unknown; err
// is for the harness's own failures only.
func (c *client) do(op model.Op) (res model.Result, known bool, err error) {
	if c.store == nil { // lost earlier and could not be replaced
		if c.store, err = c.cs.open(c.i, c.cfg); err != nil {
			return res, false, fmt.Errorf("client %d: reopening: %w", c.i, err)
		}
	}
	if err := c.rec.Begin(c.id, op); err != nil {
		return res, false, err
	}
	type answer struct {
		res model.Result
		err error
	}
	ch := make(chan answer, 1)
	st := c.store
	go func() {
		defer func() {
			// A panicking store must not take the checker down with it.
			if p := recover(); p != nil {
				ch <- answer{model.Result{Outcome: model.Failed}, fmt.Errorf("panic in store: %v", p)}
			}
		}()
		r, err := model.Do(st, op)
		ch <- answer{r, err}
	}()
	timer := time.NewTimer(c.timeout + time.Second) // the worker's own deadline fires first
	defer timer.Stop()
	var a answer
	select {
	case a = <-ch:
	case <-timer.C:
		a.err = fmt.Errorf("%w: %w: no answer within %v", worker.ErrUnknownOutcome, worker.ErrHung, c.timeout)
	}
	if errors.Is(a.err, worker.ErrUnknownOutcome) {
		if c.id, err = c.rec.Abandon(c.id, a.err.Error()); err != nil {
			return res, false, err
		}
		c.stats.mu.Lock()
		if errors.Is(a.err, worker.ErrHung) {
			c.hungInARow++
			c.stats.hung = append(c.stats.hung, fmt.Sprintf("client %d: %s", c.i, describeWholeOp(op)))
		} else {
			c.hungInARow = 0
			c.stats.workerErrors++
		}
		c.stats.restarts++
		c.stats.mu.Unlock()
		c.cs.lost(c.i)
		c.store = nil
		if c.store, err = c.cs.open(c.i, c.cfg); err != nil {
			return res, false, fmt.Errorf("client %d: replacing a lost client: %w", c.i, err)
		}
		return res, false, nil
	}
	c.hungInARow = 0
	id, err := c.rec.End(c.id, a.res, a.err)
	if err != nil {
		return res, false, err
	}
	known = id == c.id
	c.id = id
	return a.res, known, nil
}
