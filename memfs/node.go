package memfs

import (
	"io/fs"
	"maps"
	"slices"
	"syscall"
	"time"
)

// Node is one inode of the disk, addressed directly rather than by name,
// for a server that names files the way the kernel does (a FUSE server
// receives a node and an entry name, never a path). Every Node method works
// on the same disk as the FS views, under the same lock, with the same
// durability model: a Node write is unsynced until Sync, a directory
// change until Sync on the directory, and [FS.Crash] and [FS.CrashWith]
// see both alike. The zero Node is invalid. Nodes are comparable: two
// Nodes are equal exactly when they are the same inode.
type Node struct {
	d *disk
	n *inode
}

// NodeAttr describes a Node.
type NodeAttr struct {
	Dir   bool
	Perm  fs.FileMode
	Size  int64
	Mtime time.Time
}

// Root returns the root directory.
func (f *FS) Root() Node {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	return Node{d: f.d, n: f.d.root}
}

// Attr describes the node as it is now.
func (n Node) Attr() NodeAttr {
	n.d.mu.Lock()
	defer n.d.mu.Unlock()
	return NodeAttr{Dir: n.n.dir, Perm: n.n.perm, Size: int64(len(n.n.data)), Mtime: n.n.mtime}
}

// validName reports whether name can be an entry of a directory.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !containsSlash(name)
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

// dirEntry returns the entry called name of the directory n. The caller
// holds d.mu.
func (n Node) dirEntry(name string) (*inode, syscall.Errno) {
	if !n.n.dir {
		return nil, syscall.ENOTDIR
	}
	if !validName(name) {
		return nil, syscall.EINVAL
	}
	return n.n.entries[name], 0
}

// Lookup returns the entry called name of the directory n.
func (n Node) Lookup(name string) (Node, syscall.Errno) {
	n.d.mu.Lock()
	defer n.d.mu.Unlock()
	e, errno := n.dirEntry(name)
	switch {
	case errno != 0:
		return Node{}, errno
	case e == nil:
		return Node{}, syscall.ENOENT
	}
	return Node{d: n.d, n: e}, 0
}

// Create makes a regular file called name in the directory n, as
// open(2) with O_CREAT does: an existing file is returned (created false)
// unless excl, which fails with EEXIST; an existing directory is EISDIR.
func (n Node) Create(name string, perm fs.FileMode, excl bool) (node Node, created bool, errno syscall.Errno) {
	d := n.d
	d.mu.Lock()
	defer d.mu.Unlock()
	e, errno := n.dirEntry(name)
	switch {
	case errno != 0:
		return Node{}, false, errno
	case e != nil && excl:
		return Node{}, false, syscall.EEXIST
	case e != nil && e.dir:
		return Node{}, false, syscall.EISDIR
	case e != nil:
		return Node{d: d, n: e}, false, 0
	}
	now := d.clock()
	e = &inode{perm: perm & fs.ModePerm, mtime: now, syncedMtime: now}
	n.n.entries[name] = e
	n.n.mtime = now
	return Node{d: d, n: e}, true, 0
}

// Mkdir makes a directory called name in the directory n. Unlike
// [FS.MkdirAll] (set-up), it is unsynced until n is synced.
func (n Node) Mkdir(name string, perm fs.FileMode) (Node, syscall.Errno) {
	d := n.d
	d.mu.Lock()
	defer d.mu.Unlock()
	e, errno := n.dirEntry(name)
	switch {
	case errno != 0:
		return Node{}, errno
	case e != nil:
		return Node{}, syscall.EEXIST
	}
	now := d.clock()
	e = &inode{dir: true, perm: perm & fs.ModePerm, mtime: now, syncedMtime: now,
		entries: map[string]*inode{}, syncedEntries: map[string]*inode{}}
	n.n.entries[name] = e
	n.n.mtime = now
	return Node{d: d, n: e}, 0
}

// Unlink removes the file called name from the directory n (unlink(2));
// an open descriptor keeps the inode. A directory is EISDIR.
func (n Node) Unlink(name string) syscall.Errno {
	return n.remove(name, false)
}

// Rmdir removes the empty directory called name from the directory n.
func (n Node) Rmdir(name string) syscall.Errno {
	return n.remove(name, true)
}

func (n Node) remove(name string, dir bool) syscall.Errno {
	d := n.d
	d.mu.Lock()
	defer d.mu.Unlock()
	e, errno := n.dirEntry(name)
	switch {
	case errno != 0:
		return errno
	case e == nil:
		return syscall.ENOENT
	case dir && !e.dir:
		return syscall.ENOTDIR
	case !dir && e.dir:
		return syscall.EISDIR
	case dir && len(e.entries) > 0:
		return syscall.ENOTEMPTY
	}
	delete(n.n.entries, name)
	n.n.mtime = d.clock()
	return 0
}

// Rename moves the entry called name of the directory n to newName in the
// directory to, replacing what is there unless noReplace (renameat2(2)
// with RENAME_NOREPLACE, which fails with EEXIST), as rename(2) does.
func (n Node) Rename(name string, to Node, newName string, noReplace bool) syscall.Errno {
	d := n.d
	d.mu.Lock()
	defer d.mu.Unlock()
	src, errno := n.dirEntry(name)
	if errno != 0 {
		return errno
	}
	dst, errno := to.dirEntry(newName)
	switch {
	case errno != 0:
		return errno
	case src == nil:
		return syscall.ENOENT
	case dst != nil && noReplace:
		return syscall.EEXIST
	case dst == src:
		return 0 // the same file: rename(2) does nothing
	case src.dir && d.contains(src, to.n):
		return syscall.EINVAL
	case dst != nil && dst.dir && !src.dir:
		return syscall.EISDIR
	case dst != nil && !dst.dir && src.dir:
		return syscall.ENOTDIR
	case dst != nil && dst.dir && len(dst.entries) > 0:
		return syscall.ENOTEMPTY
	}
	delete(n.n.entries, name)
	to.n.entries[newName] = src
	now := d.clock()
	n.n.mtime, to.n.mtime = now, now
	return 0
}

// ReadAt reads from the file at off, as pread(2): 0 bytes at or past the
// end.
func (n Node) ReadAt(p []byte, off int64) (int, syscall.Errno) {
	n.d.mu.Lock()
	defer n.d.mu.Unlock()
	switch {
	case n.n.dir:
		return 0, syscall.EISDIR
	case off < 0:
		return 0, syscall.EINVAL
	case off >= int64(len(n.n.data)):
		return 0, 0
	}
	return copy(p, n.n.data[off:]), 0
}

// WriteAt writes p to the file at off, as pwrite(2), growing it (with
// zeros up to off) as needed.
func (n Node) WriteAt(p []byte, off int64) (int, syscall.Errno) {
	d := n.d
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case n.n.dir:
		return 0, syscall.EISDIR
	case off < 0:
		return 0, syscall.EINVAL
	case len(p) == 0:
		return 0, 0
	}
	end := int(off) + len(p)
	// Always a fresh slice: a synced copy or a crash image may share the
	// old backing array.
	grown := make([]byte, max(end, len(n.n.data)))
	copy(grown, n.n.data)
	copy(grown[off:], p)
	n.n.data = grown
	n.n.mtime = d.clock()
	return len(p), 0
}

// Truncate sets the file's size, as ftruncate(2).
func (n Node) Truncate(size int64) syscall.Errno {
	d := n.d
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case n.n.dir:
		return syscall.EISDIR
	case size < 0:
		return syscall.EINVAL
	}
	data := make([]byte, size)
	copy(data, n.n.data)
	n.n.data = data
	n.n.mtime = d.clock()
	return 0
}

// SetPerm changes the permission bits (chmod(2)), which are recorded and
// not enforced.
func (n Node) SetPerm(perm fs.FileMode) {
	n.d.mu.Lock()
	defer n.d.mu.Unlock()
	n.n.perm = perm & fs.ModePerm
}

// Sync makes the file's contents, or the directory's entries, durable:
// fsync(2).
func (n Node) Sync() syscall.Errno {
	n.d.mu.Lock()
	defer n.d.mu.Unlock()
	if n.n.dir {
		n.n.syncedEntries = maps.Clone(n.n.entries)
	} else {
		n.n.syncedData = slices.Clone(n.n.data)
	}
	n.n.syncedMtime = n.n.mtime
	return 0
}

// NodeEntry is one entry of a directory.
type NodeEntry struct {
	Name string
	Node Node
}

// Entries returns the directory's entries, sorted by name.
func (n Node) Entries() ([]NodeEntry, syscall.Errno) {
	n.d.mu.Lock()
	defer n.d.mu.Unlock()
	if !n.n.dir {
		return nil, syscall.ENOTDIR
	}
	out := make([]NodeEntry, 0, len(n.n.entries))
	for _, name := range slices.Sorted(maps.Keys(n.n.entries)) {
		out = append(out, NodeEntry{Name: name, Node: Node{d: n.d, n: n.n.entries[name]}})
	}
	return out, 0
}
