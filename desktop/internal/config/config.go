// Package config finds and reads the per-user config.toml of the TraderAdmin
// desktop app.
//
// Lookup order (first match wins):
//
//  1. the --config <path> command-line flag
//  2. the TRADERADMIN_CONFIG environment variable
//  3. <os.UserConfigDir()>/TraderAdmin/config.toml
//  4. config.toml next to the executable
//
// A path given explicitly (1 or 2) is used even when the file is missing, so a
// typo is reported instead of silently falling through to another file. A
// missing file is not an error for the implicit locations (3, 4): the app
// runs with Defaults and the UI says so.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// EnvVar names the environment variable that points at a config file.
const EnvVar = "TRADERADMIN_CONFIG"

// FileName is the config file name looked up in the implicit locations.
const FileName = "config.toml"

// AppDirName is the folder under os.UserConfigDir() that holds FileName.
const AppDirName = "TraderAdmin"

// Config is the content of config.toml.
type Config struct {
	BackendURL     string `toml:"backend_url" json:"backend_url"`
	Token          string `toml:"token" json:"-"`
	RefreshSeconds int    `toml:"refresh_seconds" json:"refresh_seconds"`
	// Updates (internal/update): "off" disables checking and installing; the
	// channel "" means stable, or beta for a pre-release build; the feed ""
	// means the URL built into the binary.
	UpdatePolicy  string `toml:"update_policy" json:"update_policy"`
	UpdateChannel string `toml:"update_channel" json:"update_channel"`
	UpdateFeed    string `toml:"update_feed" json:"update_feed"`
}

// Defaults is what the app uses for every key the file does not set, and for
// everything when no file is found or it cannot be parsed.
func Defaults() Config {
	return Config{
		BackendURL:     "http://127.0.0.1:8080",
		RefreshSeconds: 10,
	}
}

// Origin says which lookup step produced a candidate path.
type Origin string

// Origins, in lookup order.
const (
	OriginFlag    Origin = "flag"
	OriginEnv     Origin = "env"
	OriginUserDir Origin = "user-config-dir"
	OriginExeDir  Origin = "executable-dir"
	OriginNone    Origin = "defaults"
)

// Candidate is one place a config file may live.
type Candidate struct {
	Path   string
	Origin Origin
}

// Explicit reports whether the user named this path (flag or env var).
func (c Candidate) Explicit() bool {
	return c.Origin == OriginFlag || c.Origin == OriginEnv
}

// Lookup holds the inputs of the search; main fills it from the process
// (flag, os.Getenv, os.UserConfigDir, os.Executable), tests fill it by hand.
type Lookup struct {
	FlagPath      string
	EnvPath       string
	UserConfigDir string // "" when os.UserConfigDir failed
	ExeDir        string // "" when os.Executable failed
}

// Candidates lists the paths to try, in order. An explicit path (flag, then
// env) is the only candidate when given.
func (l Lookup) Candidates() []Candidate {
	if l.FlagPath != "" {
		return []Candidate{{Path: l.FlagPath, Origin: OriginFlag}}
	}
	if l.EnvPath != "" {
		return []Candidate{{Path: l.EnvPath, Origin: OriginEnv}}
	}
	var out []Candidate
	if l.UserConfigDir != "" {
		out = append(out, Candidate{Path: filepath.Join(l.UserConfigDir, AppDirName, FileName), Origin: OriginUserDir})
	}
	if l.ExeDir != "" {
		out = append(out, Candidate{Path: filepath.Join(l.ExeDir, FileName), Origin: OriginExeDir})
	}
	return out
}

// Loaded is the outcome of Load: the effective config plus how it was found,
// which the UI and the self-test report show.
type Loaded struct {
	Config   Config
	Path     string   // the file used or tried; "" when none was found
	Origin   Origin   // which lookup step Path came from
	Found    bool     // Path exists
	Parsed   bool     // Path was read and decoded without error
	Err      error    // why Found or Parsed is false when that is a problem
	Warnings []string // non-fatal findings, e.g. unknown keys
	Searched []string // every path considered, in order
}

// Load searches the candidates of l and reads the first file found. It never
// fails: problems are reported in Loaded.Err and Defaults are used.
func Load(l Lookup) Loaded {
	res := Loaded{Config: Defaults(), Origin: OriginNone}
	for _, c := range l.Candidates() {
		res.Searched = append(res.Searched, c.Path)
		data, err := os.ReadFile(c.Path)
		if errors.Is(err, fs.ErrNotExist) {
			if c.Explicit() {
				res.Path, res.Origin = c.Path, c.Origin
				res.Err = fmt.Errorf("config file %s (from %s) does not exist — create it from config.toml.example or fix the path", c.Path, c.Origin)
				return res
			}
			continue
		}
		res.Path, res.Origin, res.Found = c.Path, c.Origin, true
		if err != nil {
			res.Err = fmt.Errorf("read config %s: %w", c.Path, err)
			return res
		}
		cfg, warnings, err := Parse(data)
		res.Warnings = warnings
		if err != nil {
			res.Err = fmt.Errorf("config %s: %w — using defaults", c.Path, err)
			return res
		}
		res.Config, res.Parsed = cfg, true
		return res
	}
	return res
}

// Parse decodes config.toml content over Defaults and validates it. Unknown
// keys are returned as warnings, since a misspelt key would otherwise be
// silently ignored.
func Parse(data []byte) (Config, []string, error) {
	cfg := Defaults()
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return Defaults(), nil, err
	}
	var warnings []string
	for _, k := range md.Undecoded() {
		warnings = append(warnings, fmt.Sprintf("unknown key %q ignored", k.String()))
	}
	sort.Strings(warnings)
	cfg.BackendURL = strings.TrimRight(strings.TrimSpace(cfg.BackendURL), "/")
	cfg.Token = strings.TrimSpace(cfg.Token)
	if err := cfg.Validate(); err != nil {
		return Defaults(), warnings, err
	}
	return cfg, warnings, nil
}

// Validate checks the values a user can get wrong.
func (c Config) Validate() error {
	u, err := url.Parse(c.BackendURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("backend_url %q must be an http:// or https:// URL such as http://127.0.0.1:8080", c.BackendURL)
	}
	if c.RefreshSeconds < 0 {
		return fmt.Errorf("refresh_seconds must be 0 (off) or more, got %d", c.RefreshSeconds)
	}
	if p := c.UpdatePolicy; p != "" && p != "on" && p != "off" {
		return fmt.Errorf("update_policy %q must be \"on\" or \"off\"", p)
	}
	if ch := c.UpdateChannel; ch != "" && ch != "stable" && ch != "beta" {
		return fmt.Errorf("update_channel %q must be \"stable\" or \"beta\"", ch)
	}
	if c.UpdateFeed != "" {
		u, err := url.Parse(c.UpdateFeed)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("update_feed %q must be an http:// or https:// URL", c.UpdateFeed)
		}
	}
	return nil
}

// Notice is the one-line message the UI shows about the config, or "" when
// there is nothing to say.
func (l Loaded) Notice() string {
	switch {
	case l.Err != nil:
		return l.Err.Error()
	case !l.Found:
		msg := fmt.Sprintf("No config.toml found — using defaults (backend %s, no token, so saving is refused).", l.Config.BackendURL)
		if len(l.Searched) > 0 {
			msg += " Create one at " + l.Searched[0] + " (see config.toml.example)."
		}
		return msg
	case len(l.Warnings) > 0:
		return l.Path + ": " + strings.Join(l.Warnings, "; ")
	case l.Config.Token == "":
		return "No token in " + l.Path + " — you can view the configuration but not save it."
	}
	return ""
}
