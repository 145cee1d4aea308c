package explore

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

// A Go worker that speaks the scheduling hook, for the tests of
// CheckWorker: the test binary re-executed with -explore-hook-worker=STORE
// serves a built-in store (impl/variants) over the worker protocol, with
// every file-system call of the store announced through hookFS, an seam.FS
// wrapper. The Go worker of package worker/builtin speaks version 1 only:
// this is the same server (worker.Server) with the hook in front of it.
//
// Options after the store name, comma-separated:
//   - hide-locks: take file locks without announcing them, so that a
//     worker blocks in the OS where the driver cannot see it;
//   - v1: serve without the hook (builtin.Serve), as `sessioncheck worker`
//     does.

const hookWorkerFlag = "-explore-hook-worker="

func TestMain(m *testing.M) {
	for _, a := range os.Args[1:] {
		if spec, ok := strings.CutPrefix(a, hookWorkerFlag); ok {
			if err := serveHookWorker(spec, os.Stdin, os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, "hook worker:", err)
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// hookWorkerArgv is the command of a hook worker serving spec. Under the
// race detector a Go program sleeps a second at exit (GORACE
// atexit_sleep_ms); every worker exits at the end of every check, so the
// sleep is turned off.
func hookWorkerArgv(spec string) []string {
	if env, err := exec.LookPath("env"); err == nil {
		return []string{env, "GORACE=atexit_sleep_ms=0", os.Args[0], hookWorkerFlag + spec}
	}
	return []string{os.Args[0], hookWorkerFlag + spec}
}

func serveHookWorker(spec string, in io.Reader, out io.Writer) error {
	parts := strings.Split(spec, ",")
	name := parts[0]
	h := &hookWorker{out: &syncWriter{w: out}, gos: make(chan int64, 1), quit: make(chan struct{})}
	for _, o := range parts[1:] {
		switch o {
		case "hide-locks":
			h.hideLocks = true
		case "v1":
			return builtin.Serve(name, in, out)
		default:
			return fmt.Errorf("unknown option %q", o)
		}
	}
	v, ok := variants.Lookup(name)
	if !ok {
		return fmt.Errorf("unknown store %q", name)
	}
	open := func(cfg worker.Config) (model.Store, error) {
		now := cfg.Now
		opts := impl.Options{FS: hookFS{h}, Clock: func() time.Time { return now }}
		if cfg.Secret != "" {
			opts.Secret = []byte(cfg.Secret)
		}
		if len(cfg.Keys) > 0 {
			opts.NewKey = builtin.PoolKeys(cfg.Keys)
		}
		return v.Open(cfg.Dir, opts)
	}
	srv := &worker.Server{Name: "go-hook/" + name, Open: open, Features: []string{worker.FeatureKeyPool, FeatureSchedule}}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pr, h.out) }()
	br := bufio.NewReader(in)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			var m struct {
				ID       *int64 `json:"id"`
				Op       string `json:"op"`
				Seq      int64  `json:"seq"`
				Schedule bool   `json:"schedule"`
			}
			_ = json.Unmarshal(line, &m) // a bad line goes to the server, which answers it
			if m.Op == "go" && m.ID == nil {
				select {
				case h.gos <- m.Seq:
				default:
					b, _ := json.Marshal(worker.Response{Error: fmt.Sprintf("go-ahead for seq %d, but no call waits", m.Seq)})
					_, _ = h.out.Write(append(b, '\n'))
				}
				continue
			}
			h.request(m.ID, m.Op, m.Schedule)
			if _, werr := pw.Write(line); werr != nil {
				return werr
			}
		}
		if err != nil {
			close(h.quit)
			_ = pw.Close()
			serr := <-done
			if err == io.EOF {
				return serr
			}
			return err
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// hookWorker is the worker side of the scheduling hook.
type hookWorker struct {
	out       *syncWriter
	gos       chan int64
	quit      chan struct{}
	hideLocks bool

	mu       sync.Mutex
	schedule bool  // the store was opened with "schedule": true
	active   bool  // a store operation is being served
	id       int64 // its request id
	seq      int64
}

func (h *hookWorker) request(id *int64, op string, schedule bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if op == worker.OpOpen {
		h.schedule = schedule
	}
	_, isStoreOp := worker.KindOf(op)
	h.active = h.schedule && isStoreOp && id != nil
	if id != nil {
		h.id = *id
	}
}

var errDriverGone = errors.New("hook worker: the driver went away while a call waited for its go-ahead")

// announce sends the event and waits for its go-ahead.
func (h *hookWorker) announce(call, path, path2 string, flags []string) error {
	h.mu.Lock()
	if !h.active {
		h.mu.Unlock()
		return nil
	}
	h.seq++
	e := worker.Event{Event: worker.EventFS, ID: &h.id, Seq: h.seq, Call: call, Path: path, Path2: path2, Flags: flags}
	b, err := json.Marshal(e)
	seq := h.seq
	h.mu.Unlock()
	if err != nil {
		return err
	}
	if _, err := h.out.Write(append(b, '\n')); err != nil {
		return err
	}
	select {
	case got := <-h.gos:
		if got != seq {
			return fmt.Errorf("hook worker: go-ahead for seq %d, want %d", got, seq)
		}
		return nil
	case <-h.quit:
		return errDriverGone
	}
}

// hookFS announces every call of the store and then makes it on the OS.
type hookFS struct{ h *hookWorker }

var _ seam.FS = hookFS{}

func flagNames(flag int) []string {
	var names []string
	switch flag & (os.O_RDONLY | os.O_WRONLY | os.O_RDWR) {
	case os.O_RDONLY:
		names = append(names, "O_RDONLY")
	case os.O_WRONLY:
		names = append(names, "O_WRONLY")
	case os.O_RDWR:
		names = append(names, "O_RDWR")
	}
	for _, f := range []struct {
		bit  int
		name string
	}{{os.O_CREATE, "O_CREAT"}, {os.O_EXCL, "O_EXCL"}, {os.O_TRUNC, "O_TRUNC"}, {os.O_APPEND, "O_APPEND"}, {oDirectory, "O_DIRECTORY"}} {
		if flag&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return names
}

func (f hookFS) OpenFile(name string, flag int, perm fs.FileMode) (seam.File, error) {
	if err := f.h.announce("open", name, "", flagNames(flag)); err != nil {
		return nil, err
	}
	file, err := seam.OS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &hookFile{h: f.h, f: file, path: name}, nil
}

func (f hookFS) Rename(oldpath, newpath string) error {
	if err := f.h.announce("rename", oldpath, newpath, nil); err != nil {
		return err
	}
	return seam.OS.Rename(oldpath, newpath)
}

func (f hookFS) RenameNoReplace(oldpath, newpath string) error {
	if err := f.h.announce("rename-noreplace", oldpath, newpath, nil); err != nil {
		return err
	}
	return seam.OS.RenameNoReplace(oldpath, newpath)
}

func (f hookFS) Remove(name string) error {
	if err := f.h.announce("unlink", name, "", nil); err != nil {
		return err
	}
	return seam.OS.Remove(name)
}

func (f hookFS) ReadDir(name string) ([]string, error) {
	if err := f.h.announce("listdir", name, "", nil); err != nil {
		return nil, err
	}
	return seam.OS.ReadDir(name)
}

func (f hookFS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.h.announce("lstat", name, "", nil); err != nil {
		return nil, err
	}
	return seam.OS.Lstat(name)
}

// Lock announces a file lock (unless hide-locks) before taking it and its
// release after. An in-process lock is not announced: one worker serves
// one request at a time, so its own process lock never blocks it, and it
// excludes nothing in another worker.
func (f hookFS) Lock(name string, kind seam.LockKind) (func() error, error) {
	announced := kind == seam.FileLock && !f.h.hideLocks
	if announced {
		if err := f.h.announce("lock", name, "", nil); err != nil {
			return nil, err
		}
	}
	unlock, err := seam.OS.Lock(name, kind)
	if err != nil || !announced {
		return unlock, err
	}
	return func() error {
		err := unlock()
		if aerr := f.h.announce("unlock", name, "", nil); aerr != nil && err == nil {
			err = aerr
		}
		return err
	}, nil
}

type hookFile struct {
	h    *hookWorker
	f    seam.File
	path string
}

func (f *hookFile) Read(p []byte) (int, error) {
	if err := f.h.announce("read", f.path, "", nil); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *hookFile) Write(p []byte) (int, error) {
	if err := f.h.announce("write", f.path, "", nil); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *hookFile) Sync() error {
	if err := f.h.announce("fsync", f.path, "", nil); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *hookFile) Close() error {
	if err := f.h.announce("close", f.path, "", nil); err != nil {
		_ = f.f.Close()
		return err
	}
	return f.f.Close()
}
