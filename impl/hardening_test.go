package impl_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

func TestOpenRefusesEmptyPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	_, err = impl.Open("", impl.Options{})
	if err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf(`Open(""): %v, want an error saying the path is empty (it would use %s)`, err, wd)
	}
}

// mountTmpfs mounts a tmpfs of at most inodes inodes, mode 0700, on a fresh
// directory and unmounts it when the test ends, failed or not. It skips
// only when the test cannot mount (not root, or no permission to mount).
func mountTmpfs(t *testing.T, inodes int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: mounting an inode-limited tmpfs needs root (CI runs this as root)")
	}
	dir := t.TempDir()
	err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV,
		fmt.Sprintf("nr_inodes=%d,size=16m,mode=0700", inodes))
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENODEV) {
		t.Skipf("skipped: cannot mount a tmpfs here (%v)", err)
	}
	if err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { // runs before TempDir's removal
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v; detaching it", dir, err)
			unix.Unmount(dir, unix.MNT_DETACH)
		}
	})
	return dir
}

// stripesSeemPresent reports every lock stripe as present to Lstat: the
// guard switched off, for a store that makes a stripe only when it first
// locks it.
type stripesSeemPresent struct{ seam.FS }

func (f stripesSeemPresent) Lstat(name string) (fs.FileInfo, error) {
	if strings.HasPrefix(filepath.Base(name), "l_") {
		return f.FS.Lstat(filepath.Dir(name))
	}
	return f.FS.Lstat(name)
}

// fullInodes fills an inode-limited file system with Creates until they
// fail with ENOSPC, then logs out: every Delete, and a ClearExpired of the
// expired sessions, must succeed and free what they remove.
func fullInodes(t *testing.T, fsys seam.FS) string {
	dir := mountTmpfs(t, 256)
	now := secNow
	s, err := impl.Open(dir, impl.Options{FS: fsys, Secret: secSecret, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("1000 Creates on a 256-inode file system all succeeded")
		}
		exp := secNow.Add(time.Hour) // odd ones expire in a minute
		if i%2 == 1 {
			exp = secNow.Add(time.Minute)
		}
		k, err := s.Create(secVals("n", fmt.Sprint(i)), exp)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatalf("Create %d: %v, want success or ENOSPC", i, err)
		}
		keys = append(keys, k)
	}
	if len(keys) < 20 {
		t.Fatalf("only %d sessions before ENOSPC", len(keys))
	}
	t.Logf("%d sessions filled the file system", len(keys))
	var p secProblems
	var deleted, failed int
	for i := 0; i < len(keys); i += 2 { // log out the long-lived half
		if err := s.Delete(keys[i]); err != nil {
			failed++
			if failed == 1 {
				p.add("Delete on a full file system: %v", err)
			}
		} else {
			deleted++
		}
	}
	if failed > 0 {
		p.add("%d of %d Deletes failed", failed, failed+deleted)
	}
	now = secNow.Add(2 * time.Minute)
	removed, err := s.ClearExpired()
	if err != nil {
		msg := err.Error()
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		p.add("ClearExpired on a full file system: %s", msg)
	}
	var expired []string
	for i := 1; i < len(keys); i += 2 {
		expired = append(expired, keys[i])
	}
	slices.Sort(expired)
	if !slices.Equal(removed, expired) {
		p.add("ClearExpired removed %d of %d expired sessions", len(removed), len(expired))
	}
	if p == nil {
		// What was freed is usable again.
		if _, err := s.Create(secVals("after", "logout"), secExpiry); err != nil {
			p.add("Create after the logouts: %v", err)
		}
	}
	return p.String()
}

func TestLogoutOnFullInodes(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return fullInodes(t, seam.OS) },
		"an Lstat that reports every lock stripe present (stripes made on first lock)",
		func(t *testing.T) string { return fullInodes(t, stripesSeemPresent{seam.OS}) })
}

// A directory an older store wrote holds sessions whose stripes were never
// made (it made them on first lock, and Create takes none): Open makes them.
func TestOpenMakesMissingStripes(t *testing.T) {
	dir := privateDir(t)
	s := secOpen(t, dir, impl.Options{})
	if len(secNames(t, dir, "l_")) != 0 {
		t.Fatalf("an empty directory got stripes at Open: %v", secNames(t, dir, "l_"))
	}
	if _, err := s.Create(secVals("a", "1"), secExpiry); err != nil {
		t.Fatal(err)
	}
	if n := len(secNames(t, dir, "l_")); n != 1 {
		t.Fatalf("Create made %d stripes, want its key's one", n)
	}
	for _, n := range secNames(t, dir, "l_") {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	secOpen(t, dir, impl.Options{})
	if n := len(secNames(t, dir, "l_")); n != 64 {
		t.Fatalf("Open of a directory with sessions and no stripes made %d stripes, want 64", n)
	}
}

// nonFiles plants a directory (empty, and one with a file in it), a socket
// and a named pipe under session names. Each must be ErrCorrupt on Load,
// naming what it is, and kept by ClearExpired; Delete removes the socket
// and the pipe, and refuses a directory with an error naming it, leaving it
// and what is in it as they were.
func TestHostileNonFilesUnderSessionNames(t *testing.T) {
	dir := privateDir(t)
	s := secOpen(t, dir, impl.Options{})
	path := func(k string) string { return filepath.Join(dir, "s_"+k) }
	const (
		emptyDir = "emptydiremptydiremptydiremptydir"
		fullDir  = "fulldirfulldirfulldirfulldirfull"
		sock     = "socketsocketsocketsocketsocketso"
		fifo     = "fifofifofifofifofifofifofifofifo"
	)
	if err := os.Mkdir(path(emptyDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path(fullDir), 0o700); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(path(fullDir), "keep")
	if err := os.WriteFile(inside, []byte("not the store's"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", path(sock))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := syscall.Mkfifo(path(fifo), 0o600); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{emptyDir: "a directory", fullDir: "a directory", sock: "a socket", fifo: "a named pipe"}
	for k, kind := range kinds {
		_, err := s.Load(k)
		// A named pipe reads as empty (O_NONBLOCK), which is corrupt without
		// an Lstat to say more; the others are named.
		if !errors.Is(err, model.ErrCorrupt) || k != fifo && !strings.Contains(err.Error(), kind) {
			t.Errorf("Load of %s under a session name: %v, want ErrCorrupt saying it is %s", kind, err, kind)
		}
		if err := s.Save(k, secVals("a", "b"), secExpiry); !errors.Is(err, model.ErrCorrupt) {
			t.Errorf("Save over %s: %v, want ErrCorrupt", kind, err)
		}
	}
	_, err = s.ClearExpired()
	for k, kind := range kinds {
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("ClearExpired: %v, want an error naming %s (%s)", err, k, kind)
		}
		if _, lerr := os.Lstat(path(k)); lerr != nil {
			t.Errorf("ClearExpired removed %s: %v", kind, lerr)
		}
	}
	for _, k := range []string{sock, fifo} {
		if err := s.Delete(k); err != nil {
			t.Errorf("Delete of %s: %v", kinds[k], err)
		}
		if _, err := os.Lstat(path(k)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Delete left %s: %v", kinds[k], err)
		}
	}
	for _, k := range []string{emptyDir, fullDir} {
		err := s.Delete(k)
		if err == nil || !strings.Contains(err.Error(), path(k)) || !strings.Contains(err.Error(), "directory") {
			t.Errorf("Delete of a planted directory: %v, want an error naming %s and saying it is a directory", err, path(k))
		}
		if fi, err := os.Lstat(path(k)); err != nil || !fi.IsDir() {
			t.Errorf("Delete of a planted directory removed it: %v", err)
		}
	}
	if b, err := os.ReadFile(inside); err != nil || string(b) != "not the store's" {
		t.Errorf("the planted directory's file changed: %q, %v", b, err)
	}
}

// A key is client input: one of 10 MB must not come back whole in an error.
func TestHugeKeyIsCutInErrors(t *testing.T) {
	s := secOpen(t, privateDir(t), impl.Options{})
	key := strings.Repeat("a", 10<<20)
	const limit = 1024
	for name, op := range map[string]func() error{
		"Load":   func() error { _, err := s.Load(key); return err },
		"Save":   func() error { return s.Save(key, secVals(), secExpiry) },
		"Touch":  func() error { return s.Touch(key, secExpiry) },
		"Delete": func() error { return s.Delete(key) },
		"Exists": func() error { _, err := s.Exists(key); return err },
		"Cycle":  func() error { _, err := s.Cycle(key); return err },
	} {
		err := op()
		if !errors.Is(err, model.ErrInvalidKey) {
			t.Errorf("%s of a 10 MB key: %v, want ErrInvalidKey", name, err)
			continue
		}
		if n := len(err.Error()); n > limit {
			t.Errorf("%s of a 10 MB key: a %d-byte error (limit %d)", name, n, limit)
		}
		if !strings.Contains(err.Error(), fmt.Sprint(len(key))) {
			t.Errorf("%s: %q does not give the key's length", name, err)
		}
	}
}
