package worker

import "syscall"

// groupAttr starts a worker as the leader of a process group of its own, so
// that killing the group takes every process it started that did not leave
// the group on purpose (a shell's background child, a pre-forking server).
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the process group whose leader is pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
