package worker

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// closeGrace is the least time a worker gets to exit after its stdin closes
// (a worker built with the race detector takes a while to exit).
const closeGrace = 5 * time.Second

// DefaultTimeout is the per-request deadline when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options tune Start.
type Options struct {
	// Timeout is the deadline of every request (the hello gets at least
	// DefaultTimeout, for the process to start). A worker that misses it is
	// killed.
	Timeout time.Duration
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
}

// Supports reports whether the worker declared the store operation op.
func (h Hello) Supports(op model.Kind) bool { return slices.Contains(h.Ops, op.String()) }

// Has reports whether the worker declared the feature.
func (h Hello) Has(feature string) bool { return slices.Contains(h.Features, feature) }

// Client is the driver's side of one worker process. Its methods are not
// safe for concurrent use: a client runs one request at a time, which is
// what makes it one sequential client of a history.
type Client struct {
	Hello Hello

	argv    []string
	timeout time.Duration
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan lineOrErr
	stderr  *tailBuffer
	nextID  int64
	dead    error         // set once the worker is killed or gone
	done    chan struct{} // closed when the worker is killed or closed
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
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = opts.Env
	c.cmd.Dir = opts.Dir
	c.cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("worker %q: %w", argv[0], err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("worker %q: %w", argv[0], err)
	}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("worker %q: %w", argv[0], err)
	}
	c.lines = make(chan lineOrErr, 1)
	c.done = make(chan struct{})
	go c.readLoop(stdout)
	// Starting a process (a Python interpreter, a binary built with -race
	// on a loaded machine) takes longer than an operation should: the hello
	// gets at least DefaultTimeout, so a short per-operation deadline does
	// not turn a slow start into a dead worker.
	opTimeout := c.timeout
	c.timeout = max(c.timeout, DefaultTimeout)
	resp, err := c.roundTrip(Request{Op: OpHello, Version: Version})
	c.timeout = opTimeout
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
	if resp.Version < 1 || resp.Version > Version {
		c.Kill()
		return nil, fmt.Errorf("worker %q: hello: version %d, this driver speaks 1 to %d", argv[0], resp.Version, Version)
	}
	c.Hello = Hello{Name: resp.Name, Version: resp.Version, Ops: resp.Ops, Features: resp.Features}
	for _, op := range []model.Kind{model.OpCreate, model.OpLoad, model.OpDelete} {
		if !c.Hello.Supports(op) {
			c.Kill()
			return nil, fmt.Errorf("worker %q (%s): hello: does not declare the required op %q", argv[0], resp.Name, op)
		}
	}
	return c, nil
}

func (c *Client) readLoop(stdout io.Reader) {
	br := bufio.NewReaderSize(stdout, 64<<10)
	for {
		line, tooLong, err := readLine(br)
		var msg lineOrErr
		switch {
		case tooLong:
			msg.err = fmt.Errorf("response longer than %d bytes", MaxLine)
		case len(line) > 0 && err == nil:
			msg.line = line
		case err == nil || err == io.EOF:
			msg.err = errors.New("worker closed its stdout")
		default:
			msg.err = err
		}
		select {
		case c.lines <- msg:
		case <-c.done:
			return // nobody will read it: the worker is gone
		}
		if msg.err != nil {
			return
		}
	}
}

// Open sends an open request. A refusal is an error naming the reason.
func (c *Client) Open(cfg Config) error {
	resp, err := c.roundTrip(Request{Op: OpOpen, Dir: cfg.Dir, Now: FormatTime(cfg.Now), Secret: cfg.Secret, Keys: cfg.Keys})
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
func (c *Client) Do(req Request) (Response, error) { return c.roundTrip(req) }

func (c *Client) roundTrip(req Request) (Response, error) {
	if c.dead != nil {
		return Response{}, c.dead
	}
	c.nextID++
	id := c.nextID
	req.ID = &id
	line, err := Encode(req)
	if err != nil {
		return Response{}, fmt.Errorf("worker: encoding request: %w", err)
	}
	if _, err := c.stdin.Write(line); err != nil {
		return Response{}, c.fail(fmt.Errorf("writing request: %v", err))
	}
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case l := <-c.lines:
		if l.err != nil {
			return Response{}, c.fail(l.err)
		}
		var resp Response
		if err := decodeResponse(l.line, &resp); err != nil {
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
	case <-timer.C:
		return Response{}, c.fail(fmt.Errorf("no response within %v", c.timeout))
	}
}

// fail kills the worker and returns the error every later call gets.
func (c *Client) fail(cause error) error {
	c.Kill()
	msg := strings.TrimSpace(c.stderr.String())
	if msg != "" {
		msg = "; its stderr ends: " + msg
	}
	c.dead = fmt.Errorf("%w: worker %q: %v%s", ErrUnknownOutcome, c.argv[0], cause, msg)
	return c.dead
}

// Kill stops the worker at once. It is safe to call more than once.
func (c *Client) Kill() {
	c.stop()
	if c.cmd.Process != nil && c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
	}
	_ = c.wait()
	if c.dead == nil {
		c.dead = fmt.Errorf("%w: worker %q was killed", ErrUnknownOutcome, c.argv[0])
	}
}

func (c *Client) wait() error {
	if c.cmd.ProcessState != nil {
		return nil
	}
	_ = c.stdin.Close()
	return c.cmd.Wait()
}

func (c *Client) stop() {
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

// Close ends the worker politely: closes its stdin and waits up to the
// timeout for it to exit, then kills it. The error reports an unclean exit.
func (c *Client) Close() error {
	if c.cmd.ProcessState != nil {
		return nil
	}
	_ = c.stdin.Close()
	defer c.stop()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if c.dead == nil {
			c.dead = errors.New("worker: closed")
		}
		if err != nil {
			return fmt.Errorf("worker %q: %v; stderr: %s", c.argv[0], err, strings.TrimSpace(c.stderr.String()))
		}
		return nil
	case <-time.After(max(c.timeout, closeGrace)):
		_ = c.cmd.Process.Kill()
		<-done
		c.dead = errors.New("worker: closed")
		return fmt.Errorf("worker %q did not exit within %v of its stdin closing", c.argv[0], max(c.timeout, closeGrace))
	}
}

// Stderr returns the last few KiB the worker wrote to stderr.
func (c *Client) Stderr() string { return c.stderr.String() }

// Pid is the worker's process id.
func (c *Client) Pid() int { return c.cmd.Process.Pid }

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
