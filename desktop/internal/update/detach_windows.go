//go:build windows

package update

import (
	"os/exec"
	"syscall"
)

const detachedProcess = 0x00000008

// detach starts a process that outlives its supervisor without its console.
func detach(cmd *exec.Cmd, outlive bool) {
	if outlive {
		cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess | syscall.CREATE_NEW_PROCESS_GROUP}
	}
}
