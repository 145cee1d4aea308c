package seam_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/seam"
)

// lockReplacedWhileWaiting makes an age-based temp cleaner strike while a
// writer B waits for a lock stripe: between B's open and its flock the
// file is removed, and a writer C locks the new file the name now leads to.
// B's flock is then granted on the removed file at once. The lock must not
// let B in while C holds the stripe: B must start again and wait for C.
func lockReplacedWhileWaiting(t *testing.T) string {
	name := filepath.Join(t.TempDir(), "l_00")
	var (
		calls    atomic.Int32
		cUnlock  func() error
		cErr     error
		retried  = make(chan struct{})
		bDone    = make(chan error, 1)
		bRelease func() error
	)
	defer seam.SetLockOpenedHook(func(string) {
		switch calls.Add(1) {
		case 1: // B has opened the stripe: the cleaner removes it, C takes the new one
			if err := os.Remove(name); err != nil {
				cErr = err
				return
			}
			cUnlock, cErr = seam.OS.Lock(name, seam.FileLock) // its open is call 2
		case 3: // B opens again
			close(retried)
		}
	})()
	go func() {
		unlock, err := seam.OS.Lock(name, seam.FileLock)
		bRelease = unlock
		bDone <- err
	}()
	var p problems
	deadline := time.After(time.Minute) // a hang, not a timing assertion
	select {
	case err := <-bDone:
		switch {
		case cErr != nil:
			t.Fatalf("the other writer could not lock: %v", cErr)
		case err != nil:
			p.add("B's lock failed: %v", err)
		default:
			p.add("a second writer was let in: B holds the removed lock file while C holds the new one")
			bRelease()
		}
		if cUnlock != nil {
			cUnlock()
		}
	case <-retried:
		if cErr != nil {
			t.Fatalf("the other writer could not lock: %v", cErr)
		}
		select {
		case <-bDone:
			p.add("B got the lock while C still held it")
			if bRelease != nil {
				bRelease()
			}
			cUnlock()
			return p.String()
		default:
		}
		if err := cUnlock(); err != nil {
			p.add("C's release: %v", err)
		}
		if err := <-bDone; err != nil {
			p.add("B's lock after C released: %v", err)
		} else if err := bRelease(); err != nil {
			p.add("B's release: %v", err)
		}
	case <-deadline:
		t.Fatal("B's lock neither returned nor retried within a minute")
	}
	return p.String()
}

func TestLockFileReplacedWhileWaiting(t *testing.T) {
	guardCase(t, lockReplacedWhileWaiting,
		"the lock file's re-check switched off",
		func(t *testing.T) string {
			defer seam.SetLockRecheck(false)()
			return lockReplacedWhileWaiting(t)
		})
}

// lockRemovedWhileHeld removes (or replaces) a held lock file: a second
// writer then locks the new file and gets in, which no lock on a path can
// prevent. The first holder's release must say so (ErrLockLost), so the
// operation it guarded is not reported as a clean success.
func lockRemovedWhileHeld(t *testing.T) string {
	var p problems
	for _, how := range []string{"removed", "replaced"} {
		dir := t.TempDir()
		name := filepath.Join(dir, "l_00")
		aUnlock, err := seam.OS.Lock(name, seam.FileLock)
		if err != nil {
			t.Fatal(err)
		}
		if how == "removed" {
			err = os.Remove(name)
		} else {
			other := filepath.Join(dir, "other")
			if err = os.WriteFile(other, nil, 0o600); err == nil {
				err = os.Rename(other, name)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		bUnlock, err := seam.OS.Lock(name, seam.FileLock)
		if err != nil {
			t.Fatalf("lock after the file was %s: %v", how, err)
		}
		if err := bUnlock(); err != nil {
			p.add("the second writer's release (its file still in place): %v", err)
		}
		if err := aUnlock(); !errors.Is(err, seam.ErrLockLost) {
			p.add("release of a lock whose file was %s while held: %v, want ErrLockLost", how, err)
		}
	}
	return p.String()
}

func TestLockFileRemovedWhileHeld(t *testing.T) {
	guardCase(t, lockRemovedWhileHeld,
		"the lock file's re-check switched off",
		func(t *testing.T) string {
			defer seam.SetLockRecheck(false)()
			return lockRemovedWhileHeld(t)
		})
}

// problems collects what a scenario saw go wrong; empty means nothing.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }
func (p problems) String() string                  { return strings.Join(p, "; ") }

// guardCase runs a scenario with the guard on (it must show nothing wrong)
// and with it off (it must show something, or the test cannot fail).
func guardCase(t *testing.T, on func(t *testing.T) string, offName string, off func(t *testing.T) string) {
	t.Helper()
	if p := on(t); p != "" {
		t.Errorf("reference: %s", p)
	}
	if p := off(t); p == "" {
		t.Errorf("with %s the scenario shows nothing wrong: this test cannot fail", offName)
	} else {
		t.Logf("with %s: %s", offName, p)
	}
}
