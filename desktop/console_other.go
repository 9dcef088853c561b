//go:build !windows

package main

// attachParentConsole is only needed on Windows; elsewhere stdout and
// stderr are always connected.
func attachParentConsole() {}
