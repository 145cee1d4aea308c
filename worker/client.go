package worker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// ErrUnknownOutcome marks an operation whose outcome the driver cannot know:
// the worker did not answer in time, exited, or wrote something that is not
// a response. The worker has been killed; the operation may or may not have
// taken effect. Start a new worker to go on.
var ErrUnknownOutcome = errors.New("worker: outcome unknown")

// ErrHung marks, beside ErrUnknownOutcome, an operation the worker gave no
// answer to in time: the worker hung (or deadlocked) and was killed. An
// unknown outcome without it is a worker that broke the protocol: it
// exited, or wrote something that is not the response.
var ErrHung = errors.New("worker: no answer in time")

// closeGrace is the least time a worker gets to exit after its stdin closes
// (a worker built with the race detector takes a while to exit).
const closeGrace = 5 * time.Second

// pipeGrace is how long the driver goes on reading a worker's stdout and
// stderr after its process group is dead. The pipes then close at once,
// unless a process that left the group (setsid, a daemon) still holds
// them: such a process must not keep the driver waiting, so reading stops.
const pipeGrace = time.Second

// DefaultTimeout is the per-request deadline when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options tune Start.
type Options struct {
	// Timeout is the deadline of every request (the hello gets at least
	// DefaultTimeout, for the process to start). A worker that misses it is
	// killed.
	Timeout time.Duration
	// HelloTimeout, if not zero, is the hello's deadline instead.
	HelloTimeout time.Duration
	// Version is the highest protocol version the hello offers; 0 means
	// Version. Offer 2 for the scheduling hook (see Send).
	Version int
	// Env, if not nil, is the worker's environment (as exec.Cmd.Env).
	Env []string
	// Dir is the worker's working directory (empty: the driver's).
	Dir string
}

// Hello is what a worker said about itself.
type Hello struct {
	Name     string
	Version  int
	Ops      []string
	Features []string
	// Granularity, ExistsMeaning and RemovedKeys are the optional
	// declarations for the observable profile, as the worker sent them.
	Granularity, ExistsMeaning, RemovedKeys string
}

// Declare fills in p with what the hello declares (model.ProfileDeclarer).
// A declaration that does not parse is left out: the store is then judged
// exactly on it, which can only make a difference a violation.
func (h Hello) Declare(p model.Profile) model.Profile {
	if d, err := time.ParseDuration(h.Granularity); err == nil && d > 0 {
		p.Granularity = d
	}
	p.ExistsStored = p.ExistsStored || h.ExistsMeaning == "stat"
	p.RemovedUnreported = p.RemovedUnreported || h.RemovedKeys == "unreported"
	return p
}

// Supports reports whether the worker declared the store operation op.
func (h Hello) Supports(op model.Kind) bool { return slices.Contains(h.Ops, op.String()) }

// Has reports whether the worker declared the feature.
func (h Hello) Has(feature string) bool { return slices.Contains(h.Features, feature) }

// Client is the driver's side of one worker process. Its request methods
// are not safe for concurrent use: a client runs one request at a time,
// which is what makes it one sequential client of a history. Kill and
// Close may be called from any goroutine, and end a request that another
// goroutine is waiting on.
type Client struct {
	Hello Hello

	argv    []string
	timeout time.Duration
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stdout  *os.File       // our end of the worker's stdout
	errPipe *os.File       // our end of the worker's stderr
	lines   chan lineOrErr // the worker's stdout; closed when the reader stops
	quit    chan struct{}  // closed by Kill and Close: nobody reads lines any more
	exited  chan struct{}  // closed once the process has exited and been reaped
	readers sync.WaitGroup // the stdout and stderr readers
	stderr  *tailBuffer
	stopped sync.Once

	mu      sync.Mutex
	nextID  int64
	dead    error // set once the worker is killed, gone or closed
	waitErr error // how the process exited, once exited is closed
	reaping bool  // the leader is about to be reaped: its pid may be reused
}

type lineOrErr struct {
	line []byte
	err  error
}

// Start runs the worker command argv and performs the hello exchange. The
// error says what went wrong, with the worker's stderr when it has any.
func Start(argv []string, opts Options) (*Client, error) {
	if len(argv) == 0 {
		return nil, errors.New("worker: empty command")
	}
	c := &Client{argv: slices.Clone(argv), timeout: opts.Timeout, stderr: &tailBuffer{max: 8 << 10}}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	version := opts.Version
	if version <= 0 {
		version = Version
	}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = opts.Env
	c.cmd.Dir = opts.Dir
	c.cmd.SysProcAttr = groupAttr()
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("worker %q: %w", argv[0], err)
	}
	// Our own pipes rather than StdoutPipe and a Writer for stderr: with
	// those, Wait waits for the pipes to close, which a child of the
	// worker that inherited them can put off forever.
	var outW, errW *os.File
	if c.stdout, outW, err = os.Pipe(); err != nil {
		return nil, fmt.Errorf("worker %q: %w", argv[0], err)
	}
	if c.errPipe, errW, err = os.Pipe(); err != nil {
		c.stdout.Close()
		outW.Close()
		return nil, fmt.Errorf("worker %q: %w", argv[0], err)
	}
	c.cmd.Stdout, c.cmd.Stderr = outW, errW
	err = c.cmd.Start()
	outW.Close() // the worker has its copies
	errW.Close()
	if err != nil {
		c.stdout.Close()
		c.errPipe.Close()
		return nil, fmt.Errorf("worker %q: %w", argv[0], err)
	}
	// Buffered, so that the reader can hand over the end of the stream
	// while nobody is reading.
	c.lines = make(chan lineOrErr, 16)
	c.quit = make(chan struct{})
	c.exited = make(chan struct{})
	c.readers.Add(2)
	go c.readLoop(c.stdout)
	go func() {
		defer c.readers.Done()
		_, _ = io.Copy(c.stderr, c.errPipe)
	}()
	go c.waitLoop()
	// Starting a process (a Python interpreter, a binary built with -race
	// on a loaded machine) takes longer than an operation should: the hello
	// gets at least DefaultTimeout, so a short per-operation deadline does
	// not turn a slow start into a dead worker.
	helloTimeout := max(c.timeout, DefaultTimeout)
	if opts.HelloTimeout > 0 {
		helloTimeout = opts.HelloTimeout
	}
	resp, err := c.roundTrip(Request{Op: OpHello, Version: version}, helloTimeout)
	if err != nil {
		c.Kill()
		return nil, fmt.Errorf("worker %q: hello: %w", argv[0], err)
	}
	if resp.Error != "" {
		c.Kill()
		return nil, fmt.Errorf("worker %q: hello refused: %s", argv[0], resp.Error)
	}
	if resp.Protocol != Protocol {
		c.Kill()
		return nil, fmt.Errorf("worker %q: hello: protocol %q, want %q", argv[0], resp.Protocol, Protocol)
	}
	if resp.Version < 1 || resp.Version > version {
		c.Kill()
		return nil, fmt.Errorf("worker %q: hello: version %d, this driver speaks 1 to %d", argv[0], resp.Version, version)
	}
	c.Hello = Hello{Name: resp.Name, Version: resp.Version, Ops: resp.Ops, Features: resp.Features,
		Granularity: resp.Granularity, ExistsMeaning: resp.ExistsMeaning, RemovedKeys: resp.RemovedKeys}
	for _, op := range []model.Kind{model.OpCreate, model.OpLoad, model.OpDelete} {
		if !c.Hello.Supports(op) {
			c.Kill()
			return nil, fmt.Errorf("worker %q (%s): hello: does not declare the required op %q", argv[0], resp.Name, op)
		}
	}
	return c, nil
}

// waitLoop waits for the worker to exit, kills what is left of its process
// group (so that no child of it survives it), reaps it, and then gives the
// readers pipeGrace to finish before it closes the pipes under them.
func (c *Client) waitLoop() {
	pid := c.cmd.Process.Pid
	waited := awaitExit(pid)
	c.mu.Lock()
	if waited {
		killGroup(pid) // the leader is a zombie: pid is still the group's
	}
	c.reaping = true
	c.mu.Unlock()
	err := c.cmd.Wait()
	if !waited {
		killGroup(pid)
	}
	c.mu.Lock()
	c.waitErr = err
	c.mu.Unlock()
	close(c.exited)
	done := make(chan struct{})
	go func() { c.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(pipeGrace):
	}
	// Closing unblocks a read that a process outside the group keeps
	// waiting (os.Pipe files are pollable).
	_ = c.stdout.Close()
	_ = c.errPipe.Close()
}

// readLoop hands the worker's stdout over line by line until it ends or
// the client stops reading.
func (c *Client) readLoop(stdout io.Reader) {
	defer func() {
		close(c.lines)
		c.readers.Done()
	}()
	br := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, tooLong, err := readLine(br)
		var msg lineOrErr
		switch {
		case tooLong:
			msg.err = fmt.Errorf("a line longer than %d bytes", MaxLine)
		case len(line) > 0 && err == nil:
			msg.line = line
		case err == nil || err == io.EOF:
			msg.err = errors.New("worker closed its stdout (exited)")
		default:
			msg.err = err
		}
		select {
		case c.lines <- msg:
		case <-c.quit:
			return // nobody will read it: the worker is gone
		}
		if msg.err != nil {
			return
		}
	}
}

// recv waits for the next line, for at most timeout when it is not zero.
func (c *Client) recv(timeout time.Duration) ([]byte, error) {
	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	select {
	case l, ok := <-c.lines:
		if !ok {
			return nil, c.deadOr(errors.New("worker closed its stdout (exited)"))
		}
		return l.line, l.err
	case <-c.quit:
		return nil, c.deadOr(errors.New("the worker was killed"))
	case <-expired:
		return nil, fmt.Errorf("%w: no response within %v", ErrHung, timeout)
	}
}

// deadOr returns why the client is dead, or err if it is not.
func (c *Client) deadOr(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead != nil {
		return c.dead
	}
	return err
}

// Open sends an open request. A refusal is an error naming the reason.
func (c *Client) Open(cfg Config) error {
	resp, err := c.roundTrip(Request{Op: OpOpen, Dir: cfg.Dir, Now: FormatTime(cfg.Now), Secret: cfg.Secret, Keys: cfg.Keys}, c.timeout)
	if err != nil {
		return err
	}
	if resp.Error != "" {
		return fmt.Errorf("worker %s: %s", c.Hello.Name, resp.Error)
	}
	return nil
}

// Do sends one request and waits for its response until the timeout. An
// error wrapping ErrUnknownOutcome means the worker was killed.
func (c *Client) Do(req Request) (Response, error) { return c.roundTrip(req, c.timeout) }

// roundTrip sends req and waits up to timeout for its response.
func (c *Client) roundTrip(req Request, timeout time.Duration) (Response, error) {
	id, err := c.Send(req)
	if err != nil {
		if c.deadOr(nil) == nil {
			err = c.fail(fmt.Errorf("writing request: %v", err))
		}
		return Response{}, err
	}
	line, err := c.recv(timeout)
	if err != nil {
		return Response{}, c.fail(err)
	}
	var resp Response
	if err := decodeResponse(line, &resp); err != nil {
		return Response{}, c.fail(err)
	}
	if resp.ID == nil || *resp.ID != id {
		got := "null"
		if resp.ID != nil {
			got = fmt.Sprint(*resp.ID)
		}
		if resp.Error != "" {
			return Response{}, c.fail(fmt.Errorf("response id %s, want %d: error %q", got, id, resp.Error))
		}
		return Response{}, c.fail(fmt.Errorf("response id %s, want %d", got, id))
	}
	return resp, nil
}

// fail kills the worker and returns the error every later call gets.
func (c *Client) fail(cause error) error {
	c.Kill()
	msg := strings.TrimSpace(c.stderr.String())
	if msg != "" {
		msg = "; its stderr ends: " + msg
	}
	var dead error
	if errors.Is(cause, ErrHung) {
		dead = fmt.Errorf("%w: worker %q: %w%s", ErrUnknownOutcome, c.argv[0], cause, msg)
	} else {
		dead = fmt.Errorf("%w: worker %q: %v%s", ErrUnknownOutcome, c.argv[0], cause, msg)
	}
	c.mu.Lock()
	c.dead = dead
	c.mu.Unlock()
	return dead
}

// Kill stops the worker at once. It is safe to call more than once, and
// from any goroutine.
func (c *Client) Kill() {
	c.mu.Lock()
	if c.dead == nil {
		c.dead = fmt.Errorf("%w: worker %q was killed", ErrUnknownOutcome, c.argv[0])
	}
	c.mu.Unlock()
	c.stop()
	c.killGroup()
	_ = c.stdin.Close()
	// A killed process is reaped at once, unless it cannot die (stuck in
	// the kernel): do not wait for that forever.
	select {
	case <-c.exited:
	case <-time.After(closeGrace):
	}
}

// killGroup kills the worker's process group, unless the worker is being
// reaped (the group was killed then, and its id may be reused after).
func (c *Client) killGroup() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.reaping {
		killGroup(c.cmd.Process.Pid)
	}
}

func (c *Client) stop() { c.stopped.Do(func() { close(c.quit) }) }

// Close ends the worker politely: closes its stdin and waits up to the
// timeout for it to exit, then kills it. The error reports an unclean exit
// of a worker that was not killed.
func (c *Client) Close() error {
	c.mu.Lock()
	wasDead := c.dead != nil
	if !wasDead {
		c.dead = errors.New("worker: closed")
	}
	c.mu.Unlock()
	_ = c.stdin.Close()
	c.stop()
	grace := max(c.timeout, closeGrace)
	select {
	case <-c.exited:
	case <-time.After(grace):
		c.killGroup()
		select {
		case <-c.exited:
		case <-time.After(closeGrace):
		}
		return fmt.Errorf("worker %q did not exit within %v of its stdin closing", c.argv[0], grace)
	}
	c.mu.Lock()
	err := c.waitErr
	c.mu.Unlock()
	if err != nil && !wasDead {
		return fmt.Errorf("worker %q: %v; stderr: %s", c.argv[0], err, strings.TrimSpace(c.stderr.String()))
	}
	return nil
}

// Stderr returns the last few KiB the worker wrote to stderr.
func (c *Client) Stderr() string { return c.stderr.String() }

// Pid is the worker's process id.
func (c *Client) Pid() int { return c.cmd.Process.Pid }

// Exited is closed once the worker process has exited and been reaped,
// however it ended.
func (c *Client) Exited() <-chan struct{} { return c.exited }

func decodeResponse(line []byte, resp *Response) error {
	if err := json.Unmarshal(line, resp); err != nil {
		return fmt.Errorf("bad response line %q: %v", truncate(string(line), 200), err)
	}
	if resp.Error == "" && resp.Outcome == "" {
		return fmt.Errorf("bad response line %q: neither outcome nor error", truncate(string(line), 200))
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
