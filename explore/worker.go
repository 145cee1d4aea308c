package explore

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

// Exploring a worker process. A worker that declares the "schedule" feature
// (docs/PROTOCOL.md, "Scheduling hook") announces every file-system call it
// is about to make and waits for the driver's go-ahead. Each announcement is
// a scheduling point exactly like a call through the in-process seam: the
// client's goroutine, which stands for the worker in the scheduler, parks at
// it and sends the go-ahead only when the scheduler picks it. The scheduler,
// the search, the history check and the schedule strings are the ones every
// in-process exploration uses; only the source of the choice points
// differs.
//
// The protocol's side of the hook (event lines, go-aheads, the process)
// is worker.Client's; explore adds what a scheduler needs around it.

// FeatureSchedule is the worker feature that explore needs: the worker
// announces every file-system call and waits for the go-ahead.
const FeatureSchedule = worker.FeatureSchedule

// DefaultWorkerBudget is the most schedules explored per scenario on a
// worker when Config.Budget is zero. A worker's step is a round trip
// through a pipe, hundreds of times slower than an in-process one; every
// built-in scenario on Django's file backend has fewer schedules than this.
const DefaultWorkerBudget = 2000

// WorkerStartTimeout is how long a worker process has to answer hello
// (Python with Django takes a second or so on a loaded machine).
const WorkerStartTimeout = 60 * time.Second

// workerSecret is the secret every client of a run is opened with.
var workerSecret = string(Secret)

// Workers is a set of worker processes started once and reused by every run
// of an exploration: each run opens every process again on the run's fresh
// directory. Process p serves client p (the last one the observer), so
// every client is its own process, as in production.
type Workers struct {
	argv  []string
	hello worker.Hello

	mu     sync.Mutex
	procs  []*proc
	shared *runShared // the current run's key sequence and temporary names
}

// StartWorkers starts n processes of the worker command argv (in parallel)
// and checks that each declares the scheduling hook. The error names what
// went wrong, with the worker's stderr.
func StartWorkers(argv []string, n int) (*Workers, error) {
	if len(argv) == 0 {
		return nil, errors.New("explore: empty worker command")
	}
	if n < 1 {
		return nil, fmt.Errorf("explore: start %d workers: want at least 1", n)
	}
	w := &Workers{argv: slices.Clone(argv), procs: make([]*proc, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { w.procs[i], errs[i] = startProc(w.argv, i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		w.Close()
		return nil, err
	}
	w.hello = w.procs[0].c.Hello
	return w, nil
}

// Name is the name the worker gave in its hello.
func (w *Workers) Name() string { return w.hello.Name }

// Supports returns nil when the worker declared every operation sc uses,
// or an error naming the first it did not.
func (w *Workers) Supports(sc Scenario) error {
	steps := slices.Clone(sc.Prefix)
	for _, cs := range sc.Clients {
		steps = append(steps, cs...)
	}
	// The observer loads every key.
	steps = append(steps, Step{Kind: model.OpLoad})
	for _, st := range steps {
		if !w.hello.Supports(st.Kind) {
			return fmt.Errorf("the worker does not declare %s", st.Kind)
		}
	}
	return nil
}

// Close ends every worker process (closing its stdin, then killing it if it
// does not exit) and reports the first that exited badly.
func (w *Workers) Close() error {
	w.mu.Lock()
	procs := slices.Clone(w.procs)
	w.procs = nil
	w.mu.Unlock()
	// In parallel: a worker may take a while to exit (a Go binary built
	// with the race detector sleeps a second at exit).
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		if p != nil {
			wg.Go(func() { errs[i] = p.close() })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// proc returns the process that serves client i, starting a new one when
// the old one was killed (an abandoned run) or is still busy (a stalled
// one).
func (w *Workers) proc(i int) (*proc, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.procs == nil {
		return nil, errors.New("explore: the workers are closed")
	}
	for len(w.procs) <= i {
		w.procs = append(w.procs, nil)
	}
	if p := w.procs[i]; p != nil {
		if p.usable() {
			return p, nil
		}
		p.kill(errors.New("replaced"))
	}
	p, err := startProc(w.argv, i)
	w.procs[i] = p
	return p, err
}

// Opener returns the Opener that opens client Env.Process's store on its
// worker process. Use it with OSWorlds (a worker needs a real directory)
// and the scheduler's stores only: Check, Replay, Property.
func (w *Workers) Opener() Opener {
	return func(env Env) (model.Store, error) {
		if env.client == nil {
			return nil, errors.New("explore: a worker store can only be opened by explore's scheduler")
		}
		if fi, err := os.Stat(env.Dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("explore: a worker needs the run's directory on the real file system (set Config.Worlds to OSWorlds): %s is not a directory", env.Dir)
		}
		p, err := w.proc(env.Process)
		if err != nil {
			return nil, err
		}
		w.mu.Lock()
		// Clients are opened in order, 0 first, at the start of every run.
		if env.Process == 0 || w.shared == nil {
			w.shared = &runShared{}
		}
		shared := w.shared
		w.mu.Unlock()
		st := &workerStore{p: p, env: env, shared: shared, pool: w.hello.Has(worker.FeatureKeyPool), held: map[string]bool{}}
		// Open now, so that a worker that cannot open the directory is
		// an error of the open phase; the first operation opens again
		// with its key.
		if err := st.open(false); err != nil {
			return nil, err
		}
		return st, nil
	}
}

// runShared is what the clients of one run share: the next fresh key and
// the names given to temporary files.
type runShared struct {
	mu        sync.Mutex
	nextKey   int
	templates []tempTemplate
	renamed   map[string]string
	used      map[string]int
}

// key returns the next fresh key of the run. Every operation gets its own
// one-key pool, so a worker that draws from the pool draws this key, every
// draw of a run is distinct, and a run is a function of its schedule.
func (r *runShared) key() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := KeyAt(r.nextKey)
	r.nextKey++
	return k
}

// tempTemplate is an announced mkstemp-style template: prefix, a run of
// Xs standing for random characters, suffix.
type tempTemplate struct {
	prefix, suffix, pattern string
	n                       int
}

// template registers the template in path, if it has one (at least three
// Xs in a row, as mkstemp(3) wants six).
func (r *runShared) template(path string) {
	i := strings.Index(path, "XXX")
	if i < 0 {
		return
	}
	j := i
	for j < len(path) && path[j] == 'X' {
		j++
	}
	t := tempTemplate{prefix: path[:i], suffix: path[j:], pattern: path, n: j - i}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.templates, t) {
		r.templates = append(r.templates, t)
	}
}

// canonical replaces a name that fills an announced template with the
// template itself (numbered from the second name on), so that a trace does
// not depend on the random characters of temporary names and two runs
// print the same.
func (r *runShared) canonical(path string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.renamed[path]; ok {
		return c
	}
	for _, t := range r.templates {
		if path != t.pattern && len(path) == len(t.prefix)+t.n+len(t.suffix) && strings.HasPrefix(path, t.prefix) && strings.HasSuffix(path, t.suffix) {
			if r.renamed == nil {
				r.renamed, r.used = map[string]string{}, map[string]int{}
			}
			r.used[t.pattern]++
			c := t.pattern
			if n := r.used[t.pattern]; n > 1 {
				c += fmt.Sprintf("#%d", n)
			}
			r.renamed[path] = c
			return c
		}
	}
	return path
}

// workerStore is one client's store for one run: a model.Store whose
// operations are requests to the client's worker process, every announced
// call a scheduling point.
type workerStore struct {
	p      *proc
	env    Env
	shared *runShared
	pool   bool // the worker honours key pools
	now    time.Time
	opened bool
	held   map[string]bool // locks held: path -> shared
}

// open (re)opens the client's store on the run's directory at the
// client's clock, with a fresh one-key pool when the worker honours pools.
// The protocol's clock is fixed per open, so a client whose scenario clock
// moves is opened again; a worker with a key pool is opened again before
// every operation, to hand it its fresh key.
func (st *workerStore) open(forOp bool) error {
	now := st.env.Clock()
	if st.opened && !(st.pool && forOp) && now.Equal(st.now) {
		return nil
	}
	req := worker.Request{Op: worker.OpOpen, Dir: st.env.Dir, Now: worker.FormatTime(now), Secret: workerSecret, Schedule: true}
	if st.pool && forOp {
		req.Keys = []string{st.shared.key()}
	}
	resp, err := st.request(req)
	if err != nil {
		return err
	}
	if resp.Outcome != model.OK.String() {
		return st.fatal(fmt.Errorf("open %s: outcome %q: %s", st.rel(st.env.Dir), resp.Outcome, resp.Message))
	}
	st.now, st.opened = now, true
	return nil
}

// fatal ends the run with err (a broken worker or protocol: not a
// finding) and kills the process, whose state is now unknown.
func (st *workerStore) fatal(err error) error {
	err = fmt.Errorf("explore: worker %s (%s): %w%s", st.p.name(), clientName(st.env.Process), err, st.p.stderrTail())
	st.p.kill(err)
	st.env.fail(err)
	return err
}

// request sends req and serves the worker's announcements until its
// response, parking the client at each.
func (st *workerStore) request(req worker.Request) (worker.Response, error) {
	p := st.p
	if err := p.broken(); err != nil {
		return worker.Response{}, st.fatal(err)
	}
	p.busy(true)
	id, err := p.c.Send(req)
	if err != nil {
		return worker.Response{}, st.fatal(fmt.Errorf("%s: %v", req.Op, err))
	}
	c := st.env.client
	for {
		l, err := p.c.Next()
		if err != nil {
			return worker.Response{}, st.fatal(fmt.Errorf("%s: %v", req.Op, err))
		}
		if resp := l.Response; resp != nil {
			if resp.ID == nil || *resp.ID != id {
				return *resp, st.fatal(fmt.Errorf("%s: response %q, want id %d", req.Op, l, id))
			}
			if resp.Error != "" {
				return *resp, st.fatal(fmt.Errorf("%s: error response: %s", req.Op, resp.Error))
			}
			p.busy(false)
			return *resp, nil
		}
		a := l.Event
		if a.Event != worker.EventFS || a.ID == nil || *a.ID != id || a.Call == "" {
			return worker.Response{}, st.fatal(fmt.Errorf("%s: bad event %q (want \"fs\" with id %d and a call)", req.Op, l, id))
		}
		e, r := st.event(*a)
		if !c.point(r) {
			// The run was abandoned while the worker waits for its
			// go-ahead: it cannot be unwound, only killed.
			p.kill(errAborted)
			return worker.Response{}, errAborted
		}
		if r.call == CallUnlock {
			c.s.release(c.id, r.lockKey, st.held[e.Path])
			delete(st.held, e.Path)
		} else if r.call == CallLock {
			st.held[e.Path] = r.shared
		}
		if err := p.c.GoAhead(a.Seq); err != nil {
			return worker.Response{}, st.fatal(fmt.Errorf("%s: go-ahead: %v", req.Op, err))
		}
		c.record(e, nil)
	}
}

// rel names path relative to the run's directory, with temporary names
// canonical.
func (st *workerStore) rel(path string) string {
	if path == "" {
		return ""
	}
	dir := st.env.client.s.dir
	switch {
	case path == dir:
		path = "."
	case strings.HasPrefix(path, dir+string(os.PathSeparator)):
		path = path[len(dir)+1:]
	}
	return st.shared.canonical(path)
}

// event turns an announcement into the trace's event and the scheduler's
// request.
func (st *workerStore) event(a worker.Event) (Event, request) {
	if a.Call == "mkstemp" {
		st.shared.template(st.rel(a.Path))
	}
	e := Event{Name: a.Call, Path: st.rel(a.Path), Path2: st.rel(a.Path2), announced: true}
	switch a.Call {
	case "open":
		e.Call, e.Flag, e.Name = CallOpen, openFlags(a.Flags), ""
	case "mkstemp":
		e.Call, e.Flag = CallOpen, os.O_RDWR|os.O_CREATE|os.O_EXCL
	case "read":
		e.Call = CallRead
	case "write":
		e.Call = CallWrite
	case "fsync", "fdatasync", "sync":
		e.Call = CallSync
	case "close":
		e.Call = CallClose
	case "rename", "replace":
		e.Call = CallRename
	case "rename-noreplace", "renameat2":
		e.Call = CallRenameNoReplace
	case "unlink", "remove":
		e.Call = CallRemove
	case "stat", "lstat":
		e.Call = CallLstat
	case "listdir", "readdir", "scandir":
		e.Call = CallReadDir
	case "lock":
		e.Call = CallLock
	case "unlock":
		e.Call = CallUnlock
	default:
		e.Call = CallOther
	}
	if e.Name == e.Call.String() {
		e.Name = ""
	}
	r := request{call: e.Call}
	if e.Call == CallLock || e.Call == CallUnlock {
		// Every worker is its own process: a lock it announces is one
		// every client shares, named by its path.
		r.lockKey = "lock " + e.Path
		r.shared = slices.ContainsFunc(a.Flags, func(f string) bool { return f == "LOCK_SH" || f == "shared" })
		if e.Call == CallUnlock {
			r.shared = st.held[e.Path]
		}
	}
	return e, r
}

// openFlags reads announced open flags: O_* names, or a Python open() mode.
func openFlags(names []string) int {
	flag := 0
	for _, n := range names {
		switch n {
		case "O_RDONLY":
		case "O_WRONLY":
			flag |= os.O_WRONLY
		case "O_RDWR":
			flag |= os.O_RDWR
		case "O_CREAT", "O_CREATE":
			flag |= os.O_CREATE
		case "O_EXCL":
			flag |= os.O_EXCL
		case "O_TRUNC":
			flag |= os.O_TRUNC
		case "O_APPEND":
			flag |= os.O_APPEND
		case "O_SYNC":
			flag |= os.O_SYNC
		case "O_DIRECTORY":
			flag |= oDirectory
		default:
			flag |= modeFlags(n)
		}
	}
	return flag
}

// modeFlags reads a Python open() mode ("rb", "w", "a+", "x").
func modeFlags(mode string) int {
	if mode == "" {
		return 0
	}
	var flag int
	switch mode[0] {
	case 'w':
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	case 'a':
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	case 'x':
		flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	case 'r':
	default:
		return 0
	}
	if strings.Contains(mode, "+") {
		flag = flag&^os.O_WRONLY | os.O_RDWR
	}
	return flag
}

// do runs one store operation.
func (st *workerStore) do(kind model.Kind, req worker.Request) (worker.Response, error) {
	if err := st.open(true); err != nil {
		return worker.Response{}, err
	}
	req.Op = kind.String()
	resp, err := st.request(req)
	if err != nil {
		return resp, err
	}
	outcome, ok := worker.OutcomeOf(resp.Outcome)
	if !ok {
		return resp, st.fatal(fmt.Errorf("%s: unknown outcome %q", kind, resp.Outcome))
	}
	msg := strings.ReplaceAll(resp.Message, st.env.client.s.dir+string(os.PathSeparator), "")
	switch outcome {
	case model.OK:
		return resp, nil
	case model.NotFound:
		if msg != "" {
			return resp, fmt.Errorf("%w: %s", model.ErrNotFound, msg)
		}
		return resp, model.ErrNotFound
	case model.Invalid:
		return resp, fmt.Errorf("%w: %s", model.ErrInvalidKey, msg)
	case model.Corrupt:
		return resp, &model.CorruptError{Key: req.Key, Reason: msg}
	}
	if msg == "" {
		msg = "(no message)"
	}
	return resp, fmt.Errorf("%s failed: %s", kind, msg)
}

func (st *workerStore) Create(values model.Values, expiry time.Time) (string, error) {
	resp, err := st.do(model.OpCreate, worker.Request{Values: values.Map(), Expiry: worker.FormatTime(expiry)})
	if err != nil {
		return "", err
	}
	if resp.Key == "" {
		return "", st.fatal(errors.New(`create: ok without "key"`))
	}
	return resp.Key, nil
}

func (st *workerStore) Load(key string) (model.Record, error) {
	resp, err := st.do(model.OpLoad, worker.Request{Key: key})
	if err != nil {
		return model.Record{}, err
	}
	rec, err := worker.RecordOf(resp.Record)
	if err != nil {
		return model.Record{}, st.fatal(fmt.Errorf("load: %v", err))
	}
	return rec, nil
}

func (st *workerStore) Save(key string, values model.Values, expiry time.Time) error {
	_, err := st.do(model.OpSave, worker.Request{Key: key, Values: values.Map(), Expiry: worker.FormatTime(expiry)})
	return err
}

func (st *workerStore) Touch(key string, expiry time.Time) error {
	_, err := st.do(model.OpTouch, worker.Request{Key: key, Expiry: worker.FormatTime(expiry)})
	return err
}

func (st *workerStore) Delete(key string) error {
	_, err := st.do(model.OpDelete, worker.Request{Key: key})
	return err
}

func (st *workerStore) Exists(key string) (bool, error) {
	resp, err := st.do(model.OpExists, worker.Request{Key: key})
	if err != nil {
		return false, err
	}
	if resp.Exists == nil {
		return false, st.fatal(errors.New(`exists: ok without "exists"`))
	}
	return *resp.Exists, nil
}

func (st *workerStore) Cycle(key string) (string, error) {
	resp, err := st.do(model.OpCycle, worker.Request{Key: key})
	if err != nil {
		return "", err
	}
	if resp.Key == "" {
		return "", st.fatal(errors.New(`cycle: ok without "key"`))
	}
	return resp.Key, nil
}

func (st *workerStore) ClearExpired() ([]string, error) {
	resp, err := st.do(model.OpClearExpired, worker.Request{})
	if err != nil {
		return nil, err
	}
	return resp.Removed, nil
}

// proc is one worker process, with what explore keeps about it: why it
// may not be used any more, and whether a request is in flight.
type proc struct {
	c     *worker.Client
	argv  []string
	index int

	mu       sync.Mutex
	dead     error // why the process cannot be used any more
	inFlight bool  // a request has been sent and its response not read
}

// startProc starts one worker process, which must speak the scheduling
// hook.
func startProc(argv []string, index int) (*proc, error) {
	c, err := worker.Start(argv, worker.Options{Version: 2, HelloTimeout: WorkerStartTimeout})
	if err != nil {
		return nil, fmt.Errorf("explore: %w", err)
	}
	if h := c.Hello; !h.Has(FeatureSchedule) {
		c.Kill()
		return nil, fmt.Errorf("explore: worker %q: hello: %s does not declare the %q feature (features %v): explore drives a worker through the scheduling hook of docs/PROTOCOL.md", argv[0], h.Name, FeatureSchedule, h.Features)
	}
	return &proc{c: c, argv: argv, index: index}, nil
}

func (p *proc) name() string {
	if p.c.Hello.Name != "" {
		return p.c.Hello.Name
	}
	return p.argv[0]
}

func (p *proc) busy(b bool) {
	p.mu.Lock()
	p.inFlight = b
	p.mu.Unlock()
}

func (p *proc) broken() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead
}

// usable reports whether a new run can use the process: it is alive and no
// request of an earlier run is still in flight.
func (p *proc) usable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dead == nil && !p.inFlight
}

// kill stops the process at once; later requests get cause.
func (p *proc) kill(cause error) {
	p.mu.Lock()
	first := p.dead == nil
	if first {
		p.dead = cause
	}
	p.mu.Unlock()
	if first {
		p.c.Kill()
	}
}

// close ends the process politely: stdin closed, a grace period to exit,
// then kill. It reports an exit with an error status of a process that
// was not killed.
func (p *proc) close() error {
	if err := p.c.Close(); err != nil {
		return fmt.Errorf("explore: worker %s (process %d): %w", p.name(), p.index, err)
	}
	return nil
}

func (p *proc) stderrTail() string {
	s := strings.TrimSpace(p.c.Stderr())
	if s == "" {
		return ""
	}
	return "; its stderr ends: " + s
}

// maxClients is the most concurrent clients of any scenario.
func maxClients(scs []Scenario) int {
	n := 1
	for _, sc := range scs {
		n = max(n, len(sc.Clients))
	}
	return n
}

// CheckWorker explores every built-in scenario (or cfg.Scenarios) whose
// operations the worker command argv declares, on the worker's own store,
// through the scheduling hook: every file-system call the worker announces
// is a scheduling point, and the search, the history check, the trace
// property and the schedule strings are Check's. Each client is its own
// worker process, started once and opened again on a fresh directory for
// every run (see WorkerConfig for where). Scenarios
// the worker cannot run are listed in Result.Scenarios as skipped.
//
// Budget 0 means DefaultWorkerBudget schedules per scenario. A worker that
// neither announces a call nor answers within cfg.Stall (it blocks in a
// call it did not announce, such as a lock) is reported as a StallError.
func CheckWorker(argv []string, cfg Config) Result {
	start := time.Now()
	res, w := startForCheck(argv, cfg)
	if w == nil {
		res.Seconds = time.Since(start).Seconds()
		return res
	}
	cfg = w.config(cfg)
	res = Check(w.Opener(), cfg)
	res.Scenarios = append(res.Scenarios, w.skipped...)
	if err := w.Close(); err != nil && res.Verdict == Pass {
		res.Verdict, res.Detail = Error, err.Error()
	}
	var se *StallError
	if res.Counterexample != nil && errors.As(res.Counterexample.Problem, &se) {
		res.Detail += "\n(a worker that blocks in a call it did not announce — a lock taken without announcing \"lock\", say — cannot be scheduled around: announce every call that can block)"
	}
	res.Detail = "worker " + w.Name() + ": " + res.Detail
	res.Seconds = time.Since(start).Seconds()
	return res
}

// checkWorkers is Workers with what CheckWorker decided about scenarios.
type checkWorkers struct {
	*Workers
	run     []Scenario
	skipped []string
}

func startForCheck(argv []string, cfg Config) (Result, *checkWorkers) {
	scs := cfg.scenarios()
	for _, sc := range scs {
		if err := sc.validate(); err != nil {
			return Result{Verdict: Error, Detail: err.Error()}, nil
		}
	}
	w, err := StartWorkers(argv, maxClients(scs)+1)
	if err != nil {
		return Result{Verdict: Error, Detail: err.Error()}, nil
	}
	cw := &checkWorkers{Workers: w}
	for _, sc := range scs {
		if err := w.Supports(sc); err != nil {
			cw.skipped = append(cw.skipped, fmt.Sprintf("%s: skipped: %v", sc.Name, err))
			continue
		}
		cw.run = append(cw.run, sc)
	}
	if len(cw.run) == 0 {
		_ = w.Close()
		return Result{Verdict: Error, Detail: fmt.Sprintf("explore: worker %s supports none of the scenarios:\n  %s", w.Name(), strings.Join(cw.skipped, "\n  "))}, nil
	}
	return Result{}, cw
}

// config is cfg as a worker exploration runs it.
func (w *checkWorkers) config(cfg Config) Config {
	cfg.Scenarios = w.run
	return WorkerConfig(cfg)
}

// WorkerConfig fills in what a worker exploration needs and cfg leaves
// out: real directories (OSWorlds under /dev/shm when it exists, else
// os.TempDir) and DefaultWorkerBudget.
func WorkerConfig(cfg Config) Config {
	if cfg.Worlds == nil {
		cfg.Worlds = OSWorlds(workerRoot())
	}
	if cfg.Budget == 0 {
		cfg.Budget = DefaultWorkerBudget
	}
	return cfg
}

// workerRoot is where a worker's run directories go: /dev/shm on Linux,
// because a store that syncs every write (as it should) spends most of a
// run waiting for the disk otherwise, and explore does not check
// durability (the crash check does).
func workerRoot() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", "explore-probe-*"); err == nil {
			name := f.Name()
			_ = f.Close()
			_ = os.Remove(name)
			return "/dev/shm"
		}
	}
	return ""
}

// ReplayWorker runs sc once on the worker command argv under schedule (as
// printed in a counterexample of CheckWorker) and returns the execution,
// checked, as Replay does.
func ReplayWorker(argv []string, sc Scenario, schedule string, cfg Config) (*Execution, error) {
	if err := sc.validate(); err != nil {
		return nil, err
	}
	w, err := StartWorkers(argv, len(sc.Clients)+1)
	if err != nil {
		return nil, err
	}
	if err := w.Supports(sc); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("explore: worker %s cannot run scenario %s: %v", w.Name(), sc.Name, err)
	}
	x, err := Replay(w.Opener(), sc, schedule, WorkerConfig(cfg))
	return x, errors.Join(err, w.Close())
}
