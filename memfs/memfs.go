package memfs

import (
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// Epoch is the time every modification time takes when New is given no
// clock.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// inode is a file or a directory. Its durable state is what a crash keeps.
type inode struct {
	dir   bool
	perm  fs.FileMode
	mtime time.Time

	data    []byte            // file: current contents
	entries map[string]*inode // directory: current entries

	syncedData    []byte            // file: contents at the last fsync
	syncedMtime   time.Time         // modification time at the last fsync
	syncedEntries map[string]*inode // directory: entries at the last fsync

	flocked bool // an seam.FileLock is held on this inode
}

// disk is the state every view shares.
type disk struct {
	mu    sync.Mutex
	cond  *sync.Cond // broadcast whenever a lock is released
	clock model.Clock
	root  *inode
}

// rwState is one process lock: a writer or any number of readers.
type rwState struct {
	readers int
	writer  bool
}

// FS is one process's view of an in-memory disk. It implements seam.FS.
type FS struct {
	d     *disk
	procs map[string]*rwState // guarded by d.mu
}

var _ seam.FS = (*FS)(nil)

// New returns an empty file system holding only the root directory, whose
// modification times come from clock (always Epoch when clock is nil).
func New(clock model.Clock) *FS {
	if clock == nil {
		clock = func() time.Time { return Epoch }
	}
	d := &disk{clock: clock}
	d.cond = sync.NewCond(&d.mu)
	now := clock()
	d.root = &inode{dir: true, perm: 0o755, mtime: now, syncedMtime: now,
		entries: map[string]*inode{}, syncedEntries: map[string]*inode{}}
	return &FS{d: d, procs: map[string]*rwState{}}
}

// NewProcess returns another view of the same disk with its own table of
// process locks, as another operating-system process would see it.
func (f *FS) NewProcess() *FS { return &FS{d: f.d, procs: map[string]*rwState{}} }

func pathErr(op, name string, errno syscall.Errno) error {
	return &fs.PathError{Op: op, Path: name, Err: errno}
}

// split cleans name into its components below the root.
func split(name string) []string {
	c := path.Clean("/" + name)
	if c == "/" {
		return nil
	}
	return strings.Split(c[1:], "/")
}

// lookupParent resolves every component of name but the last and returns
// the parent directory and the last component. For a name that denotes a
// directory without being an entry of one (the root, or a name ending in
// "." or ".."), parent is nil and dot is that directory. The caller holds
// d.mu. Names are cleaned lexically: "a/../b" is "b" even if a is a file.
func (d *disk) lookupParent(name string) (parent *inode, base string, dot *inode, errno syscall.Errno) {
	if name == "" {
		return nil, "", nil, syscall.ENOENT
	}
	parts := split(name)
	raw := strings.TrimRight(name, "/")
	last := raw[strings.LastIndexByte(raw, '/')+1:]
	dotLast := len(parts) == 0 || last == "." || last == ".."
	walk := parts
	if !dotLast {
		walk = parts[:len(parts)-1]
	}
	dir := d.root
	for _, p := range walk {
		next := dir.entries[p]
		if next == nil {
			return nil, "", nil, syscall.ENOENT
		}
		if !next.dir {
			return nil, "", nil, syscall.ENOTDIR
		}
		dir = next
	}
	if dotLast {
		return nil, "", dir, 0
	}
	return dir, parts[len(parts)-1], nil, 0
}

// slashed reports whether name ends in a slash, which only a directory may.
func slashed(name string) bool { return strings.HasSuffix(name, "/") }

// lookup resolves name to its inode. The caller holds d.mu.
func (d *disk) lookup(name string) (*inode, syscall.Errno) {
	parent, base, dot, errno := d.lookupParent(name)
	if errno != 0 {
		return nil, errno
	}
	if parent == nil {
		return dot, 0
	}
	n := parent.entries[base]
	if n == nil {
		return nil, syscall.ENOENT
	}
	if strings.HasSuffix(name, "/") && !n.dir {
		return nil, syscall.ENOTDIR
	}
	return n, 0
}

// OpenFile opens name like os.OpenFile on Linux.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (seam.File, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	n, errno := d.open(name, flag, perm)
	if errno != 0 {
		return nil, pathErr("open", name, errno)
	}
	acc := flag & syscall.O_ACCMODE
	return &file{d: d, n: n, name: name,
		read:   acc == syscall.O_RDONLY || acc == syscall.O_RDWR,
		write:  acc == syscall.O_WRONLY || acc == syscall.O_RDWR,
		append: flag&syscall.O_APPEND != 0}, nil
}

// open does the work of OpenFile. The caller holds d.mu.
func (d *disk) open(name string, flag int, perm fs.FileMode) (*inode, syscall.Errno) {
	parent, base, dot, errno := d.lookupParent(name)
	if errno != 0 {
		return nil, errno
	}
	acc := flag & syscall.O_ACCMODE
	if flag&syscall.O_CREAT != 0 && flag&syscall.O_EXCL != 0 && dot != nil && !slashed(name) {
		return nil, syscall.EEXIST
	}
	if flag&syscall.O_CREAT != 0 && (dot != nil || slashed(name)) {
		return nil, syscall.EISDIR // open(2) creates no directory
	}
	n := dot
	if parent != nil {
		n = parent.entries[base]
	}
	if n == nil {
		if flag&syscall.O_CREAT == 0 {
			return nil, syscall.ENOENT
		}
		if strings.HasSuffix(name, "/") {
			return nil, syscall.EISDIR
		}
		now := d.clock()
		n = &inode{perm: perm & fs.ModePerm, mtime: now, syncedMtime: now}
		parent.entries[base] = n
		parent.mtime = now
		return n, 0
	}
	if flag&syscall.O_CREAT != 0 && flag&syscall.O_EXCL != 0 {
		return nil, syscall.EEXIST
	}
	if n.dir {
		if flag&syscall.O_CREAT != 0 || acc != syscall.O_RDONLY || flag&syscall.O_TRUNC != 0 {
			return nil, syscall.EISDIR
		}
		return n, 0
	}
	if flag&syscall.O_DIRECTORY != 0 || strings.HasSuffix(name, "/") {
		return nil, syscall.ENOTDIR
	}
	if flag&syscall.O_TRUNC != 0 && acc != syscall.O_RDONLY {
		n.data = nil
		n.mtime = d.clock()
	}
	return n, 0
}

// Rename atomically replaces newpath with oldpath, as os.Rename does.
func (f *FS) Rename(oldpath, newpath string) error {
	return f.rename("rename", oldpath, newpath, false)
}

// RenameNoReplace renames oldpath to newpath atomically, failing with
// EEXIST (matching fs.ErrExist) if newpath exists.
func (f *FS) RenameNoReplace(oldpath, newpath string) error {
	return f.rename("renameat2", oldpath, newpath, true)
}

func (f *FS) rename(op, oldpath, newpath string, noReplace bool) error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	fail := func(errno syscall.Errno) error {
		return &os.LinkError{Op: op, Old: oldpath, New: newpath, Err: errno}
	}
	if !noReplace {
		// os.Rename checks first whether newpath is a directory and then
		// refuses with EEXIST, or with oldpath's error if it has one.
		if dst, errno := d.lookup(newpath); errno == 0 && dst.dir {
			src, errno := d.lookup(oldpath)
			switch {
			case errno != 0:
				return fail(errno)
			case newpath == oldpath || src != dst:
				return fail(syscall.EEXIST)
			}
		}
	}
	oparent, obase, _, errno := d.lookupParent(oldpath)
	if errno != 0 {
		return fail(errno)
	}
	nparent, nbase, _, errno := d.lookupParent(newpath)
	if errno != 0 {
		return fail(errno)
	}
	// The root, or a name ending in . or .., as renameat2(2) orders it.
	switch {
	case oparent == nil:
		return fail(syscall.EBUSY)
	case nparent == nil && noReplace:
		return fail(syscall.EEXIST)
	case nparent == nil:
		return fail(syscall.EBUSY)
	}
	src := oparent.entries[obase]
	if src == nil {
		return fail(syscall.ENOENT)
	}
	dst := nparent.entries[nbase]
	switch {
	case dst != nil && noReplace:
		return fail(syscall.EEXIST)
	case !src.dir && (slashed(oldpath) || slashed(newpath)):
		return fail(syscall.ENOTDIR)
	case src.dir && dst != src && d.contains(src, nparent):
		return fail(syscall.EINVAL)
	case dst == src:
		return nil // the same file: rename(2) does nothing
	case dst != nil && dst.dir:
		return fail(syscall.EISDIR)
	case dst != nil && src.dir:
		return fail(syscall.ENOTDIR)
	}
	delete(oparent.entries, obase)
	nparent.entries[nbase] = src
	now := d.clock()
	oparent.mtime, nparent.mtime = now, now
	return nil
}

// contains reports whether dir is top or lies below it.
func (d *disk) contains(top, dir *inode) bool {
	if top == dir {
		return true
	}
	for _, e := range top.entries {
		if e.dir && d.contains(e, dir) {
			return true
		}
	}
	return false
}

// Remove unlinks the file called name. An open descriptor keeps the inode.
func (f *FS) Remove(name string) error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	parent, base, _, errno := d.lookupParent(name)
	if errno != 0 {
		return pathErr("unlink", name, errno)
	}
	if parent == nil {
		return pathErr("unlink", name, syscall.EISDIR)
	}
	n := parent.entries[base]
	switch {
	case n == nil:
		return pathErr("unlink", name, syscall.ENOENT)
	case slashed(name) && !n.dir:
		return pathErr("unlink", name, syscall.ENOTDIR)
	case n.dir:
		return pathErr("unlink", name, syscall.EISDIR)
	}
	delete(parent.entries, base)
	parent.mtime = d.clock()
	return nil
}

// ReadDir returns the names in the directory, sorted.
func (f *FS) ReadDir(name string) ([]string, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	n, errno := d.lookup(name)
	if errno != 0 {
		return nil, pathErr("open", name, errno)
	}
	if !n.dir {
		return nil, pathErr("readdirent", name, syscall.ENOTDIR)
	}
	return slices.Sorted(maps.Keys(n.entries)), nil
}

// Lstat describes name.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	n, errno := d.lookup(name)
	if errno != 0 {
		return nil, pathErr("lstat", name, errno)
	}
	base := path.Base(name)
	return fileInfo{name: base, size: int64(len(n.data)), mode: n.mode(), mtime: n.mtime}, nil
}

func (n *inode) mode() fs.FileMode {
	if n.dir {
		return fs.ModeDir | n.perm
	}
	return n.perm
}

type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.mtime }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

// file is an open descriptor.
type file struct {
	d                   *disk
	n                   *inode
	name                string
	read, write, append bool
	off                 int
	closed              bool
}

func (f *file) Read(p []byte) (int, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case f.closed:
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrClosed}
	case len(p) == 0:
		return 0, nil // os returns before read(2)
	case f.n.dir:
		return 0, pathErr("read", f.name, syscall.EISDIR)
	case !f.read:
		return 0, pathErr("read", f.name, syscall.EBADF)
	case f.off >= len(f.n.data):
		return 0, io.EOF
	}
	k := copy(p, f.n.data[f.off:])
	f.off += k
	return k, nil
}

func (f *file) Write(p []byte) (int, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case f.closed:
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrClosed}
	case !f.write:
		return 0, pathErr("write", f.name, syscall.EBADF)
	case len(p) == 0:
		return 0, nil
	}
	n := f.n
	if f.append {
		f.off = len(n.data)
	}
	end := f.off + len(p)
	if end > len(n.data) {
		// A fresh slice, never an append into shared capacity: a crash
		// image or a synced copy may hold the old backing array.
		grown := make([]byte, end)
		copy(grown, n.data)
		n.data = grown
	}
	copy(n.data[f.off:], p)
	f.off = end
	n.mtime = d.clock()
	return len(p), nil
}

// Sync makes the file's contents durable, or a directory's entries.
func (f *file) Sync() error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "sync", Path: f.name, Err: fs.ErrClosed}
	}
	n := f.n
	if n.dir {
		n.syncedEntries = maps.Clone(n.entries)
	} else {
		n.syncedData = slices.Clone(n.data)
	}
	n.syncedMtime = n.mtime
	return nil
}

func (f *file) Close() error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}
