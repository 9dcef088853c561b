// Package cli parses the TraderAdmin command line. The modes it selects
// (--version, --selftest, --check-update, --update) run before any window is
// created, which is what lets installers, CI and admins' scripts use the
// binary where no web view exists.
package cli

import (
	"flag"
	"fmt"
	"io"
)

// Options is the parsed command line.
type Options struct {
	ShowVersion  bool   // --version: print the version and exit
	SelftestPath string // --selftest <path>: write a JSON report and exit
	ConfigPath   string // --config <path>: use this config.toml
	CheckUpdate  bool   // --check-update: print what the update feed offers and exit
	Update       bool   // --update: apply the offered update (with its trial start) and exit

	// The update supervisor's mode, started by an update, not by people:
	// --supervise-update <version> --update-target <installed binary>, and on
	// Windows the installers and the process to wait for.
	SuperviseVersion  string
	UpdateTarget      string
	UpdateInstaller   string
	PreviousInstaller string
	UpdateWaitPID     int
	UpdateHeadless    bool
}

// Headless reports whether the options ask for a mode without a window.
func (o Options) Headless() bool {
	return o.ShowVersion || o.SelftestPath != "" || o.CheckUpdate || o.Update || o.SuperviseVersion != ""
}

// Parse reads args (without the program name). Usage and errors go to out.
// -h/--help returns flag.ErrHelp.
func Parse(args []string, out io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("TraderAdmin", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version and exit")
	fs.StringVar(&o.SelftestPath, "selftest", "", "write a JSON self-test report to `path` and exit (no window)")
	fs.StringVar(&o.ConfigPath, "config", "", "read settings from `path` instead of the default config.toml locations")
	fs.BoolVar(&o.CheckUpdate, "check-update", false, "print whether an update is offered and why (exit 0 offered, 3 none, 4 updates off, 1 check failed)")
	fs.BoolVar(&o.Update, "update", false, "install the offered update, undone if it fails to start (exit 0 done or none, 5 undone, 4 off, 1 failed)")
	fs.StringVar(&o.SuperviseVersion, "supervise-update", "", "(started by an update) supervise the first start of `version`")
	fs.StringVar(&o.UpdateTarget, "update-target", "", "(with --supervise-update) the installed binary")
	fs.StringVar(&o.UpdateInstaller, "update-installer", "", "(Windows, with --supervise-update) the new version's installer")
	fs.StringVar(&o.PreviousInstaller, "update-previous-installer", "", "(Windows, with --supervise-update) the installer to restore with")
	fs.IntVar(&o.UpdateWaitPID, "update-wait-pid", 0, "(Windows, with --supervise-update) wait for this process to exit first")
	fs.BoolVar(&o.UpdateHeadless, "update-headless", false, "(with --supervise-update) quit after the trial instead of staying open")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: TraderAdmin [--config path] [--version | --selftest path | --check-update | --update]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if o.SuperviseVersion != "" && o.UpdateTarget == "" {
		return Options{}, fmt.Errorf("--supervise-update needs --update-target")
	}
	if o.CheckUpdate && o.Update {
		return Options{}, fmt.Errorf("use either --check-update or --update")
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}
