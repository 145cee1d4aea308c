package worker

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// awaitExit blocks until process pid has exited, without reaping it: while
// it is a zombie its pid, which is also its process group's id, cannot be
// given to another process, so killing the group is safe. It reports
// whether it waited (false: the exit must be learnt by reaping).
func awaitExit(pid int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, syscall.EINTR) {
			return err == nil
		}
	}
}
