package worker

import (
	"errors"
	"fmt"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// Store presents the worker's store as a model.Store, so that a driver can
// treat a worker process like any in-process store. Errors from the worker
// come back as the model's errors (model.ErrNotFound, model.ErrInvalidKey, a
// *model.CorruptError, or a plain error for failed). A transport failure
// (timeout, exit, garbage) wraps ErrUnknownOutcome; so does a protocol error
// response, which means driver and worker disagree and the result is
// meaningless.
func (c *Client) Store() model.Store { return remote{c} }

type remote struct{ c *Client }

// Supports reports whether the worker declared kind in its hello; it makes
// the store a model.Declarer, so checks leave out what it does not declare.
func (r remote) Supports(kind model.Kind) bool { return r.c.Hello.Supports(kind) }

// Declare passes on the hello's declarations (model.ProfileDeclarer).
func (r remote) Declare(p model.Profile) model.Profile { return r.c.Hello.Declare(p) }

// ErrUnsupported is returned for an operation the worker did not declare.
var ErrUnsupported = errors.New("operation not supported by this worker")

func (r remote) do(kind model.Kind, req Request) (Response, error) {
	if !r.c.Hello.Supports(kind) {
		return Response{}, fmt.Errorf("worker %s: %s: %w", r.c.Hello.Name, kind, ErrUnsupported)
	}
	req.Op = kind.String()
	resp, err := r.c.Do(req)
	if err != nil {
		return resp, err
	}
	if resp.Error != "" {
		return resp, r.c.fail(fmt.Errorf("%s: error response: %s", kind, resp.Error))
	}
	outcome, ok := OutcomeOf(resp.Outcome)
	if !ok {
		return resp, r.c.fail(fmt.Errorf("%s: unknown outcome %q", kind, resp.Outcome))
	}
	switch outcome {
	case model.OK:
		return resp, nil
	case model.NotFound:
		return resp, model.ErrNotFound
	case model.Invalid:
		return resp, fmt.Errorf("%w: %s", model.ErrInvalidKey, resp.Message)
	case model.Corrupt:
		return resp, &model.CorruptError{Key: req.Key, Reason: resp.Message}
	}
	if resp.Message == "" {
		resp.Message = "(no message)"
	}
	return resp, fmt.Errorf("worker %s: %s failed: %s", r.c.Hello.Name, kind, resp.Message)
}

func (r remote) Create(values model.Values, expiry time.Time) (string, error) {
	resp, err := r.do(model.OpCreate, Request{Values: values.Map(), Expiry: FormatTime(expiry)})
	if err != nil {
		return "", err
	}
	if resp.Key == "" {
		return "", r.c.fail(errors.New(`create: ok without "key"`))
	}
	return resp.Key, nil
}

func (r remote) Load(key string) (model.Record, error) {
	resp, err := r.do(model.OpLoad, Request{Key: key})
	if err != nil {
		return model.Record{}, err
	}
	rec, err := RecordOf(resp.Record)
	if err != nil {
		return model.Record{}, r.c.fail(fmt.Errorf("load: %v", err))
	}
	return rec, nil
}

func (r remote) Save(key string, values model.Values, expiry time.Time) error {
	_, err := r.do(model.OpSave, Request{Key: key, Values: values.Map(), Expiry: FormatTime(expiry)})
	return err
}

func (r remote) Touch(key string, expiry time.Time) error {
	_, err := r.do(model.OpTouch, Request{Key: key, Expiry: FormatTime(expiry)})
	return err
}

func (r remote) Delete(key string) error {
	_, err := r.do(model.OpDelete, Request{Key: key})
	return err
}

func (r remote) Exists(key string) (bool, error) {
	resp, err := r.do(model.OpExists, Request{Key: key})
	if err != nil {
		return false, err
	}
	if resp.Exists == nil {
		return false, r.c.fail(errors.New(`exists: ok without "exists"`))
	}
	return *resp.Exists, nil
}

func (r remote) Cycle(key string) (string, error) {
	resp, err := r.do(model.OpCycle, Request{Key: key})
	if err != nil {
		return "", err
	}
	if resp.Key == "" {
		return "", r.c.fail(errors.New(`cycle: ok without "key"`))
	}
	return resp.Key, nil
}

func (r remote) ClearExpired() ([]string, error) {
	resp, err := r.do(model.OpClearExpired, Request{})
	if err != nil {
		return nil, err
	}
	return resp.Removed, nil
}
