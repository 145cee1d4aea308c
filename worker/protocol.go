// Package worker implements the sessioncheck worker protocol (docs/PROTOCOL.md):
// JSON lines on a worker's stdin and stdout through which a driver calls the
// operations of a session store living in another process.
//
// The package has three parts: the message types and their codec (this
// file), a server that serves any model.Store (Serve, Server), and the
// driver-side client that starts a worker command and presents it as a
// model.Store (Start, Client, Client.Store), with the driver's side of the
// version 2 scheduling hook for explore (Client.Send, Client.Next,
// Client.GoAhead).
//
// Processes matter because some bugs exist only between processes: a lock
// shared by every store of one process excludes nothing across processes.
// The driver, not the worker, stamps call and return times, so the clocks of
// different processes are never compared.
package worker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// Protocol is the value of the "protocol" field of a hello response.
const Protocol = "sessioncheck-worker"

// Version is the highest protocol version this package speaks.
const Version = 1

// MaxLine is the longest line either side accepts, in bytes. A longer line is
// answered with an error response (by a worker) or treated as a broken
// worker (by the driver).
const MaxLine = 16 << 20

// Operation names on the wire. The store operations use model.Kind's names.
const (
	OpHello = "hello"
	OpOpen  = "open"
)

// Feature names a worker may declare in its hello response.
const (
	// FeatureKeyPool means the worker honours Config.Keys: fresh keys are
	// drawn from the pool the driver gives.
	FeatureKeyPool = "key-pool"
	// FeatureSchedule means the worker speaks the scheduling hook of
	// version 2: opened with Request.Schedule, it announces every
	// file-system call and waits for the go-ahead (see Client.Send).
	FeatureSchedule = "schedule"
)

// StoreOps are the store operations of protocol version 1, in the order the
// document lists them.
var StoreOps = []string{
	model.OpCreate.String(), model.OpLoad.String(), model.OpSave.String(), model.OpTouch.String(),
	model.OpDelete.String(), model.OpExists.String(), model.OpCycle.String(), model.OpClearExpired.String(),
}

// KindOf returns the model.Kind of a store operation's wire name.
func KindOf(op string) (model.Kind, bool) {
	for k := model.OpCreate; k <= model.OpClearExpired; k++ {
		if k.String() == op {
			return k, true
		}
	}
	return 0, false
}

// Request is one line from the driver to the worker. Which fields are set
// depends on Op; see docs/PROTOCOL.md.
type Request struct {
	ID      *int64   `json:"id"`
	Op      string   `json:"op"`
	Version int      `json:"version,omitempty"` // hello
	Dir     string   `json:"dir,omitempty"`     // open
	Now     string   `json:"now,omitempty"`     // open
	Secret  string   `json:"secret,omitempty"`  // open
	Keys    []string `json:"keys,omitempty"`    // open
	// Schedule (open, version 2) asks a worker that declares
	// FeatureSchedule to announce its file-system calls.
	Schedule bool              `json:"schedule,omitempty"`
	Key      string            `json:"key,omitempty"`
	Values   map[string]string `json:"values,omitempty"`
	Expiry   string            `json:"expiry,omitempty"`
}

// RecordJSON is a record on the wire.
type RecordJSON struct {
	Values map[string]string `json:"values"`
	Expiry string            `json:"expiry"`
}

// Response is one line from the worker to the driver: either a result
// (Outcome set) or a protocol error (Error set).
type Response struct {
	ID       *int64   `json:"id"`
	Outcome  string   `json:"outcome,omitempty"`
	Message  string   `json:"message,omitempty"`
	Error    string   `json:"error,omitempty"`
	Protocol string   `json:"protocol,omitempty"` // hello
	Version  int      `json:"version,omitempty"`  // hello
	Name     string   `json:"name,omitempty"`     // hello
	Ops      []string `json:"ops,omitempty"`      // hello
	Features []string `json:"features,omitempty"` // hello
	// Granularity, ExistsMeaning and RemovedKeys are the hello's optional
	// declarations for the observable profile (protocol version 1.1; a
	// worker that leaves them out is judged exactly).
	Granularity   string      `json:"granularity,omitempty"`      // hello: e.g. "1s"
	ExistsMeaning string      `json:"exists-semantics,omitempty"` // hello: "live" or "stat"
	RemovedKeys   string      `json:"removed-keys,omitempty"`     // hello: "reported" or "unreported"
	Key           string      `json:"key,omitempty"`              // create, cycle
	Record        *RecordJSON `json:"record,omitempty"`           // load
	Exists        *bool       `json:"exists,omitempty"`           // exists
	Removed       []string    `json:"removed,omitempty"`          // clear-expired
}

// Config is what an open request carries: everything a worker needs to open
// its store for one history.
type Config struct {
	// Dir is the session directory, shared by every client of a history.
	Dir string
	// Now is the store's fixed clock, the same for every client, so that
	// expiry decisions agree across processes.
	Now time.Time
	// Secret is shared by every client of a history (for stores that sign
	// their records).
	Secret string
	// Keys, when not empty, is the pool fresh keys must be drawn from.
	Keys []string
}

// FormatTime writes t as the protocol does: RFC 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ParseTime reads a protocol time; the error names the field.
func ParseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %q: %q is not an RFC 3339 time", field, s)
	}
	return t, nil
}

// DecodeRequest parses one line. On error the returned request still carries
// the id if it could be read, so the error response can echo it.
func DecodeRequest(line []byte) (Request, error) {
	var req Request
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 {
		return req, errors.New("empty line")
	}
	if err := json.Unmarshal(line, &req); err != nil {
		// Try to salvage the id so the driver can match the error.
		var probe struct {
			ID *int64 `json:"id"`
		}
		if json.Unmarshal(line, &probe) == nil {
			req.ID = probe.ID
		} else {
			req.ID = nil
		}
		return req, fmt.Errorf("bad request: %v", err)
	}
	if req.ID == nil {
		return req, errors.New(`bad request: missing "id"`)
	}
	if req.Op == "" {
		return req, errors.New(`bad request: missing "op"`)
	}
	return req, nil
}

// Encode returns the JSON line for v, ended by a newline.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// OutcomeOf parses an outcome name.
func OutcomeOf(name string) (model.Outcome, bool) {
	for o := model.OK; o <= model.Failed; o++ {
		if o.String() == name {
			return o, true
		}
	}
	return 0, false
}

// ValuesJSON converts model values for the wire.
func ValuesJSON(v model.Values) map[string]string { return v.Map() }

// RecordOf converts a wire record to a model.Record.
func RecordOf(r *RecordJSON) (model.Record, error) {
	if r == nil {
		return model.Record{}, errors.New(`missing "record"`)
	}
	exp, err := ParseTime("record.expiry", r.Expiry)
	if err != nil {
		return model.Record{}, err
	}
	return model.Record{Values: model.NewValues(r.Values), Expiry: exp}, nil
}

// RecordToJSON converts a model.Record for the wire.
func RecordToJSON(r model.Record) *RecordJSON {
	return &RecordJSON{Values: ValuesJSON(r.Values), Expiry: FormatTime(r.Expiry)}
}

// ErrorFor converts a store error into an outcome and a message.
func ErrorFor(err error) (outcome, message string) {
	if err == nil {
		return model.OK.String(), ""
	}
	return model.OutcomeOf(err).String(), err.Error()
}
