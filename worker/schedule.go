package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The driver's side of the scheduling hook of protocol version 2
// (docs/PROTOCOL.md, "Scheduling hook"): a worker that declares
// FeatureSchedule and is opened with Request.Schedule announces every
// file-system call it is about to make with an event line, and waits for a
// go-ahead before making it. A request then has any number of event lines
// before its response, so it is not a round trip: Send writes it, Next
// returns each line that follows, GoAhead lets an announced call proceed.
// Next has no deadline (a scheduler decides how long a client may take,
// and ends a run by Kill from another goroutine), and a failure does not
// kill the worker: the caller decides.
//
// The client must be started with Options.Version 2 for a worker to speak
// the hook.

// EventFS is the Event.Event of an announced file-system call.
const EventFS = "fs"

// Event is an event line: the worker is about to make a file-system call
// while it serves request ID, and waits for GoAhead(Seq).
type Event struct {
	Event string   `json:"event"` // EventFS
	ID    *int64   `json:"id"`    // the request being served
	Seq   int64    `json:"seq"`   // counts this worker's events from 1
	Call  string   `json:"call"`  // open, read, write, fsync, close, rename, unlink, lock, unlock, ...
	Path  string   `json:"path,omitempty"`
	Path2 string   `json:"path2,omitempty"` // two-name calls: the second name
	Flags []string `json:"flags,omitempty"` // open: O_* names or a Python mode; lock: LOCK_SH or shared
}

// Line is one line a worker wrote while serving a request under the
// scheduling hook: an event or the response. Exactly one of Event and
// Response is set.
type Line struct {
	Event    *Event
	Response *Response
	Text     []byte // the line as read
}

// String returns the line as read, cut to 200 bytes, for messages.
func (l Line) String() string { return truncate(string(l.Text), 200) }

// Send writes req with the next id and returns the id, without waiting for
// anything. A write that fails because the worker exited says so.
func (c *Client) Send(req Request) (int64, error) {
	c.mu.Lock()
	if c.dead != nil {
		defer c.mu.Unlock()
		return 0, c.dead
	}
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	req.ID = &id
	line, err := Encode(req)
	if err != nil {
		return 0, fmt.Errorf("worker: encoding request: %w", err)
	}
	if _, err := c.stdin.Write(line); err != nil {
		return 0, c.writeErr(err)
	}
	return id, nil
}

// GoAhead lets the call the worker announced with seq proceed.
func (c *Client) GoAhead(seq int64) error {
	line, err := Encode(struct {
		Op  string `json:"op"`
		Seq int64  `json:"seq"`
	}{"go", seq})
	if err == nil {
		_, err = c.stdin.Write(line)
	}
	if err != nil {
		return c.writeErr(err)
	}
	return nil
}

// Next returns the next line the worker writes, skipping blank ones, and
// waits as long as it takes: until a line comes, the worker's stdout ends
// or the client is killed. A line that is not JSON is an error.
func (c *Client) Next() (Line, error) {
	for {
		text, err := c.recv(0)
		if err != nil {
			return Line{}, err
		}
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		l := Line{Text: text}
		var ev Event
		if err := json.Unmarshal(text, &ev); err != nil {
			return l, fmt.Errorf("bad line %q: %v", l, err)
		}
		if ev.Event != "" {
			l.Event = &ev
			return l, nil
		}
		var resp Response
		if err := json.Unmarshal(text, &resp); err != nil {
			return l, fmt.Errorf("bad response %q: %v", l, err)
		}
		l.Response = &resp
		return l, nil
	}
}

// writeErr explains a failed write to the worker: usually, that it exited.
func (c *Client) writeErr(err error) error {
	select {
	case <-c.exited:
	case <-time.After(time.Second):
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waitErr != nil {
		return fmt.Errorf("the worker exited (%v)", c.waitErr)
	}
	return errors.New("the worker exited")
}
