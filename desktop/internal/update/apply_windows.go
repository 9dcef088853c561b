//go:build windows

package update

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/windows"
)

// Apply downloads and verifies the new version's installer and keeps this
// version's installer in the update cache (fetched from
// <feed>/<current>/release.json when absent). The installer cannot replace
// a running exe, so a copy of this binary in the cache supervises: it waits
// for this process to exit, installs silently in the scope the app was
// installed in, and runs the trial. The caller exits next.
func (u *Updater) Apply(ctx context.Context, o Offer, restart bool) (Outcome, error) {
	feed, err := u.feedOf(o)
	if err != nil {
		return Outcome{}, err
	}
	cache := filepath.Join(u.StateDir, CacheFolderName)
	installer, err := cachedDownload(ctx, feed, o.Manifest.Platforms[PlatformKey()], filepath.Join(cache, o.Manifest.Version))
	if err != nil {
		return Outcome{}, err
	}
	previous, err := u.previousInstaller(ctx, feed, cache)
	if err != nil {
		return Outcome{}, fmt.Errorf("keep this version's installer for a rollback: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return Outcome{}, err
	}
	supervisor := filepath.Join(cache, "TraderAdmin-supervisor-"+u.Current+".exe")
	if err := copyFile(self, supervisor); err != nil {
		return Outcome{}, fmt.Errorf("copy the update supervisor: %w", err)
	}
	job := append([]string{
		"--supervise-update", o.Manifest.Version, "--update-target", u.Exe,
		"--update-installer", installer, "--update-previous-installer", previous,
	}, u.ChildArgs...)
	if err := u.recordPending(o.Manifest.Version, supervisor, job, 0); err != nil {
		return Outcome{}, fmt.Errorf("record the update in %s: %w", u.StateDir, err)
	}
	args := append(job, "--update-wait-pid", strconv.Itoa(os.Getpid()))
	if !restart {
		args = append(args, "--update-headless")
	}
	cmd := exec.Command(supervisor, args...)
	if !restart {
		// --update: the supervisor reports to the same console. A window has none to give
		// (its standard handles are empty); the supervisor's update.log has it all anyway.
		cmd.Stdout, cmd.Stderr = u.Out, u.Out
	}
	detach(cmd, restart)
	if err := cmd.Start(); err != nil {
		_ = setPending(u.StateDir, nil)
		return Outcome{}, fmt.Errorf("start the update supervisor: %w", err)
	}
	_ = u.recordPending(o.Manifest.Version, supervisor, job, cmd.Process.Pid)
	_ = cmd.Process.Release()
	return Outcome{From: u.Current, To: o.Manifest.Version, HandedOver: true}, nil
}

// Supervise installs job.Installer, runs the trial, and reinstalls
// the previous installer if the new version fails.
func (u *Updater) Supervise(ctx context.Context, version string, job SuperviseJob) (Outcome, error) {
	waitForExit(job.WaitPID)
	scope := installScope(u.Exe)
	if err := runInstaller(job.Installer, scope, u.Out); err != nil {
		// The installer's own rollback left the previous version in place.
		return Outcome{}, fmt.Errorf("installing %s failed (the installer undid its changes): %w", version, err)
	}
	return u.trialOrUndo(ctx, version, job.Headless, func() error {
		return runInstaller(job.PreviousInstaller, scope, u.Out)
	})
}

// installScope: a per-machine installation lives under Program Files (the
// installer's /ALLUSERS default); anything else was installed per user.
func installScope(exe string) string {
	for _, env := range []string{"ProgramW6432", "ProgramFiles", "ProgramFiles(x86)"} {
		dir := os.Getenv(env)
		if dir != "" && strings.HasPrefix(strings.ToLower(exe), strings.ToLower(dir)+`\`) {
			return "/ALLUSERS"
		}
	}
	return "/CURRENTUSER"
}

func runInstaller(installer, scope string, out io.Writer) error {
	if scope == "/ALLUSERS" && !elevated() {
		code, err := runElevated(installer, "/S "+scope)
		if err == nil && code != 0 {
			err = fmt.Errorf("exit code %d", code)
		}
		if err != nil {
			return fmt.Errorf("%s /S %s: %v (exit codes: see README, silent install)", filepath.Base(installer), scope, err)
		}
		return nil
	}
	cmd := exec.Command(installer, "/S", scope)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s /S %s: %v (exit codes: see README, silent install)", filepath.Base(installer), scope, err)
	}
	return nil
}

func (u *Updater) previousInstaller(ctx context.Context, feed *Feed, cache string) (string, error) {
	dir := filepath.Join(cache, u.Current)
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if strings.HasSuffix(strings.ToLower(e.Name()), ".exe") && !strings.HasPrefix(e.Name(), ".") {
				return filepath.Join(dir, e.Name()), nil
			}
		}
	}
	m, err := feed.Manifest(ctx, u.Current+"/release.json")
	if err != nil {
		return "", err
	}
	if m.Version != u.Current {
		return "", fmt.Errorf("%s/release.json describes %s", u.Current, m.Version)
	}
	return cachedDownload(ctx, feed, m.Platforms[PlatformKey()], dir)
}

// cachedDownload downloads and verifies p into dir under its own name.
func cachedDownload(ctx context.Context, feed *Feed, p Platform, dir string) (string, error) {
	tmp, err := feed.Download(ctx, p, dir)
	if err != nil {
		return "", err
	}
	final := filepath.Join(dir, filepath.Base(strings.ReplaceAll(p.URL, `\`, "/")))
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return final, nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return writeAtomic(dst, data, 0o755)
}

func waitForExit(pid int) {
	if pid <= 0 {
		return
	}
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
	if err != nil {
		return // already gone
	}
	defer windows.CloseHandle(h)
	_, _ = windows.WaitForSingleObject(h, 60_000)
}
