// Command TraderAdmin is the desktop admin app of TraderAdmin (Wails v2).
//
// Besides opening the window it has two modes that create no window, for
// installers, CI and Wine (which has no WebView2):
//
//	TraderAdmin --version            print the version and exit 0
//	TraderAdmin --selftest <path>    write a JSON report to <path> and exit 0
//	TraderAdmin --check-update       print whether an update is offered (updates.go)
//	TraderAdmin --update             apply it, undone if it fails to start
//
// The logic lives in internal/ so that `go test ./internal/...` runs without
// the frontend build; this package embeds frontend/dist, which only exists
// after `npm run build` (or `wails build`).
package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"traderadmin/desktop/internal/admin"
	"traderadmin/desktop/internal/backend"
	"traderadmin/desktop/internal/cli"
	"traderadmin/desktop/internal/config"
	"traderadmin/desktop/internal/selftest"
	"traderadmin/desktop/internal/update"
)

//go:embed all:frontend/dist
var assets embed.FS

// The window icon on Linux; Windows takes build/windows/icon.ico instead.
//
//go:embed build/appicon.png
var appIcon []byte

// Stamped at build time: -ldflags "-X main.version=1.2.3 -X main.commit=abc".
var (
	version = "dev"
	commit  = "dev"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	var usage bytes.Buffer
	opts, err := cli.Parse(args, &usage)
	if err != nil || opts.Headless() {
		// Only now: a GUI launch attached to the parent console would spill
		// the web view's logging into the user's terminal.
		attachParentConsole()
	}
	if err != nil {
		os.Stderr.Write(usage.Bytes())
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
		return 2
	}

	lookup := configLookup(opts.ConfigPath)
	if trial := update.TrialFromEnv(version); trial != nil && !opts.Headless() {
		return runTrial(trial, lookup)
	}
	if opts.ShowVersion {
		fmt.Printf("TraderAdmin %s (commit %s)\n", version, commit)
	}
	if opts.SelftestPath != "" {
		return runSelftest(opts.SelftestPath, lookup)
	}
	if opts.ShowVersion {
		return 0
	}
	switch {
	case opts.CheckUpdate:
		return runCheckUpdate(opts, lookup)
	case opts.Update:
		return runUpdate(opts, lookup)
	case opts.SuperviseVersion != "":
		return runSupervisor(opts, lookup)
	}
	return runWindow(lookup, nil)
}

// configLookup gathers the config search inputs from the process.
func configLookup(flagPath string) config.Lookup {
	l := config.Lookup{FlagPath: flagPath, EnvPath: os.Getenv(config.EnvVar)}
	if dir, err := os.UserConfigDir(); err == nil {
		l.UserConfigDir = dir
	}
	if exe, err := executablePath(); err == nil {
		l.ExeDir = filepath.Dir(exe)
	}
	return l
}

func executablePath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return exe, nil
}

func runSelftest(path string, lookup config.Lookup) int {
	exe, err := executablePath()
	if err != nil {
		exe = "unknown: " + err.Error()
	}
	report := selftest.Run(context.Background(), selftest.Input{
		Version:    version,
		Commit:     commit,
		Executable: exe,
		Config:     config.Load(lookup),
	})
	if err := selftest.Write(path, report); err != nil {
		fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
		return 1
	}
	fmt.Printf("self-test report written to %s (backend reachable: %v)\n", path, report.Backend.Reachable)
	return 0
}

// runWindow opens the app; during a trial start (trial != nil) it marks
// this version good once the window has loaded its page.
func runWindow(lookup config.Lookup, trial *update.Trial) int {
	updater, err := newUpdater(cli.Options{ConfigPath: lookup.FlagPath}, lookup)
	if err != nil {
		fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
		return 1
	}
	if trial == nil && update.Resume(updater.StateDir, version, os.Getpid()) {
		// This version's first start after an update was never judged (its supervisor died):
		// the supervisor starts again and starts this version as its trial.
		fmt.Fprintln(os.Stderr, "TraderAdmin: resuming the check of this version's first start after its update")
		return 0
	}
	if err := update.FailIfTestBuild(); err != nil { // a trial runs it in runTrialChecks
		fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
		return 1
	}
	app := NewApp(admin.NewService(version, commit, lookup, backend.DefaultTimeout), updater)
	err = wails.Run(&options.App{
		Title:     "TraderAdmin",
		Width:     1200,
		Height:    820,
		MinWidth:  860,
		MinHeight: 560,
		AssetServer: &assetserver.Options{
			Assets: assets,
		},
		BackgroundColour: &options.RGBA{R: 17, G: 24, B: 39, A: 255},
		OnStartup:        app.startup,
		OnDomReady: func(ctx context.Context) {
			if trial == nil {
				return
			}
			if err := trial.MarkGood(); err != nil {
				fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
			}
			if trial.ExitWhenGood {
				runtime.Quit(ctx)
			}
		},
		Bind: []interface{}{app},
		Linux: &linux.Options{
			Icon:        appIcon,
			ProgramName: "TraderAdmin",
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
		return 1
	}
	return 0
}
