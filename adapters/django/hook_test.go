package django

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/worker"
)

// hooked is one worker process driven through the version 2 scheduling
// hook (docs/PROTOCOL.md, "Scheduling hook"): the worker announces each
// file-system call and makes it only when the driver says go. The
// linearizability driver does not speak version 2 yet, so this small
// driver does, for the deterministic schedules of FINDINGS.md.
type hooked struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	nextID int64
}

// fsEvent is an announced file-system call.
type fsEvent struct {
	Event string   `json:"event"`
	ID    int64    `json:"id"`
	Seq   int      `json:"seq"`
	Call  string   `json:"call"`
	Path  string   `json:"path"`
	Path2 string   `json:"path2"`
	Flags []string `json:"flags"`
}

func (e fsEvent) String() string {
	s := e.Call + " " + e.Path
	if e.Path2 != "" {
		s += " -> " + e.Path2
	}
	if len(e.Flags) > 0 {
		s += " " + strings.Join(e.Flags, "|")
	}
	return s
}

// line is an event (Event set) or a response.
type line struct {
	Event    fsEvent
	Response worker.Response
}

func startHooked(t *testing.T, name string, argv []string, dir string, now time.Time) *hooked {
	t.Helper()
	h := &hooked{t: t, name: name, cmd: exec.Command(argv[0], argv[1:]...), lines: make(chan string, 16)}
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	h.cmd.Stderr = &stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		h.stdin.Close()
		if err := h.cmd.Wait(); err != nil {
			t.Errorf("worker %s: %v; stderr: %s", name, err, stderr.String())
		}
	})
	resp := h.call(map[string]any{"op": "hello", "version": 2})
	if !strings.Contains(strings.Join(resp.Features, ","), "schedule") {
		t.Fatalf("worker %s does not declare the schedule feature: %+v", name, resp)
	}
	h.call(map[string]any{"op": "open", "dir": dir, "now": worker.FormatTime(now), "secret": "s", "schedule": true})
	return h
}

func (h *hooked) next() line {
	h.t.Helper()
	select {
	case s, ok := <-h.lines:
		if !ok {
			h.t.Fatalf("worker %s closed its stdout", h.name)
		}
		var l line
		err := json.Unmarshal([]byte(s), &l.Event)
		if err == nil && l.Event.Event == "" {
			err = json.Unmarshal([]byte(s), &l.Response)
		}
		if err != nil {
			h.t.Fatalf("worker %s: bad line %q: %v", h.name, s, err)
		}
		if l.Response.Error != "" {
			h.t.Fatalf("worker %s: error response: %s", h.name, l.Response.Error)
		}
		return l
	case <-time.After(20 * time.Second):
		h.t.Fatalf("worker %s: no line within 20 s", h.name)
	}
	panic("unreachable")
}

func (h *hooked) send(req map[string]any) {
	h.t.Helper()
	if req["op"] != "go" { // a go-ahead is not a request: it has no id
		h.nextID++
		req["id"] = h.nextID
	}
	b, _ := json.Marshal(req)
	if _, err := h.stdin.Write(append(b, '\n')); err != nil {
		h.t.Fatalf("worker %s: %v", h.name, err)
	}
}

// runUntil lets the request in flight run, granting every call, until the
// worker announces a call for which stop is true (returned, not granted)
// or answers (returned as the response). trace gets every granted call.
func (h *hooked) runUntil(stop func(fsEvent) bool, trace *[]string) (*fsEvent, *worker.Response) {
	h.t.Helper()
	for {
		l := h.next()
		if l.Event.Event == "" {
			r := l.Response
			return nil, &r
		}
		if stop != nil && stop(l.Event) {
			e := l.Event
			return &e, nil
		}
		h.grant(l.Event, trace)
	}
}

func (h *hooked) grant(e fsEvent, trace *[]string) {
	h.t.Helper()
	if trace != nil {
		*trace = append(*trace, fmt.Sprintf("%s: %s", h.name, e))
	}
	h.send(map[string]any{"op": "go", "seq": e.Seq})
}

// call runs one request to its response, granting every call.
func (h *hooked) call(req map[string]any) worker.Response {
	h.t.Helper()
	h.send(req)
	_, r := h.runUntil(nil, nil)
	return *r
}
