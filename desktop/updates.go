package main

// The update modes of the command line and the first-start trial
// (internal/update holds the logic and its tests).
//
// Exit codes, for admins' scripts (README.md, "Updates"):
//
//	--check-update  0 an update is offered (its version on stdout)
//	                3 nothing is offered (the reason on stdout)
//	                4 updates are off (policy, no key, no feed)
//	                1 the check failed (feed unreachable or refused)
//	--update        0 updated, or nothing to do
//	                5 the new version failed to start and was undone
//	                4 updates are off
//	                1 failed; nothing was changed unless it says otherwise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"traderadmin/desktop/internal/cli"
	"traderadmin/desktop/internal/config"
	"traderadmin/desktop/internal/selftest"
	"traderadmin/desktop/internal/update"
)

const (
	exitUpdateOffered = 0
	exitUpdateFailed  = 1
	exitNoUpdate      = 3
	exitUpdatesOff    = 4
	exitUpdateUndone  = 5
)

// newUpdater builds the updater for the installed binary: this one, or the
// --update-target a supervisor was given.
func newUpdater(opts cli.Options, lookup config.Lookup) (*update.Updater, error) {
	exe := opts.UpdateTarget
	if exe == "" {
		var err error
		if exe, err = executablePath(); err != nil {
			return nil, err
		}
	}
	if opts.UpdateTarget != "" {
		// The supervisor runs from another file: find config.toml as the app does.
		lookup.ExeDir = filepath.Dir(exe)
	}
	u := &update.Updater{
		Settings: update.ResolveSettings(config.Load(lookup), version, filepath.Dir(exe)),
		Exe:      exe,
		Out:      os.Stdout,
	}
	if opts.ConfigPath != "" {
		abs, err := filepath.Abs(opts.ConfigPath)
		if err != nil {
			return nil, err
		}
		u.ChildArgs = []string{"--config", abs}
	}
	return u, nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func checkFailed(err error) int {
	var off *update.DisabledError
	if errors.As(err, &off) {
		fmt.Println(off.Reason)
		return exitUpdatesOff
	}
	fmt.Fprintln(os.Stderr, "TraderAdmin: update check failed:", err)
	return exitUpdateFailed
}

// checkFeed builds the updater and checks the feed; code is >= 0 when the mode is done.
func checkFeed(ctx context.Context, opts cli.Options, lookup config.Lookup) (u *update.Updater, offer update.Offer, code int) {
	u, err := newUpdater(opts, lookup)
	if err == nil {
		offer, err = u.Check(ctx)
	}
	if err != nil {
		return nil, offer, checkFailed(err)
	}
	if !offer.Decision.Offer {
		fmt.Printf("no update: %s\n", offer.Decision.Reason)
		return u, offer, exitNoUpdate
	}
	return u, offer, -1
}

func runCheckUpdate(opts cli.Options, lookup config.Lookup) int {
	ctx, cancel := signalContext()
	defer cancel()
	_, offer, code := checkFeed(ctx, opts, lookup)
	if code >= 0 {
		return code
	}
	fmt.Printf("update available: %s (this is %s; %s)\n", offer.Manifest.Version, version, offer.Decision.Reason)
	return exitUpdateOffered
}

func runUpdate(opts cli.Options, lookup config.Lookup) int {
	ctx, cancel := signalContext()
	defer cancel()
	u, offer, code := checkFeed(ctx, opts, lookup)
	if code == exitNoUpdate {
		return 0 // nothing to do is success for --update
	}
	if code >= 0 {
		return code
	}
	fmt.Printf("updating %s to %s\n", version, offer.Manifest.Version)
	outcome, err := u.Apply(ctx, offer, false)
	return reportOutcome(os.Stdout, outcome, err)
}

func reportOutcome(out io.Writer, outcome update.Outcome, err error) int {
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "TraderAdmin: update failed:", err)
		if out != os.Stdout { // the supervisor's log
			fmt.Fprintln(out, "update failed:", err)
		}
		return exitUpdateFailed
	case outcome.Undone != nil:
		fmt.Fprintf(out, "%s (%s); %s is in place\n", outcome.Undone.Message(), outcome.Undone.Reason, outcome.To)
		return exitUpdateUndone
	case outcome.HandedOver:
		fmt.Fprintf(out, "the update to %s continues in the update supervisor\n", outcome.To)
		return 0
	}
	fmt.Fprintf(out, "updated to %s (first start checked in %.1fs)\n", outcome.To, outcome.TrialTime.Seconds())
	return 0
}

// runTrialChecks are a new version's start checks: the --selftest checks
// (the binary runs, config loads, the report is written) and the test
// knob of a version built to fail.
func runTrialChecks(trial *update.Trial, lookup config.Lookup) error {
	if err := update.FailIfTestBuild(); err != nil {
		return err
	}
	exe, _ := executablePath()
	report := selftest.Run(context.Background(), selftest.Input{
		Version: version, Commit: commit, Executable: exe, Config: config.Load(lookup),
	})
	path := trial.Marker + ".selftest.json"
	defer os.Remove(path)
	if err := selftest.Write(path, report); err != nil {
		return err
	}
	if report.Version != version {
		return fmt.Errorf("self-test reports version %s, expected %s", report.Version, version)
	}
	return nil
}

// runTrial is the first start of this version after an update.
func runTrial(trial *update.Trial, lookup config.Lookup) int {
	started := time.Now()
	if err := runTrialChecks(trial, lookup); err != nil {
		fmt.Fprintln(os.Stderr, "TraderAdmin: start check failed:", err)
		return 1
	}
	if !windowPossible() {
		if err := trial.MarkGood(); err != nil {
			fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
			return 1
		}
		fmt.Printf("start checks passed in %.1fs (no display: window not checked)\n", time.Since(started).Seconds())
		return 0
	}
	return runWindow(lookup, trial)
}

// runSupervisor is the previous version's side of an update: it supervises
// the new version's first start and undoes the update if it fails. Its
// output goes to update.log beside config.toml, since no one watches it.
func runSupervisor(opts cli.Options, lookup config.Lookup) int {
	u, err := newUpdater(opts, lookup)
	if err != nil {
		fmt.Fprintln(os.Stderr, "TraderAdmin:", err)
		return exitUpdateFailed
	}
	// The log is what remains when no one watched: after Install and restart, and on Windows,
	// where --update returns once this supervisor has taken over.
	if err := os.MkdirAll(u.StateDir, 0o755); err == nil {
		if log, err := os.OpenFile(filepath.Join(u.StateDir, "update.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			defer log.Close()
			u.Out = log
			if opts.UpdateHeadless {
				u.Out = io.MultiWriter(os.Stdout, log)
			}
			os.Stdout = log
		}
	}
	fmt.Fprintf(u.Out, "%s: supervising the first start of %s (%s)\n", time.Now().UTC().Format(time.RFC3339), opts.SuperviseVersion, u.Exe)
	ctx, cancel := signalContext()
	defer cancel()
	outcome, err := u.Supervise(ctx, opts.SuperviseVersion, update.SuperviseJob{
		Installer:         opts.UpdateInstaller,
		PreviousInstaller: opts.PreviousInstaller,
		WaitPID:           opts.UpdateWaitPID,
		Headless:          opts.UpdateHeadless,
	})
	return reportOutcome(u.Out, outcome, err)
}
