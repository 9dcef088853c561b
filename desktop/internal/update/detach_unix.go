//go:build !windows

package update

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// detach puts a process that outlives its supervisor in a session of its
// own, so closing the supervisor's terminal does not end the user's app.
func detach(cmd *exec.Cmd, outlive bool) {
	if outlive {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
}

// processAlive reports whether pid is a running process (not a zombie).
func processAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) == 0 || fields[0] != "Z"
}
