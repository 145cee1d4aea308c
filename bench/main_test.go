package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

// workerEnv, when set, makes the test binary a worker serving the built-in
// store it names (reference, no-fsync, ...) over the worker protocol, so the
// peer benchmarks time the Go reference through exactly the pipe, protocol
// and driver that time Django and gorilla.
const workerEnv = "SESSIONCHECK_BENCH_WORKER"

func TestMain(m *testing.M) {
	if child, err := ServeCrashChild(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench crash child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if name := os.Getenv(workerEnv); name != "" {
		if err := serveBuiltin(name); err != nil {
			fmt.Fprintln(os.Stderr, "bench worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func serveBuiltin(name string) error {
	v, ok := variants.Lookup(name)
	if !ok {
		return fmt.Errorf("unknown store %q", name)
	}
	return worker.Serve(os.Stdin, os.Stdout, "go/"+name, func(cfg worker.Config) (model.Store, error) {
		now := cfg.Now
		return v.Open(cfg.Dir, impl.Options{Clock: func() time.Time { return now }, Secret: []byte(cfg.Secret)})
	})
}

func implOptions(clock model.Clock) impl.Options {
	return impl.Options{Clock: clock, Secret: secret}
}
