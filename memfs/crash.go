package memfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
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
	var b bytes.Buffer
	f.describe(&b)
	return b.String()
}

// Digest is a SHA-256 over the whole tree as Dump describes it (names,
// modes, contents; not modification times), computed without holding a
// description in memory: two disks with the same Digest have the same Dump
// (barring a SHA-256 collision). A checker that meets many states keeps
// digests of those it has examined rather than the states.
func (f *FS) Digest() [sha256.Size]byte { return f.CrashDigest(true, true) }

// CrashDigest is CrashWith(keepNames, keepData).Digest(), computed from
// the disk as it is, without making the crash image: a checker that meets
// the same crash image at many crash points makes the image only the first
// time.
func (f *FS) CrashDigest(keepNames, keepData bool) [sha256.Size]byte {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	v := digester{keepNames: keepNames, keepData: keepData, memo: map[*inode][sha256.Size]byte{},
		onPath: map[*inode]bool{}, h: sha256.New()}
	return v.sum(d.root)
}

// digester hashes a view of the tree bottom up: a file by its mode and
// contents, a directory by its mode and its entries' names and digests.
// It walks the entries CrashWith would copy, memoised per inode and
// leaving out entries that would close a cycle, exactly as CrashWith does,
// so the digest of a view equals the digest of its copy.
type digester struct {
	keepNames, keepData bool
	memo                map[*inode][sha256.Size]byte
	onPath              map[*inode]bool
	h                   hash.Hash
	buf                 []byte
}

func (v *digester) sum(n *inode) [sha256.Size]byte {
	if s, ok := v.memo[n]; ok {
		return s
	}
	var out [sha256.Size]byte
	if !n.dir {
		data := n.syncedData
		if v.keepData {
			data = n.data
		}
		v.buf = binary.BigEndian.AppendUint32(append(v.buf[:0], 'f'), uint32(n.mode()))
		v.buf = binary.BigEndian.AppendUint64(v.buf, uint64(len(data)))
		v.h.Reset()
		v.h.Write(v.buf)
		v.h.Write(data)
		v.h.Sum(out[:0])
		v.memo[n] = out
		return out
	}
	src := n.syncedEntries
	if v.keepNames {
		src = n.entries
	}
	v.onPath[n] = true
	names := slices.Sorted(maps.Keys(src))
	sums := make([][sha256.Size]byte, len(names))
	kept := make([]bool, len(names))
	for i, name := range names {
		if e := src[name]; !v.onPath[e] {
			sums[i], kept[i] = v.sum(e), true
		}
	}
	delete(v.onPath, n)
	v.h.Reset()
	v.buf = binary.BigEndian.AppendUint32(append(v.buf[:0], 'd'), uint32(n.mode()))
	v.h.Write(v.buf)
	for i, name := range names {
		if !kept[i] {
			continue
		}
		v.buf = binary.BigEndian.AppendUint64(v.buf[:0], uint64(len(name)))
		v.h.Write(v.buf)
		v.h.Write([]byte(name))
		v.h.Write(sums[i][:])
	}
	v.h.Sum(out[:0])
	v.memo[n] = out
	return out
}

// describe writes Dump's text to w, which never fails (a bytes.Buffer or
// a hash).
func (f *FS) describe(w io.Writer) {
	d := f.d
	d.mu.Lock()
	defer d.mu.Unlock()
	var walk func(prefix string, n *inode)
	walk = func(prefix string, n *inode) {
		for _, name := range slices.Sorted(maps.Keys(n.entries)) {
			e := n.entries[name]
			fmt.Fprintf(w, "%s/%s %v %q\n", prefix, name, e.mode(), e.data)
			if e.dir {
				walk(prefix+"/"+name, e)
			}
		}
	}
	walk("", d.root)
}
