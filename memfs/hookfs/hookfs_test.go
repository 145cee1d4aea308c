package hookfs_test

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
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
	unlock, err := h.Lock("/d/l", impl.FileLock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Lock("/d/l", impl.FileLock); !errors.Is(err, hookfs.ErrWouldBlock) {
		t.Fatalf("second lock under NoWait: %v, want ErrWouldBlock", err)
	}
	if err := unlock(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("unlock: %v, want the injected EIO", err)
	}
	u, err := h.Lock("/d/l", impl.FileLock)
	if err != nil {
		t.Fatalf("lock after a failed unlock: %v; the kernel releases it anyway", err)
	}
	if err := u(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("unlock: %v, want the injected EIO", err)
	}
	if _, ok, err := m.TryLock("/d/l", impl.FileLock); !ok || err != nil {
		t.Fatalf("lock after failed unlocks: ok=%v err=%v; want it free", ok, err)
	}
}
