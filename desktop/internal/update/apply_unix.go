//go:build !windows

package update

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Apply replaces the binary atomically with the offered version (downloaded
// beside it, verified, renamed over it; the previous one kept as
// <binary>.previous) and runs its first start as a trial. With restart, the
// previous binary supervises the trial as a process of its own, the new
// version becomes the user's session, and the caller quits.
func (u *Updater) Apply(ctx context.Context, o Offer, restart bool) (Outcome, error) {
	feed, err := u.feedOf(o)
	if err != nil {
		return Outcome{}, err
	}
	downloaded, err := feed.Download(ctx, o.Manifest.Platforms[PlatformKey()], filepath.Dir(u.Exe))
	if err != nil {
		return Outcome{}, err
	}
	defer os.Remove(downloaded) // no-op once renamed into place
	if err := os.Chmod(downloaded, 0o755); err != nil {
		return Outcome{}, err
	}
	previous := u.Exe + ".previous"
	if err := keepPrevious(u.Exe, previous); err != nil {
		return Outcome{}, fmt.Errorf("keep the previous version as %s: %w", previous, err)
	}
	args := append([]string{"--supervise-update", o.Manifest.Version, "--update-target", u.Exe}, u.ChildArgs...)
	supervisorPID := os.Getpid() // --update: this process supervises
	if restart {
		supervisorPID = 0 // known once started, below
	}
	if err := u.recordPending(o.Manifest.Version, previous, args, supervisorPID); err != nil {
		return Outcome{}, fmt.Errorf("record the update in %s: %w", u.StateDir, err)
	}
	if err := os.Rename(downloaded, u.Exe); err != nil {
		_ = setPending(u.StateDir, nil)
		return Outcome{}, fmt.Errorf("replace %s: %w", u.Exe, err)
	}
	if restart {
		cmd := exec.Command(previous, args...)
		detach(cmd, true)
		if err := cmd.Start(); err != nil {
			_ = os.Rename(previous, u.Exe)
			_ = setPending(u.StateDir, nil)
			return Outcome{}, fmt.Errorf("start the update supervisor: %w", err)
		}
		_ = u.recordPending(o.Manifest.Version, previous, args, cmd.Process.Pid)
		_ = cmd.Process.Release()
		return Outcome{From: u.Current, To: o.Manifest.Version, HandedOver: true}, nil
	}
	return u.trialOrUndo(ctx, o.Manifest.Version, true, u.restoreFrom(previous))
}

// Supervise is the previous binary's side of Apply(restart): the trial
// start of version as the user's session, undone if it fails.
func (u *Updater) Supervise(ctx context.Context, version string, job SuperviseJob) (Outcome, error) {
	return u.trialOrUndo(ctx, version, job.Headless, u.restoreFrom(u.Exe+".previous"))
}

func (u *Updater) restoreFrom(previous string) func() error {
	return func() error { return os.Rename(previous, u.Exe) }
}

// keepPrevious makes previous a second name of exe (a hard link; a copy
// where links are not possible), so exe can be replaced by a rename while
// the old version stays available for the rollback.
func keepPrevious(exe, previous string) error {
	if err := os.Remove(previous); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Link(exe, previous); err == nil {
		return nil
	}
	src, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(previous, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
