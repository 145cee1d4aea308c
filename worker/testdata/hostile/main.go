// Command hostile is a worker that breaks the driver's assumptions in one
// chosen way, for the tests that show each gets the verdict it deserves
// (docs/RELIABILITY.md, "Workers"). It serves the reference store except
// where its mode says otherwise:
//
//	failed    answers "failed" to every store operation
//	garbage   answers every store operation with a line that is not JSON
//	refuse    answers every store operation with an error response
//	hang      never answers a store operation
//	deadlock  save takes lock A then lock B, delete B then A (flock on two
//	          files in the session directory, shared by every process of a
//	          history): a save and a delete in two processes deadlock
//	no-sweep  the reference store, declaring every operation but
//	          clear-expired (and refusing it, as PROTOCOL.md allows)
//	no-sweep-undelete  as no-sweep, but delete answers ok and removes nothing
//	          (a real bug in a declared operation)
//
// Hello and open are answered properly in every mode, so that the driver
// gets as far as the store operations.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: hostile failed|garbage|refuse|hang|deadlock")
		os.Exit(2)
	}
	mode := os.Args[1]
	ref, err := builtin.Open("reference")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var open worker.OpenFunc
	switch mode {
	case "failed":
		open = func(worker.Config) (model.Store, error) { return failing{}, nil }
	case "hang":
		open = func(worker.Config) (model.Store, error) { return hanging{}, nil }
	case "deadlock":
		open = func(cfg worker.Config) (model.Store, error) {
			s, err := ref(cfg)
			return &crossed{Store: s, a: filepath.Join(cfg.Dir, "lock-a"), b: filepath.Join(cfg.Dir, "lock-b")}, err
		}
	case "no-sweep", "no-sweep-undelete":
		undelete := mode == "no-sweep-undelete"
		srv := &worker.Server{Name: "hostile/" + mode, Features: []string{worker.FeatureKeyPool},
			Ops: slices.DeleteFunc(slices.Clone(worker.StoreOps), func(op string) bool { return op == model.OpClearExpired.String() }),
			Open: func(cfg worker.Config) (model.Store, error) {
				s, err := ref(cfg)
				if err != nil || !undelete {
					return s, err
				}
				return undeleting{Store: s}, nil
			}}
		if err := srv.Serve(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	case "garbage", "refuse":
		lines(mode)
		return
	default:
		fmt.Fprintf(os.Stderr, "hostile: unknown mode %q\n", mode)
		os.Exit(2)
	}
	if err := worker.Serve(os.Stdin, os.Stdout, "hostile/"+mode, open); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// undeleting is the reference store whose delete of a valid key answers
// ok and removes nothing: a deleted session comes back.
type undeleting struct{ model.Store }

func (u undeleting) Delete(key string) error {
	if err := model.ValidateKey(key); err != nil {
		return u.Store.Delete(key)
	}
	return nil
}

// lines answers hello and open, and every other request with a line that
// is not JSON (garbage) or with an error response (refuse).
func lines(mode string) {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, worker.MaxLine)
	for in.Scan() {
		req, err := worker.DecodeRequest(in.Bytes())
		var resp worker.Response
		resp.ID = req.ID
		switch {
		case err != nil:
			resp.Error = err.Error()
		case req.Op == worker.OpHello:
			resp = worker.Response{ID: req.ID, Outcome: "ok", Protocol: worker.Protocol, Version: 1, Name: "hostile/" + mode, Ops: worker.StoreOps}
		case req.Op == worker.OpOpen:
			resp.Outcome = "ok"
		case mode == "refuse":
			resp.Error = "hostile: refused"
		default:
			fmt.Println("<html>502 Bad Gateway</html>")
			continue
		}
		line, _ := worker.Encode(resp)
		os.Stdout.Write(line)
	}
}

var errFailed = errors.New("hostile: this worker fails every operation")

// failing fails every operation.
type failing struct{}

func (failing) Create(model.Values, time.Time) (string, error) { return "", errFailed }
func (failing) Load(string) (model.Record, error)              { return model.Record{}, errFailed }
func (failing) Save(string, model.Values, time.Time) error     { return errFailed }
func (failing) Touch(string, time.Time) error                  { return errFailed }
func (failing) Delete(string) error                            { return errFailed }
func (failing) Exists(string) (bool, error)                    { return false, errFailed }
func (failing) Cycle(string) (string, error)                   { return "", errFailed }
func (failing) ClearExpired() ([]string, error)                { return nil, errFailed }

// hanging never returns from an operation.
type hanging struct{}

// hang sleeps for ever (an empty select would be the runtime's "all
// goroutines are asleep" crash, not a hang).
func hang() {
	for {
		time.Sleep(time.Hour)
	}
}

func (hanging) Create(model.Values, time.Time) (string, error) { hang(); return "", nil }
func (hanging) Load(string) (model.Record, error)              { hang(); return model.Record{}, nil }
func (hanging) Save(string, model.Values, time.Time) error     { hang(); return nil }
func (hanging) Touch(string, time.Time) error                  { hang(); return nil }
func (hanging) Delete(string) error                            { hang(); return nil }
func (hanging) Exists(string) (bool, error)                    { hang(); return false, nil }
func (hanging) Cycle(string) (string, error)                   { hang(); return "", nil }
func (hanging) ClearExpired() ([]string, error)                { hang(); return nil, nil }

// crossed is the reference with two extra locks that save and delete take
// in opposite orders, holding the first a while so that the other order
// gets its first lock meanwhile.
type crossed struct {
	model.Store
	a, b string
}

func (c *crossed) Save(key string, v model.Values, exp time.Time) error {
	unlock, err := lockBoth(c.a, c.b)
	if err != nil {
		return err
	}
	defer unlock()
	return c.Store.Save(key, v, exp)
}

func (c *crossed) Delete(key string) error {
	unlock, err := lockBoth(c.b, c.a)
	if err != nil {
		return err
	}
	defer unlock()
	return c.Store.Delete(key)
}

func lockBoth(first, second string) (func(), error) {
	f1, err := lockFile(first)
	if err != nil {
		return nil, err
	}
	time.Sleep(20 * time.Millisecond)
	f2, err := lockFile(second)
	if err != nil {
		f1.Close()
		return nil, err
	}
	return func() { f2.Close(); f1.Close() }, nil
}

func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
