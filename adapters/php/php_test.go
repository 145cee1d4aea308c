// Package php holds the checks of PHP 8.2's session module, run through the
// worker in worker.php (see README.md): the files handler and phpredis. They
// need Debian's php-cli (and php-redis with a redis server on
// 127.0.0.1:6399, started by scripts/servers); under CI=true a missing one
// is a failure naming the package, elsewhere a skip.
package php

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/adapters/adaptertest"

	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workerstore"
)

// argv is the worker command for a handler ("files", "redis",
// "redis --locking").
func argv(t *testing.T, handler string, extra ...string) []string {
	t.Helper()
	php, err := exec.LookPath("php")
	if err != nil {
		adaptertest.Missing(t, "php is not installed: apt-get install -y php-cli")
	}
	script, err := filepath.Abs("worker.php")
	require.NoError(t, err)
	args := strings.Fields(handler)
	if args[0] == "redis" {
		if out, err := exec.Command(php, "-r", "exit(extension_loaded('redis') ? 0 : 1);").CombinedOutput(); err != nil {
			adaptertest.Missing(t, fmt.Sprintf("PHP's redis extension is not loaded (%s): apt-get install -y php-redis", out))
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:6399", time.Second)
		if err != nil {
			adaptertest.Missing(t, "no redis on 127.0.0.1:6399: run scripts/servers start redis (apt package redis-server)")
		}
		c.Close()
	}
	out := []string{php, script, "--handler=" + args[0]}
	out = append(out, args[1:]...)
	return append(out, extra...)
}

// noClear is the default mix without clear-expired, which no PHP handler
// can report (README.md).
var noClear = func() linearizability.Mix {
	m := linearizability.DefaultMix
	m.ClearExpired = 0
	return m
}()

func linConfig(t *testing.T, seed uint64, mix linearizability.Mix, histories int) linearizability.Config {
	// No writes with a past expiry unless a test asks: a logout is what
	// the redis tests look for, and two concurrent saves, the second of
	// which writes over the first one's expired session, are another story.
	return linearizability.Config{
		Workload:  linearizability.Workload{Clients: 4, Keys: 2, Operations: 10, Mix: mix, Seed: seed, PastPercent: -1},
		Histories: histories,
		Budget:    25 * time.Second,
		ReportDir: t.TempDir(),
		OpTimeout: 10 * time.Second,
	}
}

func runLin(t *testing.T, argv []string, cfg linearizability.Config) linearizability.Result {
	t.Helper()
	res, err := linearizability.CheckProcesses(argv, cfg)
	require.NoError(t, err)
	t.Logf("lin-processes %s: %s, %d histories, %d operations (%d unknown, %d failed) in %.1fs, seed %d\n%s\nvisualization: %s",
		res.Store, res.Verdict, res.Histories, res.Operations, res.UnknownOps, res.FailedOps, res.Seconds, res.Seed, res.Detail, res.Visualization)
	require.NotEqual(t, linearizability.Unknown, res.Verdict, res.Detail)
	return res
}

// requireViolation asserts a violation whose counterexample involves one of
// ops (the operations whose window the test is about).
func requireViolation(t *testing.T, res linearizability.Result, ops ...string) {
	t.Helper()
	require.Equal(t, linearizability.Violation, res.Verdict, res.Detail)
	require.FileExists(t, res.Visualization)
	for _, op := range ops {
		if strings.Contains(res.Detail, " "+op+"(") {
			return
		}
	}
	t.Fatalf("the counterexample must involve one of %v:\n%s", ops, res.Detail)
}

func requirePass(t *testing.T, res linearizability.Result) {
	t.Helper()
	require.Equal(t, linearizability.Pass, res.Verdict, res.Detail)
	require.Positive(t, res.Histories, "a pass must have checked histories")
	require.Positive(t, res.Operations, "a pass must have checked operations")
	require.Zero(t, res.FailedOps, "no operation may fail on a healthy file system")
}

func pool(t *testing.T, argv []string) *workerstore.Pool {
	t.Helper()
	p := workerstore.New(argv, worker.Options{Timeout: 20 * time.Second})
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("closing the worker: %v", err)
		}
	})
	return p
}

// The sequential contract, on every handler: with clear-expired left out
// (PHP cannot report what its GC removed), every case must agree with the
// model.
func TestPHPProptest(t *testing.T) {
	for _, h := range []string{"files", "redis", "redis --locking"} {
		t.Run(strings.ReplaceAll(h, " --", "-"), func(t *testing.T) {
			p := pool(t, argv(t, h))
			res := proptest.Check(p.Open, proptest.Config{Seed: 1, Checks: 60, ShrinkTime: 10 * time.Second, Without: []model.Kind{model.OpClearExpired}})
			t.Logf("proptest %s: %s after %d passing cases\n%s", h, res.Verdict, res.Cases, res.Report)
			require.Equal(t, proptest.Pass, res.Verdict, "%s\n%v", res.Report, res.Err)
			require.Equal(t, 60, res.Cases)
		})
	}
}

// The files handler holds an flock from session_start to the end of the
// request, so without session_regenerate_id its operations are atomic.
func TestPHPFilesLinearizableWithoutCycle(t *testing.T) {
	mix := noClear
	mix.Cycle = 0
	requirePass(t, runLin(t, argv(t, "files"), linConfig(t, 1, mix, 15)))
}

// session_regenerate_id(true) destroys the old file by closing it (which
// releases the flock) and only then unlinking it. A request blocked on that
// lock wakes up holding the doomed inode, reads the old session, writes its
// own into the file that is unlinked a moment later, and reports success:
// its write is in neither the old session nor the new one.
func TestPHPFilesCycleLosesConcurrentWrite(t *testing.T) {
	res := runLin(t, argv(t, "files"), linConfig(t, 1, noClear, 100))
	requireViolation(t, res, "cycle-out")
}

// phpredis without locking writes with an unconditional SETEX: a request
// that read its session before a logout writes it back after the DEL.
func TestPHPRedisUndoesLogout(t *testing.T) {
	mix := linearizability.Mix{Create: 2, Load: 4, Save: 6, Delete: 3}
	res := runLin(t, argv(t, "redis"), linConfig(t, 1, mix, 40))
	requireViolation(t, res, "delete", "cycle-out")
}

// With redis.session.locking_enabled=1, PS_DESTROY_FUNC(redis) releases the
// lock before its DEL: a request waiting for the lock takes it, reads the
// session that is about to be deleted, and writes it back after the DEL.
// (A request that waited longer than lock_retries x lock_wait_time reads
// without the lock and its write is refused: it is reported failed, an
// unknown outcome.)
func TestPHPRedisLockingUndoesLogout(t *testing.T) {
	mix := linearizability.Mix{Create: 2, Load: 4, Save: 6, Touch: 3, Delete: 3, Cycle: 2}
	cfg := linConfig(t, 1, mix, 60)
	cfg.Clients, cfg.Keys = 6, 1
	res := runLin(t, argv(t, "redis", "--locking"), cfg)
	requireViolation(t, res, "delete", "cycle-out")
}
