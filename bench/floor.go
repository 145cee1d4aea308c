package bench

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Floor performs, with raw system calls (golang.org/x/sys/unix, no os.File,
// no buffering), the calls that a correct file session store cannot avoid. A store's
// cost divided by the floor's, measured in the same run on the same
// directory, is the store's overhead; it does not depend on how fast the
// disk happens to be that minute.
//
//   - Read: open, read to end of file, close. A load must read the whole
//     file through one descriptor (that is what makes it atomic against a
//     concurrent rename).
//   - Replace: create a temporary file (O_EXCL), write, fsync, close,
//     rename over the target, open the directory, fsync it, close it. Any
//     other order either exposes a half-written file to readers (#8616) or
//     loses an acknowledged write in a crash. Durable false leaves out both
//     fsyncs (the directory is then not opened at all).
//   - Publish: Replace with renameat2(RENAME_NOREPLACE), so that an existing
//     name is never overwritten (a create).
//   - Remove: unlink, and fsync the directory when durable.
//
// Floor is what the issue calls the floor; it deliberately leaves out what a
// store may or may not need depending on its design: the writers' lock, the
// read that Save does to refuse resurrecting a deleted session, the
// integrity tag. Those show up in the ratio, and docs/PERFORMANCE.md
// attributes them.
type Floor struct {
	// Dir is the directory the files live in.
	Dir string
	// Durable makes the writes durable (fsync of file and directory).
	Durable bool
	seq     atomic.Uint64
}

// Read reads the file at path into buf (which must be large enough to hold
// it plus one byte, so that the end of file is seen in one more read) and
// returns the number of bytes read.
func (f *Floor) Read(path string, buf []byte) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("floor: open %s: %w", path, err)
	}
	n := 0
	for {
		if n == len(buf) {
			unix.Close(fd)
			return n, fmt.Errorf("floor: %s does not fit in %d bytes", path, len(buf))
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return n, fmt.Errorf("floor: read %s: %w", path, err)
		}
		if m == 0 {
			break
		}
		n += m
	}
	if err := unix.Close(fd); err != nil {
		return n, fmt.Errorf("floor: close %s: %w", path, err)
	}
	return n, nil
}

// Replace makes data the content of path: temporary file, write, (fsync),
// rename, (directory fsync).
func (f *Floor) Replace(path string, data []byte) error {
	return f.write(path, data, 0)
}

// Publish makes data the content of path only if path does not exist yet
// (renameat2 with RENAME_NOREPLACE); an existing path is an error matching
// unix.EEXIST.
func (f *Floor) Publish(path string, data []byte) error {
	return f.write(path, data, unix.RENAME_NOREPLACE)
}

// Remove unlinks path and, when durable, fsyncs the directory.
func (f *Floor) Remove(path string) error {
	if err := unix.Unlink(path); err != nil {
		return fmt.Errorf("floor: unlink %s: %w", path, err)
	}
	return f.syncDir()
}

func (f *Floor) tempName() string {
	// The name is built without fmt to keep the floor free of the
	// formatting cost the store pays; it is unique per Floor.
	n := f.seq.Add(1)
	var b [24]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return filepath.Join(f.Dir, "floor_tmp_"+string(b[i:]))
}

func (f *Floor) write(path string, data []byte, renameFlags uint) error {
	tmp := f.tempName()
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("floor: create %s: %w", tmp, err)
	}
	for len(data) > 0 {
		m, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("floor: write %s: %w", tmp, err)
		}
		data = data[m:]
	}
	if f.Durable {
		if err := unix.Fsync(fd); err != nil {
			unix.Close(fd)
			return fmt.Errorf("floor: fsync %s: %w", tmp, err)
		}
	}
	if err := unix.Close(fd); err != nil {
		return fmt.Errorf("floor: close %s: %w", tmp, err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, path, renameFlags); err != nil {
		return errors.Join(fmt.Errorf("floor: rename %s: %w", path, err), unix.Unlink(tmp))
	}
	return f.syncDir()
}

func (f *Floor) syncDir() error {
	if !f.Durable {
		return nil
	}
	fd, err := unix.Open(f.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("floor: open %s: %w", f.Dir, err)
	}
	err = unix.Fsync(fd)
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("floor: fsync %s: %w", f.Dir, err)
	}
	return nil
}
