//go:build windows

package update

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// runElevated runs installer with args through ShellExecuteEx's "runas" verb, which asks for
// the administrator's consent (UAC), and returns its exit code. Only a per-machine install of
// an app started without elevation needs it (the installer would exit 17 otherwise); golang.org/
// x/sys v0.20 has no ShellExecuteEx, hence the call by hand. Not run under Wine (Wine's
// processes are elevated): compiled and reviewed only.
func runElevated(installer, args string) (uint32, error) {
	verb, _ := windows.UTF16PtrFromString("runas")
	file, err := windows.UTF16PtrFromString(installer)
	if err != nil {
		return 0, err
	}
	params, err := windows.UTF16PtrFromString(args)
	if err != nil {
		return 0, err
	}
	info := shellExecuteInfo{
		mask:       seeMaskNoCloseProcess | seeMaskNoAsync,
		verb:       verb,
		file:       file,
		parameters: params,
		show:       windows.SW_HIDE,
	}
	info.size = uint32(unsafe.Sizeof(info))
	proc := windows.NewLazySystemDLL("shell32.dll").NewProc("ShellExecuteExW")
	if ok, _, callErr := proc.Call(uintptr(unsafe.Pointer(&info))); ok == 0 {
		return 0, fmt.Errorf("ShellExecuteEx runas %s: %w (consent refused?)", installer, callErr)
	}
	if info.process == 0 {
		return 0, fmt.Errorf("ShellExecuteEx runas %s returned no process", installer)
	}
	defer windows.CloseHandle(info.process)
	if _, err := windows.WaitForSingleObject(info.process, windows.INFINITE); err != nil {
		return 0, err
	}
	var code uint32
	if err := windows.GetExitCodeProcess(info.process, &code); err != nil {
		return 0, err
	}
	return code, nil
}

const (
	seeMaskNoCloseProcess = 0x00000040
	seeMaskNoAsync        = 0x00000100
)

// shellExecuteInfo is SHELLEXECUTEINFOW; Go's alignment gives the same layout on amd64/arm64.
type shellExecuteInfo struct {
	size          uint32
	mask          uint32
	hwnd          windows.Handle
	verb          *uint16
	file          *uint16
	parameters    *uint16
	directory     *uint16
	show          int32
	instApp       windows.Handle
	idList        uintptr
	class         *uint16
	keyClass      windows.Handle
	hotKey        uint32
	iconOrMonitor windows.Handle
	process       windows.Handle
}

// elevated reports whether this process already holds administrator rights.
func elevated() bool {
	return windows.GetCurrentProcessToken().IsElevated()
}
