//go:build !windows

package update

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Shell scripts stand in for the app: a version that passes its start
// checks writes "good <version>" to the marker the supervisor names.
func goodScript(version string) []byte {
	return []byte("#!/bin/sh\nprintf 'good " + version + "\\n' > \"$" + TrialEnv + "\"\n")
}

const failingScript = "#!/bin/sh\necho 'start check failed' >&2\nexit 3\n"

func installedUpdater(t *testing.T, feed *testFeed, current string, installed []byte) *Updater {
	t.Helper()
	dir := t.TempDir()
	exe := filepath.Join(dir, "TraderAdmin")
	if err := os.WriteFile(exe, installed, 0o755); err != nil {
		t.Fatal(err)
	}
	return &Updater{
		Settings: Settings{Channel: "stable", FeedURL: feed.server.URL, Key: feed.key.pub, StateDir: filepath.Join(dir, "config"), Current: current},
		Exe:      exe,
		Out:      io.Discard,
		Bound:    5 * time.Second,
	}
}

func applyOffer(t *testing.T, u *Updater) (Outcome, error) {
	t.Helper()
	offer, err := u.Check(context.Background())
	if err != nil || !offer.Decision.Offer {
		t.Fatalf("Check() = %+v, %v", offer, err)
	}
	return u.Apply(context.Background(), offer, false)
}

func fileText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestApplyReplacesTheBinaryAndKeepsThePrevious(t *testing.T) {
	feed := newTestFeed(t, "1.2.0", goodScript("1.2.0"), nil)
	u := installedUpdater(t, feed, "1.1.0", goodScript("1.1.0"))
	out, err := applyOffer(t, u)
	if err != nil || out.Undone != nil || out.To != "1.2.0" {
		t.Fatalf("Apply() = %+v, %v", out, err)
	}
	if fileText(t, u.Exe) != string(goodScript("1.2.0")) || fileText(t, u.Exe+".previous") != string(goodScript("1.1.0")) {
		t.Error("the binary was not replaced, or the previous one not kept")
	}
	if entries, _ := os.ReadDir(filepath.Dir(u.Exe)); len(entries) != 3 { // binary, .previous, config/
		t.Errorf("left behind: %v", entries)
	}
}

func TestApplyUndoesAVersionThatFailsItsFirstStart(t *testing.T) {
	tests := []struct {
		name    string
		content string
		reason  string
	}{
		{"exits at start", failingScript, "exited"},
		{"never marks itself good", "#!/bin/sh\nexec sleep 30\n", "within 1s"},
		{"marks another version good", string(goodScript("1.1.0")), "exited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			feed := newTestFeed(t, "1.2.0", []byte(tt.content), nil)
			u := installedUpdater(t, feed, "1.1.0", goodScript("1.1.0"))
			u.Bound = time.Second
			started := time.Now()
			out, err := applyOffer(t, u)
			if err != nil || out.Undone == nil || out.To != "1.1.0" || !strings.Contains(out.Undone.Reason, tt.reason) {
				t.Fatalf("Apply() = %+v (undone %+v), %v", out, out.Undone, err)
			}
			if fileText(t, u.Exe) != string(goodScript("1.1.0")) {
				t.Error("the previous binary was not restored")
			}
			state, _ := LoadState(u.StateDir)
			if len(state.Bad) != 1 || state.Bad[0] != "1.2.0" || state.Undone == nil {
				t.Errorf("state = %+v", state)
			}
			offer, err := u.Check(context.Background())
			if err != nil || offer.Decision.Offer || !strings.Contains(offer.Decision.Reason, "failed to start") {
				t.Errorf("after the rollback Check() = %+v, %v", offer.Decision, err)
			}
			t.Logf("undone %.1fs after the update started", time.Since(started).Seconds())
		})
	}
}

func TestApplyReportsARestoreThatFailsToo(t *testing.T) {
	feed := newTestFeed(t, "1.2.0", []byte(failingScript), nil)
	u := installedUpdater(t, feed, "1.1.0", []byte(failingScript))
	if _, err := applyOffer(t, u); err == nil || !strings.Contains(err.Error(), "restored but failed") {
		t.Fatalf("Apply() error = %v", err)
	}
}

func TestApplyRefusesATamperedFileAndChangesNothing(t *testing.T) {
	feed := newTestFeed(t, "1.2.0", goodScript("1.2.0"), nil)
	u := installedUpdater(t, feed, "1.1.0", goodScript("1.1.0"))
	offer, err := u.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name := range feed.files {
		if strings.HasPrefix(name, "/1.2.0/") {
			feed.files[name] = []byte("#!/bin/sh\necho evil\n")
		}
	}
	if _, err := u.Apply(context.Background(), offer, false); err == nil {
		t.Fatal("Apply() accepted a tampered file")
	}
	if fileText(t, u.Exe) != string(goodScript("1.1.0")) {
		t.Error("the binary changed")
	}
	if entries, _ := os.ReadDir(filepath.Dir(u.Exe)); len(entries) != 1 { // the binary alone: no state, no download
		t.Errorf("left behind: %v", entries)
	}
}

func TestATrialThatEndsLeavesNothingPending(t *testing.T) {
	for _, content := range [][]byte{goodScript("1.2.0"), []byte(failingScript)} {
		feed := newTestFeed(t, "1.2.0", content, nil)
		u := installedUpdater(t, feed, "1.1.0", goodScript("1.1.0"))
		if _, err := applyOffer(t, u); err != nil {
			t.Fatal(err)
		}
		if state, _ := LoadState(u.StateDir); state.Pending != nil {
			t.Errorf("pending after the trial: %+v", state.Pending)
		}
	}
}

func TestResumeStartsTheSupervisorOfAnUnjudgedTrialAgain(t *testing.T) {
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	supervisor := filepath.Join(dir, "TraderAdmin.previous")
	script := "#!/bin/sh\necho \"$@\" > " + started + "\n"
	if err := os.WriteFile(supervisor, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	pending := &Pending{Version: "1.2.0", Supervisor: supervisor, Args: []string{"--supervise-update", "1.2.0"}}
	for _, tt := range []struct {
		name    string
		version string
		pid     int
		resumed bool
	}{
		{"another version starts", "1.1.0", 0, false},
		{"its supervisor is still at work", "1.2.0", os.Getpid(), false},
		{"its supervisor died", "1.2.0", 0, true},
	} {
		pending.PID = tt.pid
		if err := setPending(dir, pending); err != nil {
			t.Fatal(err)
		}
		if got := Resume(dir, tt.version, 4242); got != tt.resumed {
			t.Errorf("%s: Resume() = %v", tt.name, got)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(started); err == nil && strings.Contains(string(data), "--update-wait-pid 4242") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("the supervisor was not started again")
}
