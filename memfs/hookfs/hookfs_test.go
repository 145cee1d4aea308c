package hookfs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/seam"
)

func TestInjectAndNumber(t *testing.T) {
	m := memfs.New(nil)
	if err := m.MkdirAll("/d", 0o700); err != nil {
		t.Fatal(err)
	}
	var seen []string
	h := hookfs.New(m, hookfs.Hooks{
		Before: func(c hookfs.Call) error {
			seen = append(seen, c.String())
			if c.Op == "write" {
				return syscall.ENOSPC
			}
			return nil
		},
	})
	f, err := h.OpenFile("/d/a", os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.Write([]byte("abcd"))
	var pe *fs.PathError
	if n != 2 || !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &pe) || pe.Op != "write" {
		t.Fatalf("injected write = %d, %v; want a short write of 2 and a PathError wrapping ENOSPC", n, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := m.ReadFile("/d/a"); string(b) != "ab" {
		t.Fatalf("file holds %q, want the short write ab", b)
	}
	want := []string{"#0 open(/d/a, O_WRONLY|O_CREAT)", "#1 write(/d/a, 4 bytes)", "#2 close(/d/a)"}
	if len(seen) != len(want) {
		t.Fatalf("calls %q, want %q", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("calls %q, want %q", seen, want)
		}
	}
}

func TestFailedUnlockStillReleases(t *testing.T) {
	m := memfs.New(nil)
	if err := m.MkdirAll("/d", 0o700); err != nil {
		t.Fatal(err)
	}
	h := hookfs.New(m, hookfs.Hooks{NoWait: true, Before: func(c hookfs.Call) error {
		if c.Op == "unlock" {
			return syscall.EIO
		}
		return nil
	}})
	unlock, err := h.Lock("/d/l", seam.FileLock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Lock("/d/l", seam.FileLock); !errors.Is(err, hookfs.ErrWouldBlock) {
		t.Fatalf("second lock under NoWait: %v, want ErrWouldBlock", err)
	}
	if err := unlock(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("unlock: %v, want the injected EIO", err)
	}
	u, err := h.Lock("/d/l", seam.FileLock)
	if err != nil {
		t.Fatalf("lock after a failed unlock: %v; the kernel releases it anyway", err)
	}
	if err := u(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("unlock: %v, want the injected EIO", err)
	}
	if _, ok, err := m.TryLock("/d/l", seam.FileLock); !ok || err != nil {
		t.Fatalf("lock after failed unlocks: ok=%v err=%v; want it free", ok, err)
	}
}

// TestRecorderPhases: a Recorder keeps the calls since its last Reset,
// numbers them from 1 for the installed function, and fails the call that
// function fails.
func TestRecorderPhases(t *testing.T) {
	m := memfs.New(nil)
	if err := m.MkdirAll("/d", 0o700); err != nil {
		t.Fatal(err)
	}
	h := hookfs.Record(m)
	if _, err := h.Lstat("/d"); err != nil {
		t.Fatal(err)
	}
	if got := h.Log(); len(got) != 1 || got[0].Op != "lstat" {
		t.Fatalf("log %v, want the one lstat", got)
	}
	var numbers []int
	h.Reset(func(n int, c hookfs.Call) error {
		numbers = append(numbers, n)
		if c.Op == "unlink" {
			return syscall.EIO
		}
		return nil
	})
	f, err := h.OpenFile("/d/a", os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Remove("/d/a"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("remove: %v, want the injected EIO", err)
	}
	if _, err := m.Lstat("/d/a"); err != nil {
		t.Fatalf("the failed unlink removed the file: %v", err)
	}
	got := h.Log()
	var ops []string
	for _, c := range got {
		ops = append(ops, c.Op)
	}
	if want := "[open close unlink]"; fmt.Sprint(ops) != want || fmt.Sprint(numbers) != "[1 2 3]" {
		t.Fatalf("after Reset: ops %v numbered %v, want %s numbered [1 2 3]", ops, numbers, want)
	}
	if got[0].Index != 1 || h.Calls() != 4 {
		t.Fatalf("Index %d and Calls %d: want the FS's own count (1 and 4), which Reset leaves alone", got[0].Index, h.Calls())
	}
	h.Reset(nil)
	if err := h.Remove("/d/a"); err != nil {
		t.Fatalf("remove with nothing installed: %v", err)
	}
}
