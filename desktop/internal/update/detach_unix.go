//go:build !windows

package update

import (
	"os/exec"
	"syscall"
)

// detach puts a process that outlives its supervisor in a session of its
// own, so closing the supervisor's terminal does not end the user's app.
func detach(cmd *exec.Cmd, outlive bool) {
	if outlive {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
}
