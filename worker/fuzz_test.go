package worker_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// The fuzz target here attacks the worker's stdin: whatever a driver (or a
// broken driver, or a stray process) writes, the worker must answer every
// line and keep serving.

// hostileStore is a correct in-memory store that panics, reports corruption
// or fails with an I/O error for three particular keys, so that fuzzed
// lines reach every way a store operation can end, a panic included.
type hostileStore struct{ model.Store }

const (
	panicKey   = "panicpanic"
	corruptKey = "corruptcorrupt"
	failKey    = "failfailfail"
)

func (h hostileStore) check(key string) error {
	switch key {
	case panicKey:
		panic("store panics on " + key)
	case corruptKey:
		return &model.CorruptError{Key: key, Reason: "planted by the fuzz harness"}
	case failKey:
		return &fs.PathError{Op: "write", Path: "s_" + key, Err: errors.New("no space left on device")}
	}
	return nil
}

func (h hostileStore) Load(key string) (model.Record, error) {
	if err := h.check(key); err != nil {
		return model.Record{}, err
	}
	return h.Store.Load(key)
}

func (h hostileStore) Save(key string, v model.Values, exp time.Time) error {
	if err := h.check(key); err != nil {
		return err
	}
	return h.Store.Save(key, v, exp)
}

func (h hostileStore) Touch(key string, exp time.Time) error {
	if err := h.check(key); err != nil {
		return err
	}
	return h.Store.Touch(key, exp)
}

func (h hostileStore) Delete(key string) error {
	if err := h.check(key); err != nil {
		return err
	}
	return h.Store.Delete(key)
}

func (h hostileStore) Exists(key string) (bool, error) {
	if err := h.check(key); err != nil {
		return false, err
	}
	return h.Store.Exists(key)
}

func (h hostileStore) Cycle(key string) (string, error) {
	if err := h.check(key); err != nil {
		return "", err
	}
	return h.Store.Cycle(key)
}

// openHostile opens a fresh hostile store; it ignores the directory, so no
// fuzzed path ever reaches the real file system.
func openHostile(cfg worker.Config) (model.Store, error) {
	if cfg.Now.IsZero() {
		return nil, errors.New("zero now")
	}
	now := cfg.Now
	return hostileStore{workertest.NewMem().NewStore(func() time.Time { return now }, nil, workertest.Correct)}, nil
}

// serveFunc is the shape of worker.Serve with the store fixed, so that the
// property can be run on broken servers.
type serveFunc func(r io.Reader, w io.Writer) error

func realServe(r io.Reader, w io.Writer) error {
	return worker.Serve(r, w, "fuzz/hostile", openHostile)
}

const (
	preludeLines = `{"id":1,"op":"hello","version":1}` + "\n" +
		`{"id":2,"op":"open","dir":"/nonexistent","now":"2026-01-02T15:04:05Z","secret":"s"}` + "\n"
	sentinelID = 4242424242
)

// sentinel is a request every worker must answer with ok in any state; it
// follows the fuzzed input to show the worker is still serving.
var sentinel = fmt.Sprintf(`{"id":%d,"op":"hello","version":1}`, sentinelID) + "\n"

// workerProblem feeds input to serve (after hello and open when opened), then
// a newline and the sentinel, and says how serve broke the protocol's rules
// for bad input, or returns "" when it kept them:
//   - serve neither panics nor returns an error (its reader and writer
//     cannot fail);
//   - every input line gets exactly one response line, in order;
//   - each response is a JSON object with an "id" and exactly one of
//     "error" and "outcome"; an outcome is a known one, and failed and
//     corrupt carry a message;
//   - a line that is not valid JSON gets an error response;
//   - a line that is a JSON object with an integer "id" gets it echoed;
//   - the sentinel is answered with ok: the worker survived.
func workerProblem(serve serveFunc, opened bool, input []byte) (problem string) {
	var in bytes.Buffer
	if opened {
		in.WriteString(preludeLines)
	}
	in.Write(input)
	in.WriteString("\n" + sentinel)
	stream := in.Bytes()
	var out bytes.Buffer
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panicked: %v", r)
			}
		}()
		return serve(bytes.NewReader(stream), &out)
	}()
	if err != nil {
		return fmt.Sprintf("worker died: %v", err)
	}
	var lines [][]byte
	for _, l := range bytes.SplitAfter(stream, []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	resps := bytes.SplitAfter(out.Bytes(), []byte("\n"))
	if n := len(resps); n > 0 && len(resps[n-1]) == 0 {
		resps = resps[:n-1]
	}
	if len(resps) != len(lines) {
		return fmt.Sprintf("%d lines in, %d responses out: %q", len(lines), len(resps), clip(out.Bytes()))
	}
	for i, r := range resps {
		if p := responseProblem(lines[i], r); p != "" {
			return fmt.Sprintf("line %d %q: %s", i+1, clip(lines[i]), p)
		}
	}
	var last worker.Response
	if err := json.Unmarshal(resps[len(resps)-1], &last); err != nil || last.ID == nil ||
		*last.ID != sentinelID || last.Outcome != "ok" || last.Protocol != worker.Protocol {
		return fmt.Sprintf("the request after the input got %q, want a hello ok", resps[len(resps)-1])
	}
	return ""
}

// clip shortens b for a message: a failing 16 MiB line must not become a
// 16 MiB report.
func clip(b []byte) []byte {
	const n = 300
	if len(b) <= n {
		return b
	}
	return append(b[:n:n], fmt.Sprintf("...(%d bytes)", len(b))...)
}

// responseProblem checks one response line against the request line it answers.
func responseProblem(line, resp []byte) string {
	if !bytes.HasSuffix(resp, []byte("\n")) {
		return fmt.Sprintf("response %q not ended by a newline", resp)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(resp, &fields); err != nil {
		return fmt.Sprintf("response %q is not a JSON object: %v", resp, err)
	}
	rawID, ok := fields["id"]
	if !ok {
		return fmt.Sprintf("response %q has no id", resp)
	}
	var r worker.Response
	if err := json.Unmarshal(resp, &r); err != nil {
		return fmt.Sprintf("response %q does not decode: %v", resp, err)
	}
	if (r.Error == "") == (r.Outcome == "") {
		return fmt.Sprintf("response %q must have exactly one of error and outcome", resp)
	}
	if r.Outcome != "" {
		o, known := worker.OutcomeOf(r.Outcome)
		if !known {
			return fmt.Sprintf("response %q has an unknown outcome", resp)
		}
		if (o == model.Failed || o == model.Corrupt) && r.Message == "" {
			return fmt.Sprintf("response %q: outcome %s without a message", resp, o)
		}
	}
	trimmed := bytes.TrimRight(line, "\r\n")
	if !json.Valid(trimmed) && r.Error == "" {
		return fmt.Sprintf("a line that is not JSON got %q, want an error response", resp)
	}
	var probe struct {
		ID *int64 `json:"id"`
	}
	// A line over MaxLine is discarded unread, so its id cannot be known.
	if len(line) <= worker.MaxLine && json.Unmarshal(trimmed, &probe) == nil && probe.ID != nil {
		if r.ID == nil || *r.ID != *probe.ID {
			return fmt.Sprintf("request id %d answered with id %s", *probe.ID, rawID)
		}
	}
	return ""
}

// workerSeeds are bad lines a worker meets: not JSON, not an object, wrong
// types, unknown ops, missing fields, hostile keys, requests out of order,
// and store operations that panic, fail or find corruption.
var workerSeeds = []struct {
	opened bool
	input  string
}{
	{false, ""},
	{false, "\n"},
	{false, "\r\n"},
	{false, "not json"},
	{false, "{"},
	{false, "[]"},
	{false, "null"},
	{false, `"hello"`},
	{false, `{}`},
	{false, `{"id":1}`},
	{false, `{"op":"hello"}`},
	{false, `{"id":"1","op":"hello","version":1}`},
	{false, `{"id":1.5,"op":"hello","version":1}`},
	{false, `{"id":1e400,"op":"hello"}`},
	{false, `{"id":-9223372036854775808,"op":"hello","version":1}`},
	{false, `{"id":1,"op":"hello","version":0}`},
	{false, `{"id":1,"op":"hello","version":99}`},
	{false, `{"id":1,"op":"load","key":"abcdefgh"}`},
	{false, `{"id":1,"op":"open","dir":"/tmp","now":"2026-01-02T15:04:05Z"}`},
	{false, `{"id":1,"op":"hello","version":1}` + "\n" + `{"id":2,"op":"open"}`},
	{false, `{"id":1,"op":"hello","version":1}` + "\n" + `{"id":2,"op":"open","dir":"/tmp","now":"yesterday"}`},
	{false, `{"id":1,"op":"hello","version":1}` + "\n" + `{"id":2,"op":"open","dir":"/tmp","now":"0001-01-01T00:00:00Z"}`},
	{true, `{"id":3,"op":"frobnicate"}`},
	{true, `{"id":3,"op":"load"}`},
	{true, `{"id":3,"op":"load","key":"../../../etc/passwd"}`},
	{true, `{"id":3,"op":"load","key":"abcdefgh\u0000"}`},
	{true, `{"id":3,"op":"load","key":"\xff\xfeabcdefgh"}`},
	{true, `{"id":3,"op":"load","key":12345678}`},
	{true, `{"id":3,"op":"create"}`},
	{true, `{"id":3,"op":"create","values":{"a":"1"},"expiry":"tomorrow"}`},
	{true, `{"id":3,"op":"create","values":{"a":1},"expiry":"2026-01-02T16:04:05Z"}`},
	{true, `{"id":3,"op":"create","values":[],"expiry":"2026-01-02T16:04:05Z"}`},
	{true, `{"id":3,"op":"create","values":{"a":"1"},"expiry":"2026-01-02T16:04:05Z"}` + "\n" + `{"id":4,"op":"clear-expired"}`},
	{true, `{"id":3,"op":"save","key":"abcdefgh","values":{"a":"1"},"expiry":"2026-01-02T16:04:05Z"}`},
	{true, `{"id":3,"op":"touch","key":"abcdefgh","expiry":"9999-12-31T23:59:59.999999999Z"}`},
	{true, `{"id":3,"op":"load","key":"` + panicKey + `"}`},
	{true, `{"id":3,"op":"cycle","key":"` + panicKey + `"}`},
	{true, `{"id":3,"op":"load","key":"` + corruptKey + `"}`},
	{true, `{"id":3,"op":"save","key":"` + failKey + `","values":{},"expiry":"2026-01-02T16:04:05Z"}`},
	{true, `{"id":3,"op":"exists","key":"abcdefgh"}{"id":4,"op":"exists","key":"abcdefgh"}`},
	{true, `{"id":3,"op":"delete","key":"abcdefgh","id":5}`},
	{true, `{"id":3,"op":"open","dir":"/tmp","now":"2026-01-02T15:04:05Z"}`},
	{true, `{"id":3,"op":"hello","version":1}` + "\r\n" + `{"id":4,"op":"go","seq":1}`},
	{true, `{"id":3,"op":"batch","repeat":1000000,"requests":[{"op":"load","key":"abcdefgh"}]}`},
	{true, "\x00\x00\x00\n\xef\xbb\xbf{\"id\":3,\"op\":\"hello\",\"version\":1}"},
	{true, strings.Repeat("[", 10000)},
	{true, `{"id":3,"op":"load","key":"` + strings.Repeat("a", 5000) + `"}`},
}

// FuzzWorkerLine checks that no input kills a worker serving a store: every
// line is answered, a bad one with an error response naming what was wrong,
// and the worker answers the next request.
func FuzzWorkerLine(f *testing.F) {
	for _, s := range workerSeeds {
		f.Add(s.opened, []byte(s.input))
	}
	f.Fuzz(func(t *testing.T, opened bool, input []byte) {
		if p := workerProblem(realServe, opened, input); p != "" {
			t.Fatalf("input %q (opened %v): %s", clip(input), opened, p)
		}
	})
}

// TestWorkerSurvivesOverlongLine sends a line longer than worker.MaxLine
// (a bufio.Scanner-based worker dies at 64 KiB) and requires an error
// response and service afterwards.
func TestWorkerSurvivesOverlongLine(t *testing.T) {
	long := []byte(`{"id":3,"op":"load","key":"` + strings.Repeat("a", worker.MaxLine) + `"}`)
	if p := workerProblem(realServe, true, long); p != "" {
		t.Fatal(p)
	}
	if p := workerProblem(scannerServe, true, long); !strings.Contains(p, "worker died") {
		t.Fatal("the property did not catch a bufio.Scanner worker on an overlong line")
	}
}

// naiveServe is a small worker written the way a hurried one is: a
// line-scanning loop over worker.DecodeRequest and the store, with one of
// the guards a worker needs switched off by mode.
func naiveServe(mode string) serveFunc {
	return func(r io.Reader, w io.Writer) error {
		sc := bufio.NewScanner(r)
		if mode != "scanner-64k" {
			sc.Buffer(nil, worker.MaxLine+1)
		}
		var store model.Store
		reply := func(resp worker.Response) error {
			b, err := worker.Encode(resp)
			if err == nil {
				_, err = w.Write(b)
			}
			return err
		}
		for sc.Scan() {
			req, err := worker.DecodeRequest(sc.Bytes())
			if err != nil {
				switch mode {
				case "exit-on-bad-line":
					return err
				case "skip-bad-line":
					continue
				case "id-always-null":
					req.ID = nil
				}
				if err := reply(worker.Response{ID: req.ID, Error: err.Error()}); err != nil {
					return err
				}
				continue
			}
			resp := worker.Response{ID: req.ID}
			switch req.Op {
			case worker.OpHello:
				resp.Outcome, resp.Protocol, resp.Version = "ok", worker.Protocol, 1
			case worker.OpOpen:
				now, _ := worker.ParseTime("now", req.Now)
				store, _ = openHostile(worker.Config{Dir: req.Dir, Now: now})
				resp.Outcome = "ok"
			default:
				if store == nil {
					resp.Error = "no store is open"
					break
				}
				err := func() (err error) {
					if mode != "no-recover" {
						defer func() {
							if p := recover(); p != nil {
								err = fmt.Errorf("panic in store: %v", p)
							}
						}()
					}
					switch req.Op {
					case "load":
						_, err = store.Load(req.Key)
					case "delete":
						err = store.Delete(req.Key)
					default:
						_, err = store.Exists(req.Key)
					}
					return err
				}()
				resp.Outcome, resp.Message = worker.ErrorFor(err)
				if mode == "no-message" {
					resp.Message = ""
				}
			}
			if err := reply(resp); err != nil {
				return err
			}
		}
		return sc.Err()
	}
}

var scannerServe = naiveServe("scanner-64k")

// TestWorkerPropertyCatchesBrokenWorkers shows that FuzzWorkerLine's
// property fails, on the seeds alone, for workers that exit on a bad line,
// skip it without an answer, lose its id, die with a panicking store or
// drop the message of a failure; and that it passes worker.Serve.
func TestWorkerPropertyCatchesBrokenWorkers(t *testing.T) {
	for _, s := range workerSeeds {
		if p := workerProblem(realServe, s.opened, []byte(s.input)); p != "" {
			t.Errorf("worker.Serve on %q: %s", clip([]byte(s.input)), p)
		}
	}
	// Each broken worker must be caught for the guard it lacks, not for
	// some other shortcut of the small worker it is built on.
	for _, c := range []struct{ mode, want string }{
		{"exit-on-bad-line", "worker died"},
		{"skip-bad-line", "responses out"},
		{"id-always-null", "answered with id"},
		{"no-recover", "worker died: panicked"},
		{"no-message", "without a message"},
	} {
		serve := naiveServe(c.mode)
		caught := ""
		for _, s := range workerSeeds {
			if p := workerProblem(serve, s.opened, []byte(s.input)); strings.Contains(p, c.want) {
				caught = fmt.Sprintf("%q: %s", clip([]byte(s.input)), p)
				break
			}
		}
		if caught == "" {
			t.Errorf("%s: no seed gives a problem containing %q: the property cannot catch it", c.mode, c.want)
		} else {
			t.Logf("%s caught on %s", c.mode, caught)
		}
	}
}

// TestWorkerSeedsOverReference runs the seeds through a worker serving the
// reference file store (the store the real worker serves), its directory
// pinned to a fresh temporary one whatever "dir" a line names, so that a
// store that touches a real disk is shown to keep the worker alive too.
func TestWorkerSeedsOverReference(t *testing.T) {
	for _, s := range workerSeeds {
		dir := t.TempDir()
		serve := func(r io.Reader, w io.Writer) error {
			return worker.Serve(r, w, "fuzz/reference", func(cfg worker.Config) (model.Store, error) {
				now := cfg.Now
				return impl.Open(dir, impl.Options{Secret: []byte(cfg.Secret), Clock: func() time.Time { return now }})
			})
		}
		if p := workerProblem(serve, s.opened, []byte(s.input)); p != "" {
			t.Errorf("over the reference, %q: %s", clip([]byte(s.input)), p)
		}
	}
}
