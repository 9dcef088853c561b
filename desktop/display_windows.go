//go:build windows

package main

import (
	"github.com/wailsapp/go-webview2/webviewloader"
	"golang.org/x/sys/windows"
)

// windowPossible: the window needs the WebView2 runtime. Wine reports one when its detection
// key is registered (tests/wine does), but WebView2 cannot draw there (README, "Tests"): under
// Wine the trial checks the --selftest part only.
func windowPossible() bool {
	if windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil {
		return false
	}
	v, err := webviewloader.GetAvailableCoreWebView2BrowserVersionString("")
	return err == nil && v != ""
}
