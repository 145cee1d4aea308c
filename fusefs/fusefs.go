// Package fusefs serves the simulated disk of package memfs over FUSE, so
// that any process, in any language, works on it unchanged: its session
// directory is a directory on the mount, and every file-system call it
// makes reaches this server as a kernel request, where a hook can fail it
// and memfs keeps what was synced and what was not, for crash states.
//
// Nothing is cached by the kernel: entries, attributes and negative
// lookups expire at once and every file is opened with direct I/O, so each
// read, write and lookup a process makes is a request the server sees.
// flock(2) and fcntl(2) locks are implemented by the server (the kernel
// forwards them because the mount enables locks), so a lock wait is a
// request held by the server, visible to whoever drives it.
//
// Mounting needs /dev/fuse and the privilege to call mount(2) (root, or
// CAP_SYS_ADMIN): [Available] says whether this machine has both, and why
// not. The server mounts directly, without fusermount.
package fusefs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/sessioncheck/sessioncheck/memfs"
)

// Request is one kernel request, as the server sees it before acting on
// it.
type Request struct {
	Op    string // lower-case request name: create, write, fsync, fsyncdir, rename, lock, ...
	Name  string // the entry name (lookup, create, unlink, rename), or the name the node was last found by
	Name2 string // rename: the new name
	Flags uint32 // open and create flags; rename flags
	Wait  bool   // lock: SETLKW (the caller blocks until it holds the lock)
	Pid   uint32 // the calling process
}

func (r Request) String() string {
	s := r.Op + " " + r.Name
	if r.Name2 != "" {
		s += " -> " + r.Name2
	}
	return s
}

// Options tune a Server.
type Options struct {
	// Before, if not nil, runs before the server acts on each request
	// (except forget, release and releasedir, which cannot fail, and
	// init and destroy). A non-zero errno answers the request with it, and
	// the server does nothing else. It may block: the request waits.
	Before func(Request) syscall.Errno
	// Blocked, if not nil, runs when a lock request has to wait for
	// another owner's lock (it runs again each time the wait goes on after
	// a release that did not let it through).
	Blocked func(Request)
	// Debug logs every request and response (go-fuse's debug output).
	Debug bool
}

// Server is a mounted memfs disk.
type Server struct {
	fuse.RawFileSystem
	disk *memfs.FS
	opts Options
	dir  string
	srv  *fuse.Server
	uid  uint32
	gid  uint32

	mu      sync.Mutex
	nodes   map[uint64]*entry
	ids     map[memfs.Node]uint64
	nextID  uint64
	handles map[uint64]*handle
	nextFh  uint64
	locks   lockTable
	changed chan struct{} // closed and replaced whenever a lock is released

	served chan struct{} // closed when Serve returns
	closed bool
}

// entry is a node the kernel knows by id.
type entry struct {
	node    memfs.Node
	name    string // the name it was last found by, for Request.Name
	lookups uint64
}

// handle is an open file or directory.
type handle struct {
	id      uint64 // the node's id
	node    memfs.Node
	flags   uint32
	entries []memfs.NodeEntry // directory: the listing taken at opendir
}

// ErrUnavailable is matched by the error of Available and Mount when the
// machine cannot mount a FUSE file system at all.
var ErrUnavailable = errors.New("FUSE unavailable")

// Available returns nil if this process can mount a FUSE file system, and
// otherwise an error matching ErrUnavailable that says exactly why.
func Available() error {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("%w: cannot open /dev/fuse: %v", ErrUnavailable, err)
	}
	f.Close()
	if os.Geteuid() != 0 {
		// A direct mount needs CAP_SYS_ADMIN; an unprivileged user would
		// need fusermount, which this package does not use.
		return fmt.Errorf("%w: mounting directly needs root (effective uid is %d)", ErrUnavailable, os.Geteuid())
	}
	return nil
}

// Mount serves disk on the empty directory mountpoint and returns once the
// mount is up. The caller must Close the server (a test: in t.Cleanup), or
// the mount stays behind.
func Mount(disk *memfs.FS, mountpoint string, opts Options) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	s := &Server{RawFileSystem: fuse.NewDefaultRawFileSystem(), disk: disk, opts: opts, dir: mountpoint,
		uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		nodes: map[uint64]*entry{}, ids: map[memfs.Node]uint64{}, nextID: 2,
		handles: map[uint64]*handle{}, nextFh: 1, locks: lockTable{},
		changed: make(chan struct{}), served: make(chan struct{})}
	root := disk.Root()
	s.nodes[fuse.FUSE_ROOT_ID] = &entry{node: root, name: "/", lookups: 1}
	s.ids[root] = fuse.FUSE_ROOT_ID
	srv, err := fuse.NewServer(s, mountpoint, &fuse.MountOptions{
		DirectMount:        true,
		EnableLocks:        true,
		DisableReadDirPlus: true,
		DisableXAttrs:      true,
		FsName:             fsName(),
		Name:               "sessioncheck",
		Debug:              opts.Debug,
	})
	if err != nil {
		return nil, fmt.Errorf("fusefs: mount on %s: %w", mountpoint, err)
	}
	s.srv = srv
	track(s)
	go func() {
		srv.Serve()
		close(s.served)
	}()
	if err := srv.WaitMount(); err != nil {
		s.Close()
		return nil, fmt.Errorf("fusefs: mount on %s: %w", mountpoint, err)
	}
	return s, nil
}

// Dir is the mount point.
func (s *Server) Dir() string { return s.dir }

// Disk is the disk served.
func (s *Server) Disk() *memfs.FS { return s.disk }

// Close unmounts. If the kernel refuses (a process still has a file open
// on the mount), it detaches the mount lazily, so nothing new can reach it
// and it goes once the last user lets go, and reports that it had to. Every
// lock wait is ended.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.changed) // wakes every lock waiter, which now sees closed
	s.mu.Unlock()
	defer untrack(s)
	var errs []error
	if err := s.srv.Unmount(); err != nil {
		if derr := unix.Unmount(s.dir, unix.MNT_DETACH); derr != nil && !errors.Is(derr, unix.EINVAL) {
			return fmt.Errorf("fusefs: unmount %s: %v; lazy unmount: %w", s.dir, err, derr)
		}
		errs = append(errs, fmt.Errorf("fusefs: unmount %s: %v (detached lazily instead)", s.dir, err))
	}
	select {
	case <-s.served:
	case <-time.After(10 * time.Second):
		errs = append(errs, fmt.Errorf("fusefs: the server for %s did not stop within 10s of the unmount", s.dir))
	}
	return errors.Join(errs...)
}

// before runs the hook.
func (s *Server) before(r Request) fuse.Status {
	if s.opts.Before == nil {
		return fuse.OK
	}
	if errno := s.opts.Before(r); errno != 0 {
		return fuse.Status(errno)
	}
	return fuse.OK
}

// node returns the entry for a kernel node id.
func (s *Server) node(id uint64) (*entry, fuse.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.nodes[id]
	if e == nil {
		return nil, fuse.ENOENT
	}
	return e, fuse.OK
}

func (s *Server) nameOf(id uint64) string {
	if e, st := s.node(id); st == fuse.OK {
		return e.name
	}
	return fmt.Sprintf("node%d", id)
}

func status(errno syscall.Errno) fuse.Status {
	if errno == 0 {
		return fuse.OK
	}
	return fuse.Status(errno)
}

func (s *Server) attr(id uint64, n memfs.Node, out *fuse.Attr) {
	a := n.Attr()
	*out = fuse.Attr{Ino: id, Size: uint64(a.Size), Blocks: (uint64(a.Size) + 511) / 512, Blksize: 4096,
		Nlink: 1, Mode: uint32(a.Perm.Perm()), Owner: fuse.Owner{Uid: s.uid, Gid: s.gid}}
	if a.Dir {
		out.Mode |= syscall.S_IFDIR
		out.Nlink = 2
	} else {
		out.Mode |= syscall.S_IFREG
	}
	out.SetTimes(&a.Mtime, &a.Mtime, &a.Mtime)
}

// remember gives n a node id (the same one while the kernel knows it) and
// fills out, with zero timeouts: the kernel asks again every time.
func (s *Server) remember(n memfs.Node, name string, out *fuse.EntryOut) {
	s.mu.Lock()
	id, ok := s.ids[n]
	if !ok {
		id = s.nextID
		s.nextID++
		s.ids[n] = id
		s.nodes[id] = &entry{node: n}
	}
	e := s.nodes[id]
	e.lookups++
	e.name = name
	s.mu.Unlock()
	*out = fuse.EntryOut{NodeId: id}
	s.attr(id, n, &out.Attr)
}

// String names the file system for go-fuse's logs.
func (s *Server) String() string { return "sessioncheck-memfs" }

// Lookup finds an entry of a directory.
func (s *Server) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	if st := s.before(Request{Op: "lookup", Name: name, Pid: h.Pid}); st != fuse.OK {
		return st
	}
	parent, st := s.node(h.NodeId)
	if st != fuse.OK {
		return st
	}
	n, errno := parent.node.Lookup(name)
	if errno != 0 {
		return status(errno)
	}
	s.remember(n, name, out)
	return fuse.OK
}

// Forget drops the kernel's references to a node.
func (s *Server) Forget(id, nlookup uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.nodes[id]
	if e == nil || id == fuse.FUSE_ROOT_ID {
		return
	}
	if e.lookups <= nlookup {
		delete(s.nodes, id)
		delete(s.ids, e.node)
		return
	}
	e.lookups -= nlookup
}

// GetAttr describes a node.
func (s *Server) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	e, st := s.node(in.NodeId)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "getattr", Name: e.name, Pid: in.Pid}); st != fuse.OK {
		return st
	}
	s.attr(in.NodeId, e.node, &out.Attr)
	return fuse.OK
}

// SetAttr truncates (ftruncate, O_TRUNC) and changes permissions; owners
// and times are accepted and not kept (memfs keeps its own clock).
func (s *Server) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	e, st := s.node(in.NodeId)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "setattr", Name: e.name, Pid: in.Pid}); st != fuse.OK {
		return st
	}
	if size, ok := in.GetSize(); ok {
		if errno := e.node.Truncate(int64(size)); errno != 0 {
			return status(errno)
		}
	}
	if mode, ok := in.GetMode(); ok {
		e.node.SetPerm(fs.FileMode(mode).Perm())
	}
	s.attr(in.NodeId, e.node, &out.Attr)
	return fuse.OK
}

// Mkdir makes a directory.
func (s *Server) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	if st := s.before(Request{Op: "mkdir", Name: name, Pid: in.Pid}); st != fuse.OK {
		return st
	}
	parent, st := s.node(in.NodeId)
	if st != fuse.OK {
		return st
	}
	n, errno := parent.node.Mkdir(name, fs.FileMode(in.Mode).Perm())
	if errno != 0 {
		return status(errno)
	}
	s.remember(n, name, out)
	return fuse.OK
}

// Unlink removes a file.
func (s *Server) Unlink(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	if st := s.before(Request{Op: "unlink", Name: name, Pid: h.Pid}); st != fuse.OK {
		return st
	}
	parent, st := s.node(h.NodeId)
	if st != fuse.OK {
		return st
	}
	return status(parent.node.Unlink(name))
}

// Rmdir removes an empty directory.
func (s *Server) Rmdir(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	if st := s.before(Request{Op: "rmdir", Name: name, Pid: h.Pid}); st != fuse.OK {
		return st
	}
	parent, st := s.node(h.NodeId)
	if st != fuse.OK {
		return st
	}
	return status(parent.node.Rmdir(name))
}

// Rename is rename(2) and renameat2(2) with RENAME_NOREPLACE; exchange and
// whiteout are refused with EINVAL.
func (s *Server) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	if st := s.before(Request{Op: "rename", Name: oldName, Name2: newName, Flags: in.Flags, Pid: in.Pid}); st != fuse.OK {
		return st
	}
	if in.Flags&^unix.RENAME_NOREPLACE != 0 {
		return fuse.EINVAL
	}
	from, st := s.node(in.NodeId)
	if st != fuse.OK {
		return st
	}
	to, st := s.node(in.Newdir)
	if st != fuse.OK {
		return st
	}
	return status(from.node.Rename(oldName, to.node, newName, in.Flags&unix.RENAME_NOREPLACE != 0))
}

func (s *Server) open(id uint64, n memfs.Node, flags uint32, out *fuse.OpenOut) {
	s.mu.Lock()
	fh := s.nextFh
	s.nextFh++
	s.handles[fh] = &handle{id: id, node: n, flags: flags}
	s.mu.Unlock()
	*out = fuse.OpenOut{Fh: fh, OpenFlags: fuse.FOPEN_DIRECT_IO}
}

// Create makes and opens a file (open(2) with O_CREAT of a missing name,
// or with O_EXCL).
func (s *Server) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	if st := s.before(Request{Op: "create", Name: name, Flags: in.Flags, Pid: in.Pid}); st != fuse.OK {
		return st
	}
	parent, st := s.node(in.NodeId)
	if st != fuse.OK {
		return st
	}
	n, created, errno := parent.node.Create(name, fs.FileMode(in.Mode).Perm(), in.Flags&syscall.O_EXCL != 0)
	if errno != 0 {
		return status(errno)
	}
	if !created && in.Flags&syscall.O_TRUNC != 0 && in.Flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		if errno := n.Truncate(0); errno != 0 {
			return status(errno)
		}
	}
	s.remember(n, name, &out.EntryOut)
	s.open(out.NodeId, n, in.Flags, &out.OpenOut)
	return fuse.OK
}

// Open opens a file, truncating it for O_TRUNC.
func (s *Server) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	e, st := s.node(in.NodeId)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "open", Name: e.name, Flags: in.Flags, Pid: in.Pid}); st != fuse.OK {
		return st
	}
	if in.Flags&syscall.O_TRUNC != 0 && in.Flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		if errno := e.node.Truncate(0); errno != 0 {
			return status(errno)
		}
	}
	s.open(in.NodeId, e.node, in.Flags, out)
	return fuse.OK
}

func (s *Server) handle(fh uint64) (*handle, fuse.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.handles[fh]
	if h == nil {
		return nil, fuse.EBADF
	}
	return h, fuse.OK
}

// Read reads at an offset.
func (s *Server) Read(cancel <-chan struct{}, in *fuse.ReadIn, buf []byte) (fuse.ReadResult, fuse.Status) {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return nil, st
	}
	if st := s.before(Request{Op: "read", Name: s.nameOf(h.id), Pid: in.Pid}); st != fuse.OK {
		return nil, st
	}
	k, errno := h.node.ReadAt(buf[:min(int(in.Size), len(buf))], int64(in.Offset))
	if errno != 0 {
		return nil, status(errno)
	}
	return fuse.ReadResultData(buf[:k]), fuse.OK
}

// Write writes at an offset (the kernel has resolved O_APPEND).
func (s *Server) Write(cancel <-chan struct{}, in *fuse.WriteIn, data []byte) (uint32, fuse.Status) {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return 0, st
	}
	if st := s.before(Request{Op: "write", Name: s.nameOf(h.id), Pid: in.Pid}); st != fuse.OK {
		return 0, st
	}
	off := int64(in.Offset)
	if h.flags&syscall.O_APPEND != 0 {
		off = h.node.Attr().Size
	}
	k, errno := h.node.WriteAt(data, off)
	return uint32(k), status(errno)
}

// Flush is a close(2) of one descriptor: it drops the POSIX locks of the
// closing owner, as close does.
func (s *Server) Flush(cancel <-chan struct{}, in *fuse.FlushIn) fuse.Status {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "flush", Name: s.nameOf(h.id), Pid: in.Pid}); st != fuse.OK {
		return st
	}
	s.mu.Lock()
	if s.locks.releaseOwner(h.node, false, in.LockOwner) {
		s.wakeLocked()
	}
	s.mu.Unlock()
	return fuse.OK
}

// Release is the last close of an open file: it drops its flock.
func (s *Server) Release(cancel <-chan struct{}, in *fuse.ReleaseIn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.handles[in.Fh]
	if h == nil {
		return
	}
	delete(s.handles, in.Fh)
	dropped := false
	if in.ReleaseFlags&fuse.FUSE_RELEASE_FLOCK_UNLOCK != 0 {
		dropped = s.locks.releaseOwner(h.node, true, in.LockOwner)
	}
	if dropped {
		s.wakeLocked()
	}
}

// Fsync makes a file's contents durable.
func (s *Server) Fsync(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "fsync", Name: s.nameOf(h.id), Pid: in.Pid}); st != fuse.OK {
		return st
	}
	return status(h.node.Sync())
}

// OpenDir opens a directory, taking the listing readdir will return.
func (s *Server) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	e, st := s.node(in.NodeId)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "opendir", Name: e.name, Flags: in.Flags, Pid: in.Pid}); st != fuse.OK {
		return st
	}
	entries, errno := e.node.Entries()
	if errno != 0 {
		return status(errno)
	}
	s.mu.Lock()
	fh := s.nextFh
	s.nextFh++
	s.handles[fh] = &handle{id: in.NodeId, node: e.node, flags: in.Flags, entries: entries}
	s.mu.Unlock()
	*out = fuse.OpenOut{Fh: fh, OpenFlags: fuse.FOPEN_DIRECT_IO}
	return fuse.OK
}

// ReadDir lists a directory from an offset (the index of the next entry).
func (s *Server) ReadDir(cancel <-chan struct{}, in *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "readdir", Name: s.nameOf(h.id), Pid: in.Pid}); st != fuse.OK {
		return st
	}
	for i := int(in.Offset); i < len(h.entries); i++ {
		e := h.entries[i]
		mode := uint32(syscall.S_IFREG)
		if e.Node.Attr().Dir {
			mode = syscall.S_IFDIR
		}
		if !out.AddDirEntry(fuse.DirEntry{Name: e.Name, Mode: mode, Ino: fuse.FUSE_UNKNOWN_INO, Off: uint64(i + 1)}) {
			break
		}
	}
	return fuse.OK
}

// ReleaseDir closes a directory.
func (s *Server) ReleaseDir(in *fuse.ReleaseIn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.handles, in.Fh)
}

// FsyncDir makes a directory's entries durable.
func (s *Server) FsyncDir(cancel <-chan struct{}, in *fuse.FsyncIn) fuse.Status {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return st
	}
	if st := s.before(Request{Op: "fsyncdir", Name: s.nameOf(h.id), Pid: in.Pid}); st != fuse.OK {
		return st
	}
	return status(h.node.Sync())
}

// StatFs reports a roomy disk.
func (s *Server) StatFs(cancel <-chan struct{}, h *fuse.InHeader, out *fuse.StatfsOut) fuse.Status {
	*out = fuse.StatfsOut{Blocks: 1 << 20, Bfree: 1 << 20, Bavail: 1 << 20, Files: 1 << 20, Ffree: 1 << 20,
		Bsize: 4096, NameLen: 255, Frsize: 4096}
	return fuse.OK
}

// Access allows everything: memfs records permissions and does not
// enforce them.
func (s *Server) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status { return fuse.OK }

// GetLk reports a lock that would keep the requested one from being taken.
func (s *Server) GetLk(cancel <-chan struct{}, in *fuse.LkIn, out *fuse.LkOut) fuse.Status {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return st
	}
	want, unlock, errno := lockOf(in.LkFlags&fuse.LK_FLOCK != 0, in.Owner, in.Lk.Start, in.Lk.End, in.Lk.Typ, in.Lk.Pid)
	if errno != 0 {
		return status(errno)
	}
	out.Lk = fuse.FileLock{Typ: syscall.F_UNLCK}
	if unlock {
		return fuse.OK
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.locks.conflict(h.node, want); ok {
		typ := uint32(syscall.F_RDLCK)
		if l.write {
			typ = syscall.F_WRLCK
		}
		out.Lk = fuse.FileLock{Start: l.start, End: l.end, Typ: typ, Pid: l.pid}
	}
	return fuse.OK
}

// SetLk takes or releases a lock without waiting: EAGAIN if it is held.
func (s *Server) SetLk(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return s.setLk(cancel, in, false)
}

// SetLkw takes a lock, waiting while another owner holds it. The wait ends
// with EINTR when the kernel interrupts the request (the caller got a
// signal, or was killed).
func (s *Server) SetLkw(cancel <-chan struct{}, in *fuse.LkIn) fuse.Status {
	return s.setLk(cancel, in, true)
}

func (s *Server) setLk(cancel <-chan struct{}, in *fuse.LkIn, wait bool) fuse.Status {
	h, st := s.handle(in.Fh)
	if st != fuse.OK {
		return st
	}
	flock := in.LkFlags&fuse.LK_FLOCK != 0
	want, unlock, errno := lockOf(flock, in.Owner, in.Lk.Start, in.Lk.End, in.Lk.Typ, in.Pid)
	if errno != 0 {
		return status(errno)
	}
	req := Request{Op: "lock", Name: s.nameOf(h.id), Wait: wait, Pid: in.Pid}
	if unlock {
		req.Op = "unlock"
	}
	if st := s.before(req); st != fuse.OK {
		return st
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if unlock {
		s.locks.set(h.node, want, true)
		s.wakeLocked()
		return fuse.OK
	}
	for {
		if s.closed {
			return fuse.EINTR
		}
		if _, busy := s.locks.conflict(h.node, want); !busy {
			// flock converts a held lock in place; both kinds replace the
			// owner's own lock over the range.
			s.locks.set(h.node, want, false)
			if flock {
				s.wakeLocked() // a downgrade may let readers in
			}
			return fuse.OK
		}
		if !wait {
			return fuse.EAGAIN
		}
		ch := s.changed
		s.mu.Unlock()
		if s.opts.Blocked != nil {
			s.opts.Blocked(req)
		}
		select {
		case <-ch:
		case <-cancel:
			s.mu.Lock()
			return fuse.EINTR
		}
		s.mu.Lock()
	}
}

// wakeLocked lets every lock waiter look again. The caller holds s.mu.
func (s *Server) wakeLocked() {
	if s.closed {
		return
	}
	close(s.changed)
	s.changed = make(chan struct{})
}
