package fusefs

import (
	"syscall"

	"github.com/sessioncheck/sessioncheck/memfs"
)

// lock is one lock held on a node: a byte range for POSIX locks (fcntl),
// the whole file for flock. End is inclusive, as in the kernel's
// struct fuse_file_lock.
type lock struct {
	flock      bool
	owner      uint64
	start, end uint64
	write      bool
	pid        uint32
}

func (a lock) conflicts(b lock) bool {
	return a.flock == b.flock && a.owner != b.owner && (a.write || b.write) &&
		a.start <= b.end && b.start <= a.end
}

// lockTable holds every lock of every node. The server's mutex guards it.
type lockTable map[memfs.Node][]lock

// conflict returns a lock that keeps want from being taken, if any.
func (t lockTable) conflict(n memfs.Node, want lock) (lock, bool) {
	for _, l := range t[n] {
		if l.conflicts(want) {
			return l, true
		}
	}
	return lock{}, false
}

// set takes want (or releases its range, when unlock), replacing the
// owner's own locks over that range as fcntl(2) and flock(2) do. The caller
// has checked for conflicts.
func (t lockTable) set(n memfs.Node, want lock, unlock bool) {
	var out []lock
	for _, l := range t[n] {
		if l.flock != want.flock || l.owner != want.owner || l.end < want.start || want.end < l.start {
			out = append(out, l)
			continue
		}
		// The owner's lock overlaps: keep the parts outside want's range.
		if l.start < want.start {
			left := l
			left.end = want.start - 1
			out = append(out, left)
		}
		if l.end > want.end {
			right := l
			right.start = want.end + 1
			out = append(out, right)
		}
	}
	if !unlock {
		out = append(out, want)
	}
	if len(out) == 0 {
		delete(t, n)
		return
	}
	t[n] = out
}

// releaseOwner drops every lock of one kind held by owner on n.
func (t lockTable) releaseOwner(n memfs.Node, flock bool, owner uint64) bool {
	var out []lock
	dropped := false
	for _, l := range t[n] {
		if l.flock == flock && l.owner == owner {
			dropped = true
			continue
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		delete(t, n)
	} else {
		t[n] = out
	}
	return dropped
}

// lockOf turns a kernel lock request into a lock; ok is false for an
// unlock.
func lockOf(flock bool, owner uint64, start, end uint64, typ uint32, pid uint32) (l lock, unlock bool, errno syscall.Errno) {
	l = lock{flock: flock, owner: owner, start: start, end: end, pid: pid}
	if flock {
		l.start, l.end = 0, ^uint64(0)
	}
	switch typ {
	case syscall.F_RDLCK:
	case syscall.F_WRLCK:
		l.write = true
	case syscall.F_UNLCK:
		unlock = true
	default:
		return lock{}, false, syscall.EINVAL
	}
	return l, unlock, 0
}
