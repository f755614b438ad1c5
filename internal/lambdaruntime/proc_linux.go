//go:build linux

package lambdaruntime

import (
	"os/exec"
	"syscall"
)

// isolate puts the worker in its own process group, so killing the group
// also kills anything the function started, and asks the kernel to kill the
// worker if challengectl itself dies without cleaning up (kill -9): no
// orphan keeps running in either case.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the worker's whole process group.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	// The group id is the worker's pid (Setpgid with Pgid 0).
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
