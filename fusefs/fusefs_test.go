package fusefs_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/fusefs"
	"github.com/sessioncheck/sessioncheck/memfs"
)

// mount serves disk on a fresh directory for the test's duration.
func mount(t *testing.T, disk *memfs.FS, opts fusefs.Options) *fusefs.Server {
	t.Helper()
	if err := fusefs.Available(); err != nil {
		t.Skip(err.Error())
	}
	srv, err := fusefs.Mount(disk, t.TempDir(), opts)
	require.NoError(t, err)
	// Registered after TempDir's own cleanup, so it runs first: the mount
	// is gone before the directory is removed, even when the test fails.
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// recorder keeps the requests a server saw.
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) before(req fusefs.Request) syscall.Errno {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, req.Op+" "+req.Name)
	return 0
}

func (r *recorder) saw(op string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.ContainsFunc(r.ops, func(s string) bool { return strings.HasPrefix(s, op+" ") })
}

func python(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	// The interpreter itself, not a version manager's shim in front of it
	// (pyenv's costs seconds per start).
	out, err := exec.Command(p, "-c", "import sys; print(sys.executable)").Output()
	if err == nil && len(out) > 1 {
		p = strings.TrimSpace(string(out))
	}
	return p
}

const writer = `
import fcntl, os, sys
d = sys.argv[1]
lk = os.open(os.path.join(d, "lock"), os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(lk, fcntl.LOCK_EX)
fd = os.open(os.path.join(d, "tmp"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, b"synced")
os.fsync(fd)
os.close(fd)
os.rename(os.path.join(d, "tmp"), os.path.join(d, "sess"))
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
os.fsync(dfd)
os.close(dfd)
fd = os.open(os.path.join(d, "sess"), os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"unsynced")
os.close(fd)
fcntl.flock(lk, fcntl.LOCK_UN)
os.close(lk)
with open(os.path.join(d, "sess"), "rb") as f:
    sys.stdout.write(f.read().decode())
`

// A real process's create, write, fsync, rename, directory fsync and flock
// reach memfs as requests, and memfs keeps what was synced apart from what
// was not.
func TestPythonProcess(t *testing.T) {
	py := python(t)
	disk := memfs.New(nil)
	require.NoError(t, disk.MkdirAll("/s", 0o700))
	rec := &recorder{}
	srv := mount(t, disk, fusefs.Options{Before: rec.before})
	out, err := exec.Command(py, "-c", writer, filepath.Join(srv.Dir(), "s")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "unsynced", string(out), "the process reads back what it wrote last")

	for _, op := range []string{"create", "write", "fsync", "rename", "fsyncdir", "lock", "unlock", "read"} {
		require.True(t, rec.saw(op), "no %s request among %q", op, rec.ops)
	}
	got, err := disk.ReadFile("/s/sess")
	require.NoError(t, err)
	require.Equal(t, "unsynced", string(got))
	crashed, err := disk.Crash().ReadFile("/s/sess")
	require.NoError(t, err)
	require.Equal(t, "synced", string(crashed), "a crash keeps only the fsynced contents")
	_, err = disk.Crash().ReadFile("/s/tmp")
	require.ErrorIs(t, err, os.ErrNotExist, "the synced rename took the temporary name away")
}

// A file written in process through the memfs seam is what the mounted
// process sees, and the other way round: one disk for both seams.
func TestOneDiskBothSeams(t *testing.T) {
	disk := memfs.New(nil)
	require.NoError(t, disk.MkdirAll("/d", 0o700))
	srv := mount(t, disk, fusefs.Options{})
	f, err := disk.OpenFile("/d/a", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	require.NoError(t, err)
	_, err = f.Write([]byte("from the seam"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	// A child process reads it over the mount and writes another file.
	script := `cat "$1/a" && printf over > "$1/b" && mv "$1/b" "$1/c" && ls "$1"`
	out, err := exec.Command("sh", "-c", script, "sh", filepath.Join(srv.Dir(), "d")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "from the seama\nc\n", string(out))
	got, err := disk.ReadFile("/d/c")
	require.NoError(t, err)
	require.Equal(t, "over", string(got))
	names, err := disk.ReadDir("/d")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c"}, names)
}

// Before can fail any request with an errno, which the process sees.
func TestInjectedErrno(t *testing.T) {
	py := python(t)
	disk := memfs.New(nil)
	require.NoError(t, disk.MkdirAll("/d", 0o700))
	srv := mount(t, disk, fusefs.Options{Before: func(r fusefs.Request) syscall.Errno {
		if r.Op == "fsync" {
			return syscall.ENOSPC
		}
		return 0
	}})
	script := `
import os, sys, errno
fd = os.open(os.path.join(sys.argv[1], "f"), os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, b"x")
try:
    os.fsync(fd)
    print("no error")
except OSError as e:
    print(errno.errorcode[e.errno])
`
	out, err := exec.Command(py, "-c", script, filepath.Join(srv.Dir(), "d")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "ENOSPC\n", string(out))
	crashed, err := disk.CrashWith(true, false).ReadFile("/d/f")
	require.NoError(t, err)
	require.Empty(t, crashed, "a failed fsync made nothing durable")
}

// A process waiting for another's flock is a request the server holds, and
// says so through Blocked; the release lets it through. POSIX locks too.
func TestLockWaitIsVisible(t *testing.T) {
	py := python(t)
	for _, kind := range []string{"flock", "lockf"} {
		t.Run(kind, func(t *testing.T) {
			disk := memfs.New(nil)
			blocked := make(chan fusefs.Request, 16)
			srv := mount(t, disk, fusefs.Options{Blocked: func(r fusefs.Request) { blocked <- r }})
			script := `
import fcntl, os, sys
fd = os.open(os.path.join(sys.argv[1], "lock"), os.O_RDWR | os.O_CREAT, 0o600)
getattr(fcntl, sys.argv[2])(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
`
			start := func() (stdin io.WriteCloser, stdout *bufio.Reader, done chan error) {
				c := exec.Command(py, "-c", script, srv.Dir(), kind)
				in, err := c.StdinPipe()
				require.NoError(t, err)
				out, err := c.StdoutPipe()
				require.NoError(t, err)
				c.Stderr = os.Stderr
				require.NoError(t, c.Start())
				done = make(chan error, 1)
				exited := make(chan struct{})
				go func() { done <- c.Wait(); close(exited) }()
				t.Cleanup(func() { c.Process.Kill(); <-exited })
				return in, bufio.NewReader(out), done
			}
			inA, outA, doneA := start()
			line, err := outA.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "locked\n", line)
			inB, outB, doneB := start()
			r := <-blocked // B waits for A's lock, and the server says so
			require.Equal(t, "lock", r.Op)
			require.True(t, r.Wait)
			require.NoError(t, inA.Close()) // A exits: its lock goes with its descriptor
			require.NoError(t, <-doneA)
			line, err = outB.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "locked\n", line)
			require.NoError(t, inB.Close())
			require.NoError(t, <-doneB)
		})
	}
}

// A killed waiter's lock request ends (the kernel interrupts it) instead of
// staying held by the server.
func TestKilledWaiter(t *testing.T) {
	py := python(t)
	disk := memfs.New(nil)
	blocked := make(chan struct{}, 16)
	srv := mount(t, disk, fusefs.Options{Blocked: func(fusefs.Request) { blocked <- struct{}{} }})
	hold, err := os.OpenFile(filepath.Join(srv.Dir(), "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer hold.Close()
	require.NoError(t, syscall.Flock(int(hold.Fd()), syscall.LOCK_EX))
	c := exec.Command(py, "-c", `import fcntl,sys; fcntl.flock(open(sys.argv[1]+"/lock"), fcntl.LOCK_EX)`, srv.Dir())
	require.NoError(t, c.Start())
	<-blocked
	require.NoError(t, c.Process.Kill())
	err = c.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "%v", err)
}

// TestMain removes what an earlier run killed by a timeout left mounted.
func TestMain(m *testing.M) {
	if removed, err := fusefs.Sweep(); err != nil {
		println("fusefs: sweeping old mounts:", err.Error())
	} else if len(removed) > 0 {
		println("fusefs: removed mounts left by dead processes:", strings.Join(removed, " "))
	}
	os.Exit(m.Run())
}
