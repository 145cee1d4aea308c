// Package fusecheck runs the faults and crash checks on a worker process —
// any backend, in any language, unchanged — by giving it a session
// directory on the simulated disk served over FUSE (package fusefs).
//
// It is the process-level twin of packages faults and crash, which judge a
// Go store through the in-process seam: the same seeded workload
// (memfs/workload), the same model and the same judgement of what a store
// may hold (workload.Window). What differs is how the disk is reached and
// how state is read back: the injection points are kernel requests (create,
// open, read, write, fsync, fsyncdir, rename, unlink, lock, unlock, flush,
// opendir, readdir) rather than seam calls, and state is read by a fresh
// worker loading every key on a fresh mount. The drivers are written here,
// not shared with faults and crash, whose run loops are tied to an
// in-process *impl.Store; a later redesign that gives both a common target
// type can merge them.
//
// Keys a worker drew but never returned (a Create that failed half-way) are
// found by their names on the disk: any run of 32 key characters in a
// file name of the session directory is read back too.
package fusecheck

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sessioncheck/sessioncheck/fusefs"
	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/verdict"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workerstore"
)

// Config says what to run.
type Config struct {
	Argv       []string // the worker command
	Seed       int64    // the workload
	Operations int      // workload length (0: 8 for faults, 20 for crash)
	// Timeout is each request's deadline (0: worker.DefaultTimeout).
	Timeout time.Duration
	// LeaveOut lists operations to leave out of the workload besides those
	// the worker's hello does not declare (gorilla's worker declares
	// clear-expired and fails it: FilesystemStore has none).
	LeaveOut []model.Kind
}

// Result is the verdict of one run.
type Result struct {
	Verdict    string // "pass", "violation" or "error"
	Seed       int64
	Operations int // operations in the workload
	Points     int // injection points (faults) or crash points (crash)
	Units      int // injections, or distinct crash images checked
	Absorbed   int // faults: injections after which the operation still succeeded, correctly
	Violations int // units that broke the contract
	// LeftOut names the operations the worker does not support, which the
	// workload left out (gorilla has no clear-expired).
	LeftOut []string
	// Work is what was counted; Why is what verdict.Judge said of it when
	// it made a clean run something other than a pass.
	Work    verdict.Work
	Why     string
	Detail  string // the first violation; "" on a pass
	Seconds float64
}

// finish judges a run by the project's one rule (package verdict).
func (r *Result) finish(found, detail string, start time.Time) Result {
	r.Detail, r.Seconds = detail, time.Since(start).Seconds()
	v, why := verdict.Judge(verdict.Verdict(found), r.Work)
	r.Verdict, r.Why = string(v), why
	if why != "" && r.Detail == "" {
		r.Detail = why
	}
	return *r
}

// keyInName finds key-like runs in file names: the reference names a
// session s_<key>, gorilla session_<KEY> with its key in upper case.
var keyInName = regexp.MustCompile(`[A-Za-z0-9]{16,64}`)

// session is one mount of a disk with the session directory on it.
type session struct {
	srv *fusefs.Server
	dir string // the session directory as the worker sees it
}

func mountDisk(disk *memfs.FS, opts fusefs.Options) (*session, error) {
	mnt, err := os.MkdirTemp("", "sessioncheck-fuse-")
	if err != nil {
		return nil, err
	}
	srv, err := fusefs.Mount(disk, mnt, opts)
	if err != nil {
		os.Remove(mnt)
		return nil, err
	}
	return &session{srv: srv, dir: mnt + workload.Dir}, nil
}

func (s *session) close() error {
	err := s.srv.Close()
	if rerr := os.Remove(s.srv.Dir()); err == nil && rerr != nil {
		err = rerr
	}
	return err
}

// keysOn returns the keys of known and every key-like run in a file name
// of the session directory of disk.
func keysOn(disk *memfs.FS, known []string) []string {
	keys := append([]string{workload.NeverKey}, known...)
	names, _ := disk.ReadDir(workload.Dir)
	for _, n := range names {
		for _, k := range keyInName.FindAllString(n, -1) {
			keys = append(keys, strings.ToLower(k))
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// observer reads disks back through one worker process, which each
// observation opens afresh on another mount (a Python worker costs most of
// a second to start; an open costs nothing like it).
type observer struct {
	cfg  Config
	pool *workerstore.Pool
}

func newObserver(cfg Config) *observer {
	return &observer{cfg: cfg, pool: workerstore.New(cfg.Argv, worker.Options{Timeout: cfg.Timeout})}
}

func (o *observer) close() error { return o.pool.Close() }

// observe mounts disk, opens the worker's store on it afresh with its clock
// before every expiry, and loads each key.
func (o *observer) observe(disk *memfs.FS, keys []string) (map[string]workload.Observation, error) {
	s, err := mountDisk(disk, fusefs.Options{})
	if err != nil {
		return nil, err
	}
	defer s.close()
	st, err := o.pool.Open(s.dir, func() time.Time { return memfs.Epoch })
	if err != nil {
		return nil, fmt.Errorf("open a worker afresh to read the disk back: %w", err)
	}
	obs := map[string]workload.Observation{}
	for _, k := range keys {
		res, err := model.Do(st, model.Op{Kind: model.OpLoad, Key: k})
		switch {
		case res.Outcome == model.OK:
			obs[k] = workload.Observation{Slot: model.Slot{Stored: true, Record: res.Record}}
		case res.Outcome == model.NotFound:
			obs[k] = workload.Observation{}
		default:
			if err == nil {
				err = fmt.Errorf("%v", res.Outcome)
			}
			obs[k] = workload.Observation{Err: err}
		}
	}
	return obs, nil
}

// driver runs the workload on one worker over one mount.
type driver struct {
	cfg   Config
	env   *workload.Env // only Now and Known are used: the store is the worker
	disk  *memfs.FS
	sess  *session
	pool  *workerstore.Pool
	store model.Store
	self  int
}

func newDriver(cfg Config, opts fusefs.Options) (*driver, error) {
	d := &driver{cfg: cfg, env: &workload.Env{Now: workload.Start}, self: os.Getpid()}
	d.disk = memfs.New(nil)
	if err := d.disk.MkdirAll(workload.Dir, 0o700); err != nil {
		return nil, err
	}
	s, err := mountDisk(d.disk, opts)
	if err != nil {
		return nil, err
	}
	d.sess = s
	d.pool = workerstore.New(cfg.Argv, worker.Options{Timeout: cfg.Timeout})
	d.store, err = d.pool.Open(s.dir, func() time.Time { return d.env.Now })
	if err != nil {
		d.close()
		return nil, fmt.Errorf("open the worker on the mount: %w", err)
	}
	return d, nil
}

func (d *driver) close() error {
	perr := d.pool.Close()
	err := d.sess.close()
	if err == nil {
		err = perr
	}
	return err
}

// exec runs op on the worker.
func (d *driver) exec(op model.Op) model.Result {
	res, _ := model.Do(d.store, op)
	if res.Key != "" && !slices.Contains(d.env.Known, res.Key) {
		d.env.Known = append(d.env.Known, res.Key)
	}
	return res
}

// stepsFor generates the workload and leaves out the operations the
// worker does not support, as docs/PROTOCOL.md asks of a driver.
func stepsFor(cfg Config) ([]workload.Step, []string, error) {
	pool := workerstore.New(cfg.Argv, worker.Options{Timeout: cfg.Timeout})
	defer pool.Close()
	hello, err := pool.Hello()
	if err != nil {
		return nil, nil, fmt.Errorf("start the worker: %w", err)
	}
	var steps []workload.Step
	var left []string
	for _, st := range workload.Generate(cfg.Seed, cfg.Operations) {
		if !hello.Supports(st.Kind) || slices.Contains(cfg.LeaveOut, st.Kind) {
			if !slices.Contains(left, st.Kind.String()) {
				left = append(left, st.Kind.String())
			}
			continue
		}
		steps = append(steps, st)
	}
	return steps, left, nil
}

// Errnos returns the errors injected into a request, as faults.Errnos does
// for seam calls.
func Errnos(r fusefs.Request) []syscall.Errno {
	switch r.Op {
	case "create", "write", "fsync", "fsyncdir", "rename":
		return []syscall.Errno{syscall.EIO, syscall.ENOSPC}
	case "flush", "lock":
		return []syscall.Errno{syscall.EIO, syscall.EINTR}
	}
	return []syscall.Errno{syscall.EIO}
}

// injectable says whether a request is an injection point: the calls a
// store makes on purpose. Lookups and attribute reads, which the kernel
// makes on its own behalf and in an order it chooses, are not.
func injectable(r fusefs.Request) bool {
	switch r.Op {
	case "create", "open", "read", "write", "fsync", "fsyncdir", "rename", "unlink", "lock", "unlock", "flush", "opendir", "readdir":
		return true
	}
	return false
}

// counter numbers the injectable requests of worker processes.
type counter struct {
	mu     sync.Mutex
	self   uint32
	n      int
	seen   []fusefs.Request
	inject int
	errno  syscall.Errno
	want   string
	fired  bool
	bad    string
}

func (c *counter) before(r fusefs.Request) syscall.Errno {
	if r.Pid == c.self || !injectable(r) {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.n
	c.n++
	c.seen = append(c.seen, r)
	if i != c.inject {
		return 0
	}
	if r.Op != c.want {
		c.bad = fmt.Sprintf("request %d was %s in the first run and %v now", i, c.want, r)
		return 0
	}
	c.fired = true
	return c.errno
}

func (c *counter) state() (fired bool, bad string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fired, c.bad
}

// Faults answers each injectable request of the workload, in turn, with
// each errno it can return, and holds the worker to the model: the faulted
// operation either reports failure and leaves the state before it or after
// it, or reports success and its data landed; the next operations succeed
// with the model's answers; the disk then holds the model's state.
func Faults(cfg Config) Result {
	start := time.Now()
	if cfg.Operations <= 0 {
		cfg.Operations = 8
	}
	res := Result{Seed: cfg.Seed, Operations: cfg.Operations, Work: verdict.Work{Unit: "injections"}}
	done := func(found, detail string) Result { return res.finish(found, detail, start) }
	steps, leftOut, err := stepsFor(cfg)
	if err != nil {
		return done("error", err.Error())
	}
	res.LeftOut, res.Operations = leftOut, len(steps)
	ob := newObserver(cfg)
	defer ob.close()
	base := &counter{self: uint32(os.Getpid()), inject: -1}
	if v, err := faultRun(cfg, ob, steps, base); err != nil {
		return done("error", err.Error())
	} else if v != "" {
		return done("violation", "without any fault: "+v)
	}
	res.Points = len(base.seen)
	for _, r := range base.seen {
		res.Work.Planned += len(Errnos(r))
	}
	for i, r := range base.seen {
		for _, errno := range Errnos(r) {
			c := &counter{self: uint32(os.Getpid()), inject: i, errno: errno, want: r.Op}
			v, err := faultRun(cfg, ob, steps, c)
			if err != nil {
				return done("error", fmt.Sprintf("%s at request %d (%v): %v", errno, i, r, err))
			}
			res.Units++
			res.Work.Units++
			res.Work.Operations += len(steps)
			if v == "" {
				continue
			}
			if v == absorbed {
				res.Absorbed++
				continue
			}
			res.Violations++
			if res.Detail == "" {
				res.Detail = fmt.Sprintf("seed %d: %s at request %d (%v, as named in the first run): %s", cfg.Seed, errno.Error(), i, r, v)
			}
		}
	}
	if res.Violations > 0 {
		return done("violation", res.Detail)
	}
	return done("pass", "")
}

const absorbed = "\x00absorbed"

// faultRun runs the workload once with c's fault, and returns "" (or
// absorbed) when the worker kept the contract.
func faultRun(cfg Config, ob *observer, steps []workload.Step, c *counter) (string, error) {
	d, err := newDriver(cfg, fusefs.Options{Before: c.before})
	if err != nil {
		if fired, _ := c.state(); fired {
			return "", nil // opening failed on the fault, and said so
		}
		return "", err
	}
	defer d.close()
	var state model.State
	result := ""
	for j, st := range steps {
		op := d.env.Prepare(st)
		firedBefore, _ := c.state()
		got := d.exec(op)
		fired, bad := c.state()
		if bad != "" {
			return "", fmt.Errorf("the worker is not deterministic: %s", bad)
		}
		if fired && !firedBefore {
			obs, err := ob.observe(d.disk, keysOn(d.disk, d.env.Known))
			if err != nil {
				return "", err
			}
			if got.Outcome == model.Failed {
				found, err := workload.Window{Before: state, InFlight: &op, Drawn: keysOn(d.disk, nil)}.Check(obs)
				if err != nil {
					return fmt.Sprintf("operation %d (%v) failed, as it should, but left a state that is neither before it nor after it:\n%v", j, op, err), nil
				}
				state = found
				continue
			}
			next, err := state.Check(op, got)
			if err != nil {
				return fmt.Sprintf("operation %d (%v) reported %v after the fault, which the model forbids: %v", j, op, got, err), nil
			}
			if _, err := (workload.Window{Before: next}).Check(obs); err != nil {
				return fmt.Sprintf("operation %d (%v) reported success after the fault, but its data did not land:\n%v", j, op, err), nil
			}
			state, result = next, absorbed
			continue
		}
		next, err := state.Check(op, got)
		if err != nil {
			if fired {
				return fmt.Sprintf("operation %d (%v), after the fault, went wrong: %v", j, op, err), nil
			}
			return fmt.Sprintf("operation %d (%v): %v", j, op, err), nil
		}
		state = next
	}
	if c.inject >= 0 {
		if fired, _ := c.state(); !fired {
			return "", fmt.Errorf("request %d (%s) never came: the worker is not deterministic", c.inject, c.want)
		}
	}
	obs, err := ob.observe(d.disk, keysOn(d.disk, d.env.Known))
	if err != nil {
		return "", err
	}
	if _, err := (workload.Window{Before: state}).Check(obs); err != nil {
		return fmt.Sprintf("at the end of the workload the disk does not hold the model's state:\n%v", err), nil
	}
	return result, nil
}

// Crash runs the workload once and, before every request that can change
// the disk and after every operation, takes the four crash images of
// memfs.CrashWith; each distinct image is mounted, a fresh worker loads
// every key, and what it finds must be the model's state as of the last
// acknowledged operation, or the one in flight done entirely.
func Crash(cfg Config) Result {
	start := time.Now()
	if cfg.Operations <= 0 {
		cfg.Operations = 20
	}
	res := Result{Seed: cfg.Seed, Operations: cfg.Operations, Work: verdict.Work{Unit: "crash states"}}
	done := func(found, detail string) Result { return res.finish(found, detail, start) }
	type point struct {
		op     int // the operation during (j) or after (-1-j) which the crash falls
		window workload.Window
		where  string
		images []*memfs.FS
	}
	var (
		mu       sync.Mutex
		points   []point
		window   workload.Window
		where    string
		diskRef  *memfs.FS
		self     = uint32(os.Getpid())
		opAt     int
		snapshot = func(at string) {
			p := point{op: opAt, window: window, where: at}
			for _, names := range []bool{false, true} {
				for _, data := range []bool{false, true} {
					p.images = append(p.images, diskRef.CrashWith(names, data))
				}
			}
			points = append(points, p)
		}
	)
	before := func(r fusefs.Request) syscall.Errno {
		switch r.Op {
		case "create", "write", "fsync", "fsyncdir", "rename", "unlink", "setattr", "mkdir", "rmdir":
		default:
			return 0
		}
		if r.Pid == self {
			return 0
		}
		mu.Lock()
		defer mu.Unlock()
		snapshot(fmt.Sprintf("%s, before %v", where, r))
		return 0
	}
	steps, leftOut, err := stepsFor(cfg)
	if err != nil {
		return done("error", err.Error())
	}
	res.LeftOut, res.Operations = leftOut, len(steps)
	d, err := newDriver(cfg, fusefs.Options{Before: before})
	if err != nil {
		return done("error", err.Error())
	}
	diskRef = d.disk
	var state model.State
	for j, st := range steps {
		op := d.env.Prepare(st)
		mu.Lock()
		window = workload.Window{Before: state, InFlight: &op}
		opAt = j
		where = fmt.Sprintf("during operation %d (%v)", j, op)
		mu.Unlock()
		got := d.exec(op)
		next, err := state.Check(op, got)
		if err != nil {
			d.close()
			return done("violation", fmt.Sprintf("seed %d: operation %d (%v), with no crash: %v", cfg.Seed, j, op, err))
		}
		state = next
		mu.Lock()
		window = workload.Window{Before: state}
		opAt = -1 - j
		snapshot(fmt.Sprintf("after operation %d (%v)", j, op))
		mu.Unlock()
	}
	known := slices.Clone(d.env.Known)
	if err := d.close(); err != nil {
		return done("error", err.Error())
	}
	res.Points = len(points)
	res.Work.Operations = len(steps)
	ob := newObserver(cfg)
	defer ob.close()
	seen := map[string]bool{}
	for _, p := range points {
		for _, img := range p.images {
			// The same image at the same moment of the workload is judged
			// the same way: read it back once.
			id := fmt.Sprint(p.op) + "\x00" + img.Dump()
			if seen[id] {
				continue
			}
			seen[id] = true
			res.Work.Planned++
			w := p.window
			if w.InFlight != nil {
				w.Drawn = keysOn(img, nil)
			}
			obs, err := ob.observe(img, keysOn(img, known))
			if err != nil {
				return done("error", fmt.Sprintf("%s: %v", p.where, err))
			}
			res.Units++
			res.Work.Units++
			if _, err := w.Check(obs); err != nil {
				res.Violations++
				if res.Detail == "" {
					res.Detail = fmt.Sprintf("seed %d: a crash %s leaves a disk on which:\n%v", cfg.Seed, p.where, err)
				}
			}
		}
	}
	if res.Violations > 0 {
		return done("violation", res.Detail)
	}
	return done("pass", "")
}
