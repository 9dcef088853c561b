//go:build windows

package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// attachParentProcess is ATTACH_PARENT_PROCESS, (DWORD)-1.
const attachParentProcess = ^uint32(0)

// attachParentConsole lets a GUI-subsystem exe print to the console it was
// started from (cmd, PowerShell). Windows gives such a process no console,
// so without this `TraderAdmin.exe --version` prints nothing. Standard
// handles that already work — redirected to a file or pipe, or the terminal
// under Wine — are kept.
//
// cmd does not wait for GUI programs: the prompt may come back before the
// output appears. Use `start /wait TraderAdmin.exe --version` or a pipe.
func attachParentConsole() {
	if usable(os.Stdout) && usable(os.Stderr) {
		return
	}
	proc := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	if proc.Find() != nil {
		return
	}
	if ok, _, _ := proc.Call(uintptr(attachParentProcess)); ok == 0 {
		return // no parent console, e.g. started from Explorer
	}
	out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	if !usable(os.Stdout) {
		os.Stdout = out
	}
	if !usable(os.Stderr) {
		os.Stderr = out
	}
}

func usable(f *os.File) bool {
	if f == nil {
		return false
	}
	h := windows.Handle(f.Fd())
	if h == 0 || h == windows.InvalidHandle {
		return false
	}
	t, err := windows.GetFileType(h)
	return err == nil && t != windows.FILE_TYPE_UNKNOWN
}
