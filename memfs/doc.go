// Package memfs is an in-memory file system implementing [seam.FS], with
// POSIX (Linux) semantics for exactly the calls the store makes, a model of
// what survives a power loss, and several "process views" of one disk.
//
// # Semantics
//
// Names are slash-separated paths resolved from one root; a relative name is
// resolved from the root too. There are regular files and directories, no
// symbolic links (so O_NOFOLLOW never has anything to refuse), no permission
// checks (perm is recorded, not enforced) and no umask. Errors are shaped as
// package os shapes them on Linux — *fs.PathError or *os.LinkError around a
// syscall.Errno — so errors.Is(err, fs.ErrNotExist), errors.Is(err,
// fs.ErrExist) and errors.As(err, &errno) behave as on the real file system.
// Remove is unlink(2): a descriptor that is still open keeps its inode, and
// reads and writes through it go on working. Rename onto an existing
// directory fails with EEXIST, as os.Rename does.
//
// Every modification time comes from the clock given to [New], so a run is a
// deterministic function of the calls made. All methods are safe for
// concurrent use.
//
// # Processes and locks
//
// [FS.NewProcess] returns another view of the same disk with its own table
// of process locks, as a second operating-system process would have.
// seam.FileLock is flock(2): exclusive per inode across every view of the
// disk, taken on the file called name (created 0600 if missing, like the OS
// implementation). seam.ProcessLock and seam.ProcessSharedLock are a
// reader/writer lock per name in the view's own table: they exclude the
// users of one view and nobody else. [FS.TryLock] is the non-blocking form,
// for a scheduler that must never wait on a blocked client.
//
// # Durability model
//
// Each file inode remembers the contents it had when it was last fsynced;
// each directory remembers the entries it had when it was last fsynced
// (fsync of a descriptor opened with O_DIRECTORY). Directories made by
// [FS.MkdirAll] and files planted by [FS.WriteFile] are durable at once.
//
// [FS.Crash] is the disk after a power loss in the worst case ext4 in
// writeback mode allows: only what was synced survives. A name survives only
// if its directory was fsynced since the name was made; a renamed entry whose
// directory was not fsynced reverts to the old name and the old inode; a file
// whose name is durable comes back with its last synced contents, which are
// empty if it was never fsynced. Nothing is torn: an fsync is atomic.
//
// Losing everything unsynced is the worst case for lost data, but not the
// only bad case: the disk may also have persisted more than was synced — a
// truncation without the writes that followed it, a rename without the data
// it points at (the ext4 zero-length problem). [FS.CrashWith] gives those
// states: unsynced name changes and unsynced content changes each survive or
// not, independently, so the four combinations bracket what a journaling file
// system can show. The crash check tries all four at every crash point.
//
// Unsynced changes are all-or-nothing per directory and per file; states in
// which only some of the unsynced changes of one file survive (torn writes,
// a prefix of several writes) are not generated, except in the sense that a
// crash point after each call sees every prefix of the calls.
package memfs
