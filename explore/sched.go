package explore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/seam"
)

// Call names one kind of file-system call.
type Call uint8

// The calls the scheduler sees. Each is a scheduling point.
const (
	CallOpen Call = iota + 1
	CallRead
	CallWrite
	CallSync
	CallClose
	CallRename
	CallRenameNoReplace
	CallRemove
	CallReadDir
	CallLstat
	CallLock
	CallUnlock
	// CallOther is a call a worker announced under a name of its own
	// (Event.Name); it is a scheduling point like every other.
	CallOther
)

var callNames = [...]string{
	CallOpen: "open", CallRead: "read", CallWrite: "write", CallSync: "sync",
	CallClose: "close", CallRename: "rename", CallRenameNoReplace: "rename-noreplace",
	CallRemove: "remove", CallReadDir: "readdir", CallLstat: "lstat",
	CallLock: "lock", CallUnlock: "unlock", CallOther: "other",
}

func (c Call) String() string {
	if int(c) < len(callNames) && callNames[c] != "" {
		return callNames[c]
	}
	return fmt.Sprintf("Call(%d)", c)
}

// local reports whether the call commutes with every call another client can
// make, so that running it at once loses no interleaving: syncing or closing
// a file changes nothing another process can observe (crashes are the crash
// check's business, not this one's). Such a call is still a step of the
// schedule, but never a choice point.
func (c Call) local() bool { return c == CallSync || c == CallClose }

// Event is one file-system call made by one client, in schedule order.
type Event struct {
	Step   int    // 1-based position in the schedule
	Client int    // who made the call
	Op     int    // index in the history of the operation that made it; -1 while opening the store
	Call   Call   // what was called
	Path   string // relative to the session directory when inside it
	Path2  string // the new name of a rename
	Flag   int    // open flags
	Lock   seam.LockKind
	// Name is the call as a worker process announced it ("unlink",
	// "mkstemp", ...), when the call came from a worker rather than from
	// the file-system seam; Call is then the nearest kind.
	Name string
	// Result is "ok", a byte count, or the error. It is empty for a call a
	// worker announced: the worker makes the call after the go-ahead and
	// does not report how it went.
	Result    string
	failed    bool
	announced bool
}

// callName is the call as the trace prints it.
func (e Event) callName() string {
	if e.Name != "" {
		return e.Name
	}
	return e.Call.String()
}

func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4d  %-4s %-16s %s", e.Step, clientName(e.Client), e.callName(), e.Path)
	switch {
	case e.Path2 != "":
		b.WriteString(" -> " + e.Path2)
	case e.Call == CallOpen && (e.Name == "" || e.Name == "open"):
		b.WriteString(" " + flagString(e.Flag))
	case e.Call == CallLock || e.Call == CallUnlock:
		b.WriteString(" (" + lockKindString(e.Lock) + ")")
	}
	if e.Result != "" {
		b.WriteString(" = " + e.Result)
	}
	return b.String()
}

func clientName(c int) string { return fmt.Sprintf("c%d", c) }

func lockKindString(k seam.LockKind) string {
	switch k {
	case seam.FileLock:
		return "file lock"
	case seam.ProcessLock:
		return "process lock"
	case seam.ProcessSharedLock:
		return "process shared lock"
	}
	return fmt.Sprintf("LockKind(%d)", k)
}

func flagString(flag int) string {
	var parts []string
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		parts = append(parts, "O_RDONLY")
	case os.O_WRONLY:
		parts = append(parts, "O_WRONLY")
	case os.O_RDWR:
		parts = append(parts, "O_RDWR")
	}
	for _, f := range []struct {
		bit  int
		name string
	}{{os.O_CREATE, "O_CREATE"}, {os.O_EXCL, "O_EXCL"}, {os.O_TRUNC, "O_TRUNC"}, {os.O_APPEND, "O_APPEND"}, {os.O_SYNC, "O_SYNC"}, {oDirectory, "O_DIRECTORY"}} {
		if flag&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	return strings.Join(parts, "|")
}

// request is what a parked client is about to do.
type request struct {
	call    Call
	lockKey string // CallLock: the scheduler's name for the lock
	shared  bool   // CallLock: a reader lock
}

// message goes from a client goroutine to the scheduler: the client parked
// at a scheduling point (req non-nil) or finished its task.
type message struct {
	client int
	req    *request
}

// lockState is one lock as the scheduler sees it.
type lockState struct {
	writer  int // client holding it exclusively, or -1
	readers map[int]int
}

func (l *lockState) free(shared bool) bool {
	if l == nil {
		return true
	}
	return l.writer < 0 && (shared || len(l.readers) == 0)
}

// chooser picks the client to run at a choice point. options is never
// shorter than 2; when continuing is true, options[0] is the client that ran
// last and is still able to run, and any other pick preempts it.
type chooser interface {
	choose(options []int, continuing bool) (int, error)
}

// errAborted is what every file-system call returns once a run has been
// abandoned (deadlock, stall), so that the clients unwind.
var errAborted = errors.New("explore: run abandoned")

// sched runs the clients of one run, one at a time.
type sched struct {
	dir     string
	msgs    chan message
	clients []*client
	locks   map[string]*lockState
	events  []Event
	tick    int // logical time: every call, return and step advances it
	last    int // the client that ran the latest step, or -1
	running int // the client that runs now (or ran last), or -1
	chooser chooser
	stall   time.Duration
	aborted bool
	timer   *time.Timer
	// mu guards what clients write (events, history, tick) once a client
	// may have stalled: a stalled client runs on unsynchronised, so after
	// a stall nothing it does may reach the run's record (abandoned).
	mu        sync.Mutex
	abandoned bool
	// choices counts the choice points met, for reports.
	choices int
	// gone is closed once an abandoned run has released every client it
	// could: a client left behind (stalled) that reaches a scheduling
	// point or finishes later learns it there instead of blocking forever.
	gone chan struct{}
}

func newSched(dir string, ch chooser, stall time.Duration) *sched {
	return &sched{dir: filepath.Clean(dir), msgs: make(chan message), gone: make(chan struct{}), locks: map[string]*lockState{}, last: -1, running: -1, chooser: ch, stall: stall}
}

// client is one simulated process.
type client struct {
	id     int
	s      *sched
	fs     seam.FS // its view of the world
	resume chan bool
	parked *request
	active bool // has a task that has not finished
	op     int  // history index of the operation it is running, or -1
}

func (s *sched) addClient(view seam.FS) *client {
	c := &client{id: len(s.clients), s: s, fs: view, resume: make(chan bool), op: -1}
	s.clients = append(s.clients, c)
	return c
}

// rel names path relative to the session directory when it is inside it.
func (s *sched) rel(path string) string {
	p := filepath.Clean(path)
	if r, err := filepath.Rel(s.dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// locked runs f under s.mu unless the run was abandoned; it reports
// whether f ran.
func (s *sched) locked(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.abandoned {
		return false
	}
	f()
	return true
}

// point parks the client at a scheduling point until the scheduler picks it.
// It returns false when the run was abandoned: the call must not happen.
func (c *client) point(r request) bool {
	select {
	case c.s.msgs <- message{client: c.id, req: &r}:
	case <-c.s.gone:
		return false
	}
	return <-c.resume
}

// record appends the event of a call the client just made. Only the running
// client calls it, so the scheduler's slices need no lock: the channel
// hand-offs order every access.
func (c *client) record(e Event, err error) {
	e.Client, e.Op, e.Step = c.id, c.op, len(c.s.events)+1
	if err != nil {
		e.Result, e.failed = errString(c.s, err), true
	} else if e.Result == "" && !e.announced {
		e.Result = "ok"
	}
	c.s.locked(func() {
		c.s.events = append(c.s.events, e)
		c.s.tick++
	})
}

func errString(s *sched, err error) string {
	// Paths inside errors are made relative too, so a trace does not
	// depend on where the run's directory happened to be.
	return strings.ReplaceAll(err.Error(), s.dir+string(filepath.Separator), "")
}

// task is what a client does in one phase of a run.
type task struct {
	client *client
	run    func()
}

// runPhase runs the tasks concurrently under the chooser and returns when
// all have finished. A deadlock or a stalled client ends the run with an
// error that describes it; the trace so far stays in s.events.
func (s *sched) runPhase(tasks []task) (err error) {
	if s.aborted {
		return errAborted
	}
	defer func() {
		// A chooser may panic (rapid stops a test case that way): release
		// the parked clients first, so no goroutine is left waiting.
		if p := recover(); p != nil {
			s.abort(errAborted)
			panic(p)
		}
	}()
	// Start the clients one at a time and let each run to its first
	// scheduling point: nothing a client does before its first file-system
	// call is visible to another, so this order loses no interleaving.
	for _, t := range tasks {
		c, run := t.client, t.run
		c.active = true
		s.running = c.id
		go func() {
			defer func() {
				if p := recover(); p != nil {
					// A panic in a store is a finding, not a crash of
					// the checker: the task records it as a failed
					// operation before re-panicking, so here it only
					// has to end the task.
					_ = p
				}
				select {
				case s.msgs <- message{client: c.id}:
				case <-s.gone: // the run was abandoned: nobody listens
				}
			}()
			run()
		}()
		if err := s.await(c); err != nil {
			return err
		}
	}
	for {
		var parked, enabled []int
		for _, c := range s.clients {
			if !c.active {
				continue
			}
			parked = append(parked, c.id)
			if s.enabled(c) {
				enabled = append(enabled, c.id)
			}
		}
		if len(parked) == 0 {
			return nil
		}
		if len(enabled) == 0 {
			return s.abort(&DeadlockError{Waits: s.waits(parked)})
		}
		next, err := s.pick(enabled)
		if err != nil {
			return s.abort(err)
		}
		c := s.clients[next]
		req := c.parked
		c.parked = nil
		if req.call == CallLock {
			s.acquire(c.id, req)
		}
		s.last, s.running = c.id, c.id
		c.resume <- true
		if err := s.await(c); err != nil {
			return err
		}
	}
}

// await waits until the running client c parks again or finishes.
func (s *sched) await(c *client) error {
	// One timer per run, reset at every step: a step is a few
	// microseconds, and a new timer each time would cost more than it.
	if s.timer == nil {
		s.timer = time.NewTimer(s.stall)
	} else {
		s.timer.Reset(s.stall)
	}
	timer := s.timer
	defer timer.Stop()
	select {
	case m := <-s.msgs:
		if m.client != c.id {
			// Only c runs; a message from another client means a
			// client was running outside the scheduler's control.
			return s.abort(fmt.Errorf("explore: %s moved while %s was running: a store instance shares goroutines or state outside the file-system seam", clientName(m.client), clientName(c.id)))
		}
		if m.req == nil {
			c.active = false
		} else {
			c.parked = m.req
		}
		return nil
	case <-timer.C:
		s.locked(func() { s.abandoned = true })
		return s.abort(&StallError{Client: c.id, After: s.stall})
	}
}

func (s *sched) enabled(c *client) bool {
	r := c.parked
	return r.call != CallLock || s.locks[r.lockKey].free(r.shared)
}

// pick chooses the next client among enabled (sorted).
func (s *sched) pick(enabled []int) (int, error) {
	continuing := false
	for _, id := range enabled {
		if id == s.last {
			continuing = true
		}
	}
	if continuing && s.clients[s.last].parked.call.local() {
		return s.last, nil
	}
	if len(enabled) == 1 {
		return enabled[0], nil
	}
	options := enabled
	if continuing {
		options = make([]int, 0, len(enabled))
		options = append(options, s.last)
		for _, id := range enabled {
			if id != s.last {
				options = append(options, id)
			}
		}
	}
	s.choices++
	return s.chooser.choose(options, continuing)
}

func (s *sched) acquire(id int, r *request) {
	l := s.locks[r.lockKey]
	if l == nil {
		l = &lockState{writer: -1, readers: map[int]int{}}
		s.locks[r.lockKey] = l
	}
	if r.shared {
		l.readers[id]++
	} else {
		l.writer = id
	}
}

func (s *sched) release(id int, key string, shared bool) {
	l := s.locks[key]
	if l == nil {
		return
	}
	if shared {
		if l.readers[id]--; l.readers[id] <= 0 {
			delete(l.readers, id)
		}
	} else if l.writer == id {
		l.writer = -1
	}
}

// waits describes who waits for which lock held by whom.
func (s *sched) waits(parked []int) []string {
	var out []string
	for _, id := range parked {
		r := s.clients[id].parked
		l := s.locks[r.lockKey]
		var holders []string
		if l.writer >= 0 {
			holders = append(holders, clientName(l.writer))
		}
		if !r.shared {
			var rs []int
			for h := range l.readers {
				rs = append(rs, h)
			}
			sort.Ints(rs)
			for _, h := range rs {
				holders = append(holders, clientName(h)+" (shared)")
			}
		}
		out = append(out, fmt.Sprintf("%s waits for %s held by %s", clientName(id), r.lockKey, strings.Join(holders, ", ")))
	}
	return out
}

// abort abandons the run: every parked client is released with the news, so
// its call fails with errAborted and the store unwinds; a client that never
// parks again is left behind (it is stuck outside the seam).
func (s *sched) abort(err error) error {
	s.aborted = true
	defer func() {
		// abort may run inside abort (a client stalls while being
		// released): close once.
		select {
		case <-s.gone:
		default:
			close(s.gone)
		}
	}()
	deadline := time.Now().Add(s.stall)
	for {
		var waiting []*client
		for _, c := range s.clients {
			if c.active && c.parked != nil {
				waiting = append(waiting, c)
			}
		}
		if len(waiting) == 0 {
			return err
		}
		for _, c := range waiting {
			c.parked = nil
			s.running = c.id
			c.resume <- false
			if time.Now().After(deadline) || s.await(c) != nil {
				return err
			}
		}
	}
}

// DeadlockError reports that every unfinished client waits for a lock.
type DeadlockError struct {
	Waits []string
}

func (e *DeadlockError) Error() string {
	return "deadlock: " + strings.Join(e.Waits, "; ")
}

// StallError reports a client that neither finished nor reached another
// file-system call in time: it blocks on something the scheduler cannot see
// (a mutex or channel shared outside the seam) or loops forever.
type StallError struct {
	Client int
	After  time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s made no file-system call and did not finish within %v: it blocks or spins outside the file-system seam", clientName(e.Client), e.After)
}

// clientFS is one client's view of the file system: every call parks first.
type clientFS struct{ c *client }

var _ seam.FS = clientFS{}

func (f clientFS) OpenFile(name string, flag int, perm fs.FileMode) (seam.File, error) {
	c := f.c
	if !c.point(request{call: CallOpen}) {
		return nil, errAborted
	}
	file, err := c.fs.OpenFile(name, flag, perm)
	c.record(Event{Call: CallOpen, Path: c.s.rel(name), Flag: flag}, err)
	if err != nil {
		return nil, err
	}
	return &clientFile{c: c, f: file, path: c.s.rel(name)}, nil
}

func (f clientFS) Rename(oldpath, newpath string) error {
	c := f.c
	if !c.point(request{call: CallRename}) {
		return errAborted
	}
	err := c.fs.Rename(oldpath, newpath)
	c.record(Event{Call: CallRename, Path: c.s.rel(oldpath), Path2: c.s.rel(newpath)}, err)
	return err
}

func (f clientFS) RenameNoReplace(oldpath, newpath string) error {
	c := f.c
	if !c.point(request{call: CallRenameNoReplace}) {
		return errAborted
	}
	err := c.fs.RenameNoReplace(oldpath, newpath)
	c.record(Event{Call: CallRenameNoReplace, Path: c.s.rel(oldpath), Path2: c.s.rel(newpath)}, err)
	return err
}

func (f clientFS) Remove(name string) error {
	c := f.c
	if !c.point(request{call: CallRemove}) {
		return errAborted
	}
	err := c.fs.Remove(name)
	c.record(Event{Call: CallRemove, Path: c.s.rel(name)}, err)
	return err
}

func (f clientFS) ReadDir(name string) ([]string, error) {
	c := f.c
	if !c.point(request{call: CallReadDir}) {
		return nil, errAborted
	}
	names, err := c.fs.ReadDir(name)
	e := Event{Call: CallReadDir, Path: c.s.rel(name)}
	if err == nil {
		e.Result = "[" + strings.Join(names, " ") + "]"
	}
	c.record(e, err)
	return names, err
}

func (f clientFS) Lstat(name string) (fs.FileInfo, error) {
	c := f.c
	if !c.point(request{call: CallLstat}) {
		return nil, errAborted
	}
	fi, err := c.fs.Lstat(name)
	e := Event{Call: CallLstat, Path: c.s.rel(name)}
	if err == nil {
		e.Result = fmt.Sprintf("%d bytes", fi.Size())
	}
	c.record(e, err)
	return fi, err
}

// Lock parks until the scheduler grants the lock, which it does only when
// the lock is free, so the file system's own lock never blocks. A file lock
// is one lock for every client; an in-process lock is one per client,
// because every client is a separate process.
func (f clientFS) Lock(name string, kind seam.LockKind) (func() error, error) {
	c := f.c
	key := "file lock " + c.s.rel(name)
	if kind != seam.FileLock {
		key = fmt.Sprintf("%s's process lock %s", clientName(c.id), name)
	}
	shared := kind == seam.ProcessSharedLock
	if !c.point(request{call: CallLock, lockKey: key, shared: shared}) {
		return nil, errAborted
	}
	// The scheduler marked the lock held when it picked this client.
	var under func() error
	var err error
	if kind == seam.FileLock {
		// Take the file system's lock too: it may create the lock file,
		// which other calls can see. It is free, so this cannot block.
		under, err = c.fs.Lock(name, kind)
	}
	c.record(Event{Call: CallLock, Path: c.s.rel(name), Lock: kind}, err)
	if err != nil {
		c.s.release(c.id, key, shared)
		return nil, err
	}
	released := false
	return func() error {
		if released {
			return fmt.Errorf("explore: %s unlocked %s twice", clientName(c.id), key)
		}
		if !c.point(request{call: CallUnlock}) {
			return errAborted
		}
		released = true
		var err error
		if under != nil {
			err = under()
		}
		c.s.release(c.id, key, shared)
		c.record(Event{Call: CallUnlock, Path: c.s.rel(name), Lock: kind}, err)
		return err
	}, nil
}

// clientFile is an open file whose every call is a scheduling point.
type clientFile struct {
	c    *client
	f    seam.File
	path string
}

func (f *clientFile) Read(p []byte) (int, error) {
	c := f.c
	if !c.point(request{call: CallRead}) {
		return 0, errAborted
	}
	n, err := f.f.Read(p)
	e := Event{Call: CallRead, Path: f.path, Result: fmt.Sprintf("%d bytes", n)}
	if err == io.EOF {
		e.Result += ", EOF"
		err = nil
		c.record(e, nil)
		return n, io.EOF
	}
	c.record(e, err)
	return n, err
}

func (f *clientFile) Write(p []byte) (int, error) {
	c := f.c
	if !c.point(request{call: CallWrite}) {
		return 0, errAborted
	}
	n, err := f.f.Write(p)
	c.record(Event{Call: CallWrite, Path: f.path, Result: fmt.Sprintf("%d bytes", n)}, err)
	return n, err
}

func (f *clientFile) Sync() error {
	c := f.c
	if !c.point(request{call: CallSync}) {
		return errAborted
	}
	err := f.f.Sync()
	c.record(Event{Call: CallSync, Path: f.path}, err)
	return err
}

func (f *clientFile) Close() error {
	c := f.c
	if !c.point(request{call: CallClose}) {
		// Still release the descriptor: an abandoned run must not leak.
		_ = f.f.Close()
		return errAborted
	}
	err := f.f.Close()
	c.record(Event{Call: CallClose, Path: f.path}, err)
	return err
}

// panicError turns a recovered panic into an error with its stack.
func panicError(p any) error {
	return fmt.Errorf("panic: %v\n%s", p, debug.Stack())
}
