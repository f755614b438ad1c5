package tfdriver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// watchGroups handles what terraform-exec leaves behind on Ctrl-C. It runs
// Terraform in its own process group and sends it one os.Interrupt: Terraform
// then stops, writes the state and releases the lock, but a local-exec
// provisioner's grandchildren (a `sleep` under `sh -c`) are orphaned and keep
// running. When ctx is cancelled, watchGroups notes the process groups of our
// Terraform children; the returned function, called once Terraform has
// exited, kills whatever is still in those groups.
func watchGroups(ctx context.Context, binPath string) (reap func()) {
	groups := make(chan []int, 1)
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			groups <- terraformChildren(binPath)
		case <-stop:
			groups <- nil
		}
	}()
	return func() {
		close(stop)
		for _, pgid := range <-groups {
			// ESRCH (empty group) is the normal case: nothing was left.
			if syscall.Kill(-pgid, syscall.SIGKILL) != nil {
				continue
			}
			// The kill is asynchronous: wait (bounded) until the group is
			// gone, so that "stopped" really means nothing is running.
			for i := 0; i < 100 && syscall.Kill(-pgid, 0) == nil; i++ {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// terraformChildren returns the pids of this process's children running
// binPath. terraform-exec starts each one as a process-group leader.
func terraformChildren(binPath string) []int {
	me := os.Getpid()
	want, _ := filepath.EvalSymlinks(binPath)
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 || i+2 >= len(stat) {
			continue
		}
		var state byte
		var ppid, pgrp int
		if _, err := fmt.Sscanf(string(stat[i+2:]), "%c %d %d", &state, &ppid, &pgrp); err != nil || ppid != me || pgrp != pid {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", ent.Name(), "exe"))
		if err != nil {
			continue
		}
		if exe == want || exe == binPath {
			pids = append(pids, pid)
		}
	}
	return pids
}
