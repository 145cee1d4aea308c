package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

// workerCommand is the hidden subcommand with which sessioncheck serves a
// built-in store over the worker protocol: lin-processes re-executes the
// command itself, so a fresh clone needs nothing built beforehand.
const workerCommand = "worker"

func serveWorker(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sessioncheck worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	name := fs.String("store", "reference", "")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "sessioncheck worker: usage: sessioncheck worker -store NAME")
		return 2
	}
	if _, err := builtin.Open(*name); err != nil {
		fmt.Fprintf(stderr, "sessioncheck worker: %v\n", err)
		return 2
	}
	if err := builtin.Serve(*name, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "sessioncheck worker: %v\n", err)
		return 1
	}
	return 0
}

// selfWorker is the argv that serves a built-in store from this binary.
func selfWorker(store string) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot re-execute sessioncheck as a worker: %w", err)
	}
	return []string{exe, workerCommand, "-store", store}, nil
}

// helloWorker starts the worker once to see that it speaks the protocol,
// and returns the name it gives itself.
func helloWorker(argv []string) (string, error) {
	c, err := worker.Start(argv, worker.Options{Timeout: 20 * time.Second})
	if err != nil {
		return "", err
	}
	name := c.Hello.Name
	if err := c.Close(); err != nil {
		return "", err
	}
	if name == "" {
		return "", fmt.Errorf("its hello gives no name")
	}
	return name, nil
}

// workerOpener adapts a worker to the property suite. The suite opens a
// store for every case and moves its clock between operations, while a
// worker's clock is fixed at each open: so one worker process serves the
// whole run, and the store is re-opened on the same directory whenever the
// suite's clock has moved (a restart, which a correct store survives).
func workerOpener(argv []string) (proptest.Opener, func()) {
	var (
		mu sync.Mutex
		c  *worker.Client
	)
	open := func(dir string, clock model.Clock) (model.Store, error) {
		mu.Lock()
		defer mu.Unlock()
		if c == nil {
			var err error
			if c, err = worker.Start(argv, worker.Options{Timeout: 20 * time.Second}); err != nil {
				return nil, err
			}
		}
		s := &clockedWorker{c: c, dir: dir, clock: clock}
		return s, s.sync()
	}
	closeAll := func() {
		mu.Lock()
		defer mu.Unlock()
		if c != nil {
			c.Close()
			c = nil
		}
	}
	return open, closeAll
}

// clockedWorker is a worker's store whose fixed clock follows a moving one.
type clockedWorker struct {
	c     *worker.Client
	dir   string
	clock model.Clock
	now   time.Time
	open  bool
}

func (w *clockedWorker) sync() error {
	now := w.clock()
	if w.open && now.Equal(w.now) {
		return nil
	}
	if err := w.c.Open(worker.Config{Dir: w.dir, Now: now}); err != nil {
		return err
	}
	w.now, w.open = now, true
	return nil
}

func (w *clockedWorker) store() (model.Store, error) {
	if err := w.sync(); err != nil {
		return nil, err
	}
	return w.c.Store(), nil
}

func (w *clockedWorker) Create(v model.Values, expiry time.Time) (string, error) {
	s, err := w.store()
	if err != nil {
		return "", err
	}
	return s.Create(v, expiry)
}

func (w *clockedWorker) Load(key string) (model.Record, error) {
	s, err := w.store()
	if err != nil {
		return model.Record{}, err
	}
	return s.Load(key)
}

func (w *clockedWorker) Save(key string, v model.Values, expiry time.Time) error {
	s, err := w.store()
	if err != nil {
		return err
	}
	return s.Save(key, v, expiry)
}

func (w *clockedWorker) Touch(key string, expiry time.Time) error {
	s, err := w.store()
	if err != nil {
		return err
	}
	return s.Touch(key, expiry)
}

func (w *clockedWorker) Delete(key string) error {
	s, err := w.store()
	if err != nil {
		return err
	}
	return s.Delete(key)
}

func (w *clockedWorker) Exists(key string) (bool, error) {
	s, err := w.store()
	if err != nil {
		return false, err
	}
	return s.Exists(key)
}

func (w *clockedWorker) Cycle(key string) (string, error) {
	s, err := w.store()
	if err != nil {
		return "", err
	}
	return s.Cycle(key)
}

func (w *clockedWorker) ClearExpired() ([]string, error) {
	s, err := w.store()
	if err != nil {
		return nil, err
	}
	return s.ClearExpired()
}
