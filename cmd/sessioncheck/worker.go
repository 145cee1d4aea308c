package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
	"github.com/sessioncheck/sessioncheck/worker/workerstore"
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
// and returns what it said of itself.
func helloWorker(argv []string) (worker.Hello, error) {
	c, err := worker.Start(argv, worker.Options{Timeout: 20 * time.Second})
	if err != nil {
		return worker.Hello{}, err
	}
	hello := c.Hello
	if err := c.Close(); err != nil {
		return worker.Hello{}, err
	}
	if hello.Name == "" {
		return worker.Hello{}, fmt.Errorf("its hello gives no name")
	}
	return hello, nil
}

// proptestWorkerTimeout is a worker operation's deadline in proptest when
// -timeout does not set one: generous, since the suite stops at the first
// operation that misses it.
const proptestWorkerTimeout = 20 * time.Second

// workerOpener adapts a worker to the property suite: one worker process
// serves the whole run (see package workerstore for how its fixed clock
// follows the suite's moving one). timeout 0 means proptestWorkerTimeout.
func workerOpener(argv []string, timeout time.Duration) (proptest.Opener, func()) {
	if timeout <= 0 {
		timeout = proptestWorkerTimeout
	}
	pool := workerstore.New(argv, worker.Options{Timeout: timeout})
	return pool.Open, func() { pool.Close() }
}
