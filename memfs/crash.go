package memfs

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"syscall"
)

// MkdirAll makes the directory name and any missing parents, durable at
// once (it is set-up, not something the store under test does). It fails
// with ENOTDIR if a component is a file.
func (f *FS) MkdirAll(name string, perm fs.FileMode) error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	dir := d.root
	for _, p := range split(name) {
		next := dir.entries[p]
		if next == nil {
			now := d.clock()
			next = &inode{dir: true, perm: perm & fs.ModePerm, mtime: now, syncedMtime: now,
				entries: map[string]*inode{}, syncedEntries: map[string]*inode{}}
			dir.entries[p] = next
			dir.syncedEntries[p] = next
			dir.mtime, dir.syncedMtime = now, now
		}
		if !next.dir {
			return pathErr("mkdir", name, syscall.ENOTDIR)
		}
		dir = next
	}
	return nil
}

// WriteFile plants a file called name holding data, durable at once (name
// and contents), replacing any file of that name. It is set-up for tests:
// a hostile or corrupt file the store must cope with.
func (f *FS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	parent, base, _, errno := d.lookupParent(name)
	if errno != 0 {
		return pathErr("open", name, errno)
	}
	if parent == nil || (parent.entries[base] != nil && parent.entries[base].dir) {
		return pathErr("open", name, syscall.EISDIR)
	}
	now := d.clock()
	n := &inode{perm: perm & fs.ModePerm, mtime: now, syncedMtime: now,
		data: slices.Clone(data), syncedData: slices.Clone(data)}
	parent.entries[base] = n
	parent.syncedEntries[base] = n
	return nil
}

// ReadFile returns the current contents of the file called name.
func (f *FS) ReadFile(name string) ([]byte, error) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	n, errno := d.lookup(name)
	if errno != 0 {
		return nil, pathErr("open", name, errno)
	}
	if n.dir {
		return nil, pathErr("read", name, syscall.EISDIR)
	}
	return slices.Clone(n.data), nil
}

// Crash returns the disk as it would be found after a power loss now, in
// the worst case for lost data: only synced names and synced contents
// survive. It is CrashWith(false, false). The original is not changed; the
// result is a new disk with one process view, no locks held and no open
// descriptors, on which everything is durable.
func (f *FS) Crash() *FS { return f.CrashWith(false, false) }

// CrashWith returns the disk as it would be found after a power loss now.
// keepNames says whether the unsynced changes to directories (creations,
// renames, unlinks) reached the disk; keepData whether the unsynced changes
// to file contents (writes, truncations) did. CrashWith(true, true) is the
// disk as it is; CrashWith(true, false) is a rename persisted before the
// data it points at; CrashWith(false, false) loses everything unsynced.
func (f *FS) CrashWith(keepNames, keepData bool) *FS {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	out := New(d.clock)
	copied := map[*inode]*inode{}
	var cp func(n *inode, onPath map[*inode]bool) *inode
	cp = func(n *inode, onPath map[*inode]bool) *inode {
		if c := copied[n]; c != nil {
			return c
		}
		c := &inode{dir: n.dir, perm: n.perm, mtime: n.syncedMtime}
		if keepData || keepNames && n.dir {
			c.mtime = n.mtime
		}
		copied[n] = c
		if !n.dir {
			src := n.syncedData
			if keepData {
				src = n.data
			}
			c.data = slices.Clone(src)
			c.syncedData = slices.Clone(src)
			c.syncedMtime = c.mtime
			return c
		}
		src := n.syncedEntries
		if keepNames {
			src = n.entries
		}
		onPath[n] = true
		c.entries = map[string]*inode{}
		for _, name := range slices.Sorted(maps.Keys(src)) {
			e := src[name]
			if onPath[e] {
				// Durable entries recorded at different times can form a
				// cycle after directory renames; no disk can hold one.
				continue
			}
			c.entries[name] = cp(e, onPath)
		}
		delete(onPath, n)
		c.syncedEntries = maps.Clone(c.entries)
		c.syncedMtime = c.mtime
		return c
	}
	out.d.root = cp(d.root, map[*inode]bool{})
	return out
}

// Dump describes the whole tree as it is now — every name, each file's
// mode and contents — one line per entry in name order. Two disks with the
// same Dump look the same to every call a store makes, so a checker can use
// it to skip a state it has already examined.
func (f *FS) Dump() string {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	var b []byte
	var walk func(prefix string, n *inode)
	walk = func(prefix string, n *inode) {
		for _, name := range slices.Sorted(maps.Keys(n.entries)) {
			e := n.entries[name]
			b = fmt.Appendf(b, "%s/%s %v %q\n", prefix, name, e.mode(), e.data)
			if e.dir {
				walk(prefix+"/"+name, e)
			}
		}
	}
	walk("", d.root)
	return string(b)
}
