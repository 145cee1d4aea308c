package linearizability

import (
	"fmt"

	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

// The test binary doubles as the worker program: with SESSIONCHECK_TEST_WORKER
// set to a store name it serves that store on stdin and stdout instead of
// running tests. SESSIONCHECK_TEST_WORKER_FAULT=hang or =exit makes about
// the faultEvery-th load of each worker process hang forever or kill the worker.
func TestMain(m *testing.M) {
	if name := os.Getenv("SESSIONCHECK_TEST_WORKER"); name != "" {
		os.Exit(serveTestWorker(name, os.Getenv("SESSIONCHECK_TEST_WORKER_FAULT")))
	}
	os.Exit(m.Run())
}

const faultEvery = 3

func serveTestWorker(name, fault string) int {
	open, err := builtin.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if fault != "" {
		inner := open
		open = func(cfg worker.Config) (model.Store, error) {
			s, err := inner(cfg)
			return faulty{Store: s, fault: fault}, err
		}
	}
	if err := worker.Serve(os.Stdin, os.Stdout, "test/"+name, open); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// faulty hangs or exits on the faultEvery-th load of its process.
type faulty struct {
	model.Store
	fault string
}

var loads atomic.Int64

func (f faulty) Load(key string) (model.Record, error) {
	if loads.Add(1) == faultEvery {
		if f.fault == "exit" {
			os.Exit(3)
		}
		time.Sleep(time.Hour)
	}
	return f.Store.Load(key)
}

// workerArgv returns the command that runs this test binary as a worker
// serving store, and the environment that selects it.
func workerArgv(t testing.TB, store, fault string) ([]string, []string) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SESSIONCHECK_TEST_WORKER="+store)
	if fault != "" {
		env = append(env, "SESSIONCHECK_TEST_WORKER_FAULT="+fault)
	}
	return []string{exe}, env
}

// fastDir returns a directory for session files on tmpfs when there is one:
// linearizability does not depend on fsync, and fsync on a shared disk would
// make the default test run slow.
func fastDir(t testing.TB) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "sessioncheck-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}
