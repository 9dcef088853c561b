package update

import (
	"fmt"
	"path/filepath"
	"time"

	"traderadmin/desktop/internal/config"
)

// Set by the release build with -ldflags -X (build_scripts/desktop/build.py):
// the base64 line of the minisign public key and the feed the app reads.
var (
	PublicKey      = ""
	DefaultFeedURL = ""
)

// failStartForTest makes a build fail its first-start checks, to test the
// rollback for real (tests/test_desktop_update.py builds such a version with
// -X traderadmin/desktop/internal/update.failStartForTest=1). Release builds
// never set it.
var failStartForTest = ""

// TrialBound is how long a new version has to pass its start checks.
const TrialBound = 60 * time.Second

// Settings is the update configuration in effect.
type Settings struct {
	Disabled string // why updates are off; "" when on
	Channel  string
	FeedURL  string
	Key      MinisignKey
	StateDir string // beside config.toml: state file, install id, cache
	Current  string // this build's version
}

// ResolveSettings combines the built-in key and feed, config.toml and the
// machine policy.
func ResolveSettings(loaded config.Loaded, current, exeDir string) Settings {
	cfg := loaded.Config
	s := Settings{Channel: cfg.UpdateChannel, FeedURL: cfg.UpdateFeed, Current: current, StateDir: StateDir(loaded, exeDir)}
	v, verr := ParseVersion(current)
	if s.Channel == "" {
		s.Channel = "stable"
		if verr == nil && v.Prerelease() {
			s.Channel = "beta"
		}
	}
	if s.FeedURL == "" {
		s.FeedURL = DefaultFeedURL
	}
	switch {
	case cfg.UpdatePolicy == "off":
		s.Disabled = fmt.Sprintf("updates are off (update_policy = \"off\" in %s)", loaded.Path)
	case machinePolicyOff():
		s.Disabled = `updates are off by machine policy (HKLM\Software\TraderAdmin UpdatePolicy = "off")`
	case PublicKey == "":
		s.Disabled = "updates disabled: this build has no update key"
	case verr != nil:
		s.Disabled = fmt.Sprintf("updates disabled: this build's version %q is not a release version", current)
	case s.FeedURL == "":
		s.Disabled = "updates disabled: no update feed (set update_feed in config.toml)"
	}
	if s.Disabled != "" {
		return s
	}
	key, err := ParseMinisignKey(PublicKey)
	if err != nil {
		s.Disabled = "updates disabled: the built-in update key is invalid: " + err.Error()
	}
	s.Key = key
	return s
}

// StateDir is the folder of config.toml: the file in use, else the first
// place the app looks for one (the per-user folder), else beside the binary.
func StateDir(loaded config.Loaded, exeDir string) string {
	switch {
	case loaded.Path != "":
		return filepath.Dir(loaded.Path)
	case len(loaded.Searched) > 0:
		return filepath.Dir(loaded.Searched[0])
	}
	return exeDir
}
