package update

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"time"
)

// Updater checks the feed and applies updates to the installed binary Exe.
type Updater struct {
	Settings
	Exe       string   // the installed binary (Windows: the installed exe)
	ChildArgs []string // arguments every started copy gets, e.g. --config <path>
	Out       io.Writer
	Bound     time.Duration // the trial's bound; 0 means TrialBound
}

// SuperviseJob is what the supervisor process is given on its command line
// besides the version; the installers and the process to wait for are
// Windows' only.
type SuperviseJob struct {
	Installer         string // the new version's installer, verified, in the update cache
	PreviousInstaller string // this version's installer, for the rollback
	WaitPID           int    // the app that must have exited before the installer runs
	Headless          bool   // quit after the trial (--update) instead of staying open
}

// DisabledError says why updates are off (policy, no key, no feed).
type DisabledError struct{ Reason string }

func (e *DisabledError) Error() string { return e.Reason }

// Offer is the outcome of a check.
type Offer struct {
	Manifest Manifest
	Decision Decision
}

// Outcome is what applying did.
type Outcome struct {
	From, To   string
	HandedOver bool    // a supervisor process finishes the job (GUI restart, Windows)
	Undone     *Undone // the new version failed its first start and was undone
	TrialTime  time.Duration
}

func (u *Updater) feed() (*Feed, error) { return NewFeed(u.FeedURL, u.Key) }

// feedOf is where an offer is applied from: the feed, once the offer is one.
func (u *Updater) feedOf(o Offer) (*Feed, error) {
	if !o.Decision.Offer {
		return nil, errors.New("nothing to apply: " + o.Decision.Reason)
	}
	return u.feed()
}

// Check reads the channel's manifest and decides whether it is offered here.
func (u *Updater) Check(ctx context.Context) (Offer, error) {
	if u.Disabled != "" {
		return Offer{}, &DisabledError{Reason: u.Disabled}
	}
	feed, err := u.feed()
	if err != nil {
		return Offer{}, err
	}
	state, err := LoadState(u.StateDir)
	if err != nil {
		return Offer{}, fmt.Errorf("update state in %s: %w", u.StateDir, err)
	}
	m, err := feed.Manifest(ctx, u.Channel+".json")
	if err != nil {
		return Offer{}, err
	}
	// The id only when the rollout needs it (every bucket is under 100 %): a check, or a
	// refused download, then leaves nothing behind on the machine.
	id := ""
	if m.Rollout < 100 {
		if id, err = InstallID(u.StateDir); err != nil {
			return Offer{}, fmt.Errorf("installation id: %w", err)
		}
	}
	d, err := Decide(m, u.Current, id, state.Bad)
	if err != nil {
		return Offer{}, err
	}
	if _, ok := m.Platforms[PlatformKey()]; d.Offer && !ok {
		d.Offer, d.Reason = false, fmt.Sprintf("%s has no build for %s", m.Version, PlatformKey())
	}
	return Offer{Manifest: m, Decision: d}, nil
}

func (u *Updater) bound() time.Duration {
	if u.Bound > 0 {
		return u.Bound
	}
	return TrialBound
}

// trialOrUndo runs the first start of version; if it fails, restore puts
// the previous version back, the version is recorded as bad here, and the
// restored version is checked the same way.
func (u *Updater) trialOrUndo(ctx context.Context, version string, exitWhenGood bool, restore func() error) (Outcome, error) {
	// The trial is over, good or undone; an interrupted supervisor (ctx cancelled, or killed
	// outright) leaves it pending for Resume at the next start.
	defer func() {
		if ctx.Err() == nil {
			_ = setPending(u.StateDir, nil)
		}
	}()
	out := Outcome{From: u.Current, To: version}
	started := time.Now()
	err := RunTrial(ctx, u.Exe, version, u.ChildArgs, u.StateDir, u.bound(), exitWhenGood, u.Out)
	out.TrialTime = time.Since(started)
	var failed *TrialError
	if err == nil || !errors.As(err, &failed) {
		return out, err
	}
	fmt.Fprintf(u.Out, "%s failed its first start: %s; restoring %s\n", version, failed.Reason, u.Current)
	if rerr := restore(); rerr != nil {
		return out, fmt.Errorf("%s failed to start and restoring %s failed too: %w", version, u.Current, rerr)
	}
	if rerr := RecordBad(u.StateDir, version, failed.Reason); rerr != nil {
		fmt.Fprintf(u.Out, "warning: could not record %s as bad: %v\n", version, rerr)
	}
	if rerr := RunTrial(ctx, u.Exe, u.Current, u.ChildArgs, u.StateDir, u.bound(), exitWhenGood, u.Out); rerr != nil {
		return out, fmt.Errorf("%s failed to start; %s was restored but failed its start checks too: %w", version, u.Current, rerr)
	}
	out.To = u.Current
	out.Undone = &Undone{Version: version, Reason: failed.Reason}
	return out, nil
}

// Resume restarts the supervision of this version's first start when its
// supervisor died before the trial ended (state.Pending names this version):
// it starts the supervisor again and reports true; the caller then exits, and
// the supervisor starts this version again as its trial.
func Resume(stateDir, version string, pid int) bool {
	state, err := LoadState(stateDir)
	if err != nil || state.Pending == nil || state.Pending.Version != version {
		return false
	}
	if processAlive(state.Pending.PID) {
		return false // its supervisor is at work: this is a second start meanwhile
	}
	args := append(append([]string(nil), state.Pending.Args...), "--update-wait-pid", fmt.Sprint(pid))
	cmd := exec.Command(state.Pending.Supervisor, args...)
	detach(cmd, true)
	if err := cmd.Start(); err != nil {
		_ = setPending(stateDir, nil) // the supervisor is gone: run as we are
		return false
	}
	state.Pending.PID = cmd.Process.Pid
	_ = setPending(stateDir, state.Pending)
	_ = cmd.Process.Release()
	return true
}

// recordPending notes the supervisor of version's trial before it starts.
func (u *Updater) recordPending(version, supervisor string, args []string, pid int) error {
	return setPending(u.StateDir, &Pending{Version: version, Supervisor: supervisor, Args: args, PID: pid})
}
