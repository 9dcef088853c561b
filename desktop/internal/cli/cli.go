// Package cli parses the TraderAdmin command line. The modes it selects
// (--version, --selftest) run before any window is created, which is what
// lets installers and CI check the binary where no web view exists.
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
}

// Headless reports whether the options ask for a mode without a window.
func (o Options) Headless() bool { return o.ShowVersion || o.SelftestPath != "" }

// Parse reads args (without the program name). Usage and errors go to out.
// -h/--help returns flag.ErrHelp.
func Parse(args []string, out io.Writer) (Options, error) {
	var o Options
	fs := flag.NewFlagSet("TraderAdmin", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version and exit")
	fs.StringVar(&o.SelftestPath, "selftest", "", "write a JSON self-test report to `path` and exit (no window)")
	fs.StringVar(&o.ConfigPath, "config", "", "read settings from `path` instead of the default config.toml locations")
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: TraderAdmin [--config path] [--version | --selftest path]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}
