package memfs_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/seam"
)

const (
	wr    = os.O_WRONLY | os.O_CREATE | os.O_EXCL | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	trunc = os.O_WRONLY | os.O_TRUNC | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// write makes name with data through the seam, optionally fsyncing it.
func write(t *testing.T, m *memfs.FS, name, data string, flag int, sync bool) {
	t.Helper()
	f, err := m.OpenFile(name, flag, 0o600)
	must(t, err)
	_, err = f.Write([]byte(data))
	must(t, err)
	if sync {
		must(t, f.Sync())
	}
	must(t, f.Close())
}

func syncDir(t *testing.T, m *memfs.FS, dir string) {
	t.Helper()
	f, err := m.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
}

// content is the file's contents, or "<absent>".
func content(t *testing.T, m *memfs.FS, name string) string {
	t.Helper()
	b, err := m.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "<absent>"
	}
	must(t, err)
	return string(b)
}

func newDisk(t *testing.T) *memfs.FS {
	m := memfs.New(nil)
	must(t, m.MkdirAll("/s", 0o700))
	return m
}

// expect checks name in each of the four crash images, in the order
// (names, data) = (lost, lost), (kept, lost), (lost, kept), (kept, kept).
func expect(t *testing.T, m *memfs.FS, name string, want [4]string) {
	t.Helper()
	for i, keep := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		if got := content(t, m.CrashWith(keep[0], keep[1]), name); got != want[i] {
			t.Errorf("%s after CrashWith(names=%v, data=%v): got %q, want %q", name, keep[0], keep[1], got, want[i])
		}
	}
	if got := content(t, m.Crash(), name); got != want[0] {
		t.Errorf("%s after Crash(): got %q, want %q", name, got, want[0])
	}
}

func TestCrashUnsyncedFileIsLost(t *testing.T) {
	m := newDisk(t)
	write(t, m, "/s/a", "data", wr, true) // contents synced, name not
	expect(t, m, "/s/a", [4]string{"<absent>", "data", "<absent>", "data"})
}

func TestCrashNameWithoutDataComesBackEmpty(t *testing.T) {
	m := newDisk(t)
	write(t, m, "/s/a", "data", wr, false)
	syncDir(t, m, "/s")
	expect(t, m, "/s/a", [4]string{"", "", "data", "data"})
}

func TestCrashSyncedFileAndDirSurvive(t *testing.T) {
	m := newDisk(t)
	write(t, m, "/s/a", "data", wr, true)
	syncDir(t, m, "/s")
	expect(t, m, "/s/a", [4]string{"data", "data", "data", "data"})
}

func TestCrashRenameWithoutDirSyncReverts(t *testing.T) {
	m := newDisk(t)
	must(t, m.WriteFile("/s/k", []byte("old"), 0o600))
	write(t, m, "/s/tmp", "new", wr, true)
	must(t, m.Rename("/s/tmp", "/s/k"))
	expect(t, m, "/s/k", [4]string{"old", "new", "old", "new"})
	expect(t, m, "/s/tmp", [4]string{"<absent>", "<absent>", "<absent>", "<absent>"})
	syncDir(t, m, "/s")
	expect(t, m, "/s/k", [4]string{"new", "new", "new", "new"})
}

func TestCrashRenameBeforeDataIsEmpty(t *testing.T) {
	// The ext4 zero-length problem: the rename persisted, the data did not.
	m := newDisk(t)
	must(t, m.WriteFile("/s/k", []byte("old"), 0o600))
	write(t, m, "/s/tmp", "new", wr, false)
	must(t, m.Rename("/s/tmp", "/s/k"))
	expect(t, m, "/s/k", [4]string{"old", "", "old", "new"})
}

func TestCrashTruncateInPlace(t *testing.T) {
	m := newDisk(t)
	must(t, m.WriteFile("/s/k", []byte("old"), 0o600))
	f, err := m.OpenFile("/s/k", trunc, 0)
	must(t, err)
	// Truncated, not yet rewritten: the truncation may reach the disk.
	expect(t, m, "/s/k", [4]string{"old", "old", "", ""})
	_, err = f.Write([]byte("new"))
	must(t, err)
	expect(t, m, "/s/k", [4]string{"old", "old", "new", "new"})
	must(t, f.Sync())
	expect(t, m, "/s/k", [4]string{"new", "new", "new", "new"})
	must(t, f.Close())
}

func TestCrashUnlinkNeedsDirSync(t *testing.T) {
	m := newDisk(t)
	must(t, m.WriteFile("/s/k", []byte("v"), 0o600))
	must(t, m.Remove("/s/k"))
	expect(t, m, "/s/k", [4]string{"v", "<absent>", "v", "<absent>"})
	syncDir(t, m, "/s")
	expect(t, m, "/s/k", [4]string{"<absent>", "<absent>", "<absent>", "<absent>"})
}

func TestCrashImageIsIndependent(t *testing.T) {
	m := newDisk(t)
	write(t, m, "/s/a", "one", wr, true)
	syncDir(t, m, "/s")
	img := m.Crash()
	f, err := m.OpenFile("/s/a", trunc, 0)
	must(t, err)
	_, err = f.Write([]byte("two"))
	must(t, err)
	must(t, f.Sync())
	must(t, f.Close())
	if got := content(t, img, "/s/a"); got != "one" {
		t.Fatalf("crash image changed with the original: %q", got)
	}
	// On the image everything is durable: crashing it again loses nothing.
	write(t, img, "/s/b", "x", wr, true)
	syncDir(t, img, "/s")
	if got := content(t, img.Crash(), "/s/b"); got != "x" {
		t.Fatalf("crash of a crash image lost a synced file: %q", got)
	}
}

func TestUnlinkedDescriptorKeepsInode(t *testing.T) {
	m := newDisk(t)
	f, err := m.OpenFile("/s/a", os.O_RDWR|os.O_CREATE, 0o600)
	must(t, err)
	must(t, m.Remove("/s/a"))
	_, err = f.Write([]byte("still"))
	must(t, err)
	r, err := m.OpenFile("/s/a", os.O_RDONLY, 0)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open after unlink: %v, %v; want ErrNotExist", r, err)
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) || errno != syscall.ENOENT {
		t.Fatalf("open after unlink: %v does not wrap ENOENT", err)
	}
	must(t, f.Close())
}

func TestReadDirSortedAndLstat(t *testing.T) {
	var now time.Time = memfs.Epoch.Add(time.Hour)
	m := memfs.New(func() time.Time { return now })
	must(t, m.MkdirAll("/s", 0o700))
	for _, n := range []string{"c", "a", "b"} {
		write(t, m, "/s/"+n, n+n, wr, false)
	}
	names, err := m.ReadDir("/s")
	must(t, err)
	if len(names) != 3 || names[0] != "a" || names[1] != "b" || names[2] != "c" {
		t.Fatalf("ReadDir = %v, want [a b c]", names)
	}
	fi, err := m.Lstat("/s/b")
	must(t, err)
	if fi.Size() != 2 || fi.Mode() != 0o600 || !fi.ModTime().Equal(now) || fi.Name() != "b" {
		t.Fatalf("Lstat = size %d mode %v mtime %v name %s", fi.Size(), fi.Mode(), fi.ModTime(), fi.Name())
	}
}

func TestFileLockExcludesEveryProcess(t *testing.T) {
	m := newDisk(t)
	other := m.NewProcess()
	unlock, err := m.Lock("/s/lock", seam.FileLock)
	must(t, err)
	for _, v := range []*memfs.FS{m, other} {
		if _, ok, err := v.TryLock("/s/lock", seam.FileLock); ok || err != nil {
			t.Fatalf("second FileLock taken (ok=%v, err=%v)", ok, err)
		}
	}
	if fi, err := m.Lstat("/s/lock"); err != nil || fi.Mode() != 0o600 {
		t.Fatalf("lock file: %v, %v; want a 0600 file", fi, err)
	}
	got := make(chan error)
	go func() {
		u, err := other.Lock("/s/lock", seam.FileLock)
		if err == nil {
			err = u()
		}
		got <- err
	}()
	must(t, unlock())
	must(t, <-got)
	if err := unlock(); err == nil {
		t.Fatal("second unlock succeeded")
	}
}

func TestProcessLocksArePerView(t *testing.T) {
	m := newDisk(t)
	other := m.NewProcess()
	u1, err := m.Lock("k", seam.ProcessLock)
	must(t, err)
	if _, ok, _ := m.TryLock("k", seam.ProcessLock); ok {
		t.Fatal("ProcessLock taken twice in one view")
	}
	if _, ok, _ := m.TryLock("k", seam.ProcessSharedLock); ok {
		t.Fatal("ProcessSharedLock taken beside ProcessLock in one view")
	}
	u2, ok, err := other.TryLock("k", seam.ProcessLock)
	if !ok || err != nil {
		t.Fatalf("ProcessLock in another view: ok=%v err=%v; want it free", ok, err)
	}
	must(t, u1())
	must(t, u2())
	var wg sync.WaitGroup
	r1, ok1, _ := m.TryLock("k", seam.ProcessSharedLock)
	r2, ok2, _ := m.TryLock("k", seam.ProcessSharedLock)
	if !ok1 || !ok2 {
		t.Fatal("two readers excluded each other")
	}
	if _, ok, _ := m.TryLock("k", seam.ProcessLock); ok {
		t.Fatal("writer taken beside readers")
	}
	wg.Go(func() {
		u, err := m.Lock("k", seam.ProcessLock)
		if err == nil {
			err = u()
		}
		if err != nil {
			t.Error(err)
		}
	})
	must(t, r1())
	must(t, r2())
	wg.Wait()
}

func TestReadWriteModes(t *testing.T) {
	m := newDisk(t)
	write(t, m, "/s/a", "abc", wr, true)
	f, err := m.OpenFile("/s/a", os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write([]byte("de"))
	must(t, err)
	if _, err := f.Read(make([]byte, 1)); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("read on a write-only descriptor: %v, want EBADF", err)
	}
	must(t, f.Close())
	if _, err := f.Write([]byte("x")); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("write after close: %v, want ErrClosed", err)
	}
	r, err := m.OpenFile("/s/a", os.O_RDONLY, 0)
	must(t, err)
	b, err := io.ReadAll(r)
	must(t, err)
	if string(b) != "abcde" {
		t.Fatalf("contents %q, want abcde", b)
	}
	if _, err := m.OpenFile("/s/a", wr, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("O_EXCL on an existing file: %v, want ErrExist", err)
	}
	if err := m.RenameNoReplace("/s/a", "/s/a"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("RenameNoReplace onto itself: %v, want ErrExist", err)
	}
}

// TestCrashDigestIsTheImagesDigest holds CrashDigest to its promise, on a
// disk with unsynced files, a rename, an unlink and durable directory
// entries that form a cycle (which CrashWith leaves out): the digest of
// each crash view equals the digest of the image CrashWith makes, and
// digests are equal exactly when Dumps are.
func TestCrashDigestIsTheImagesDigest(t *testing.T) {
	m := newDisk(t)
	write(t, m, "/s/a", "synced", wr, true)
	syncDir(t, m, "/s")
	write(t, m, "/s/b", "unsynced", wr, false)
	must(t, m.Rename("/s/a", "/s/c"))
	write(t, m, "/s/d", "gone", wr, true)
	syncDir(t, m, "/s")
	must(t, m.Remove("/s/d"))
	// /x/y durable, then y moved out of x and x into y: the durable
	// entries say x holds y and y holds x.
	must(t, m.MkdirAll("/x/y", 0o700))
	must(t, m.Rename("/x/y", "/y"))
	must(t, m.Rename("/x", "/y/x"))
	syncDir(t, m, "/y")

	var dumps []string
	var digests [][32]byte
	for _, keep := range [4][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		img := m.CrashWith(keep[0], keep[1])
		if got, want := m.CrashDigest(keep[0], keep[1]), img.Digest(); got != want {
			t.Errorf("CrashDigest(%v, %v) = %x, the image's Digest is %x", keep[0], keep[1], got, want)
		}
		dumps, digests = append(dumps, img.Dump()), append(digests, img.Digest())
	}
	if m.Digest() != m.CrashDigest(true, true) {
		t.Error("Digest differs from CrashDigest(true, true)")
	}
	for i := range dumps {
		for j := range dumps {
			if (dumps[i] == dumps[j]) != (digests[i] == digests[j]) {
				t.Errorf("views %d and %d: equal dumps %v, equal digests %v", i, j, dumps[i] == dumps[j], digests[i] == digests[j])
			}
		}
	}
	if digests[0] == digests[3] {
		t.Error("losing everything unsynced gave the digest of keeping everything")
	}
}
