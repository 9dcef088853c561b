package update

// The first start of a new version is a trial (issue 23, item 6). The old
// version supervises it: it starts the new binary with TrialEnv naming a
// marker file; the new version runs its start checks and writes
// "good <version>" there. No marker within the bound, or an exit first,
// means the update is undone.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	// TrialEnv names the marker file the new version writes once good.
	TrialEnv = "TRADERADMIN_UPDATE_TRIAL"
	// TrialExitEnv = "1": quit once good (a headless --update); otherwise the
	// trial is the user's real session and goes on.
	TrialExitEnv = "TRADERADMIN_UPDATE_TRIAL_EXIT"
)

// Trial is the new version's side of a trial start; nil outside a trial.
type Trial struct {
	Marker       string
	ExitWhenGood bool
	Version      string
}

// TrialFromEnv returns the trial this process was started for, or nil.
func TrialFromEnv(version string) *Trial {
	marker := os.Getenv(TrialEnv)
	if marker == "" {
		return nil
	}
	return &Trial{Marker: marker, ExitWhenGood: os.Getenv(TrialExitEnv) == "1", Version: version}
}

// FailIfTestBuild is the start check a test build fails on purpose.
func FailIfTestBuild() error {
	if failStartForTest != "" {
		return errors.New("this build was made to fail at start (failStartForTest, a test knob)")
	}
	return nil
}

// MarkGood tells the supervisor that this version passed its start checks.
func (t *Trial) MarkGood() error {
	return writeAtomic(t.Marker, []byte("good "+t.Version+"\n"), 0o644)
}

// TrialError says why a trial start failed.
type TrialError struct{ Reason string }

func (e *TrialError) Error() string { return e.Reason }

// RunTrial starts exe with args as a trial of version and waits until it
// marks itself good, exits, or the bound passes. With exitWhenGood the new
// process quits once good and RunTrial waits for it; otherwise it is left
// running as the user's session. output receives the process's output.
func RunTrial(ctx context.Context, exe, version string, args []string, markerDir string, bound time.Duration, exitWhenGood bool, output io.Writer) error {
	if err := os.MkdirAll(markerDir, 0o755); err != nil {
		return err
	}
	marker := filepath.Join(markerDir, "trial-"+version+".ok")
	_ = os.Remove(marker)
	defer os.Remove(marker)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), TrialEnv+"="+marker, TrialExitEnv+"="+map[bool]string{true: "1", false: "0"}[exitWhenGood])
	cmd.Stdout, cmd.Stderr = output, output
	detach(cmd, !exitWhenGood)
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return &TrialError{Reason: fmt.Sprintf("%s could not be started: %v", version, err)}
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(bound)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	good := func() bool {
		data, err := os.ReadFile(marker)
		return err == nil && strings.TrimSpace(string(data)) == "good "+version
	}
	for {
		select {
		case err := <-exited:
			if good() && (err == nil || !exitWhenGood) {
				return nil
			}
			return &TrialError{Reason: fmt.Sprintf("%s exited (%v) %.1fs after its start, before passing its start checks", version, exitStatus(err), time.Since(started).Seconds())}
		case <-deadline.C:
			_ = cmd.Process.Kill()
			<-exited
			return &TrialError{Reason: fmt.Sprintf("%s did not pass its start checks within %s", version, bound)}
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			return ctx.Err()
		case <-tick.C:
			if good() && !exitWhenGood {
				fmt.Fprintf(output, "%s passed its start checks in %.1fs and goes on as pid %d\n", version, time.Since(started).Seconds(), cmd.Process.Pid)
				return nil
			}
			if good() {
				// It quits by itself once good; wait a little for its exit status.
				select {
				case err := <-exited:
					if err != nil {
						return &TrialError{Reason: fmt.Sprintf("%s marked itself good, then exited with %v", version, err)}
					}
					return nil
				case <-time.After(15 * time.Second):
					_ = cmd.Process.Kill()
					<-exited
					return nil
				}
			}
		}
	}
}

func exitStatus(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exit code 0"
	case errors.As(err, &ee):
		return ee.ProcessState.String()
	}
	return err.Error()
}
