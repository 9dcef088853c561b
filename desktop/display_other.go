//go:build !windows

package main

import "os"

// windowPossible: the trial checks the window only where a display exists.
func windowPossible() bool {
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}
