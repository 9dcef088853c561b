// run_as_standard_user runs a program with a restricted token: the Administrators group
// disabled (deny-only) and every privilege but SeChangeNotify removed. It is what
// `runas /trustlevel:0x20000` does on Windows: the program runs as the same user, but without
// administrator rights. The Wine tests use it because Wine runs every program as an elevated
// administrator. Exits with the program's exit code.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"unsafe"
)

const (
	tokenAllAccess      = 0xF01FF
	disableMaxPrivilege = 0x1
	administratorsSID   = "S-1-5-32-544"
)

type sidAndAttributes struct {
	Sid        *syscall.SID
	Attributes uint32
}

func restrictedToken() (syscall.Token, error) {
	var token syscall.Token
	process, _ := syscall.GetCurrentProcess()
	if err := syscall.OpenProcessToken(process, tokenAllAccess, &token); err != nil {
		return 0, fmt.Errorf("OpenProcessToken: %w", err)
	}
	admins, err := syscall.StringToSid(administratorsSID)
	if err != nil {
		return 0, fmt.Errorf("StringToSid: %w", err)
	}
	disable := []sidAndAttributes{{Sid: admins}}
	var restricted syscall.Token
	create := syscall.NewLazyDLL("advapi32.dll").NewProc("CreateRestrictedToken")
	ok, _, err := create.Call(uintptr(token), disableMaxPrivilege, 1,
		uintptr(unsafe.Pointer(&disable[0])), 0, 0, 0, 0, uintptr(unsafe.Pointer(&restricted)))
	if ok == 0 {
		return 0, fmt.Errorf("CreateRestrictedToken: %w", err)
	}
	return restricted, nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: run_as_standard_user PROGRAM [ARGUMENTS…]")
		os.Exit(64)
	}
	token, err := restrictedToken()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(65)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Token: token}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(66)
	}
}
