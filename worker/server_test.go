package worker_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// TestServeConversation drives a worker through the document's examples:
// hello, open, store operations, and bad lines that get error responses
// while the worker carries on.
func TestServeConversation(t *testing.T) {
	mem := workertest.NewMem()
	open := func(cfg worker.Config) (model.Store, error) {
		now := cfg.Now
		return mem.NewStore(func() time.Time { return now }, nil, workertest.Correct), nil
	}
	in := strings.Join([]string{
		`{"id":1,"op":"load","key":"abcdefgh"}`,
		`{"id":2,"op":"hello","version":1}`,
		`{"id":3,"op":"load","key":"abcdefgh"}`,
		`{"id":4,"op":"open","dir":"/nonexistent-is-fine-for-memory","now":"2026-01-02T15:04:05Z"}`,
		`{"id":5,"op":"create","values":{"w":"c0-1"},"expiry":"2026-01-02T16:04:05Z"}`,
		`not json`,
		`{"id":6,"op":"frobnicate"}`,
		`{"id":7,"op":"load","key":"../etc/passwd"}`,
		`{"id":8,"op":"save","key":"zzzzzzzzzzzz","values":{"w":"c0-2"},"expiry":"2026-01-02T16:04:05Z"}`,
		`{"id":9,"op":"create","values":{}}`,
		`{"id":10,"op":"clear-expired"}`,
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := worker.Serve(strings.NewReader(in), &out, "test/mem", open); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 11 {
		t.Fatalf("%d responses for 11 lines:\n%s", len(lines), out.String())
	}
	var rs []worker.Response
	for _, l := range lines {
		var r worker.Response
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("response %q: %v", l, err)
		}
		rs = append(rs, r)
	}
	want := []struct{ outcome, errPart string }{
		{"", "hello"}, {"ok", ""}, {"", "open"}, {"ok", ""}, {"ok", ""}, {"", "bad request"},
		{"", "unknown op"}, {"invalid-key", ""}, {"not-found", ""}, {"", "expiry"}, {"ok", ""},
	}
	for i, w := range want {
		if rs[i].Outcome != w.outcome || !strings.Contains(rs[i].Error, w.errPart) {
			t.Errorf("line %d: got %s, want outcome %q error containing %q", i+1, lines[i], w.outcome, w.errPart)
		}
	}
	if rs[1].Protocol != worker.Protocol || rs[1].Version != 1 || rs[1].Name != "test/mem" || len(rs[1].Ops) != 8 {
		t.Errorf("hello response %s", lines[1])
	}
	if rs[4].Key == "" || model.ValidateKey(rs[4].Key) != nil {
		t.Errorf("create returned key %q", rs[4].Key)
	}
	if rs[5].ID != nil {
		t.Errorf("an unparseable line got id %v, want null", *rs[5].ID)
	}
}
