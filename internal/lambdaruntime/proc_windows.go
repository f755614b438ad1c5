//go:build windows

package lambdaruntime

import "os/exec"

// isolate does nothing on Windows: there are no process groups to kill at
// once; the worker itself is killed.
func isolate(*exec.Cmd) {}

// killGroup kills the worker process.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
