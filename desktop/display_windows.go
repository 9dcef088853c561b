//go:build windows

package main

import "github.com/wailsapp/go-webview2/webviewloader"

// windowPossible: the window needs the WebView2 runtime (Wine has none; the
// trial then checks the --selftest part only).
func windowPossible() bool {
	v, err := webviewloader.GetAvailableCoreWebView2BrowserVersionString("")
	return err == nil && v != ""
}
