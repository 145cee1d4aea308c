package fusefs

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// fsNamePrefix starts the source name of every mount this package makes;
// the serving process's pid follows, so that Sweep can tell a mount whose
// server is gone from a live one.
const fsNamePrefix = "sessioncheck-memfs-"

func fsName() string { return fsNamePrefix + strconv.Itoa(os.Getpid()) }

// Sweep lazily unmounts every mount this package made from a process that
// no longer runs: what a test binary killed by a timeout, or a crashed
// command, left behind (a dead server's mount only answers ENOTCONN). It
// touches no other mount and returns the mount points it removed.
func Sweep() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var removed []string
	var errs []error
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// mountinfo: id parent major:minor root mountpoint options ... - fstype source superopts
		left, right, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		lf, rf := strings.Fields(left), strings.Fields(right)
		if len(lf) < 5 || len(rf) < 2 || rf[0] != "fuse.sessioncheck" || !strings.HasPrefix(rf[1], fsNamePrefix) {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(rf[1], fsNamePrefix))
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		dir := unescapeMountinfo(lf[4])
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("fusefs: lazy unmount of %s (left by process %d): %w", dir, pid, err))
			continue
		}
		removed = append(removed, dir)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
