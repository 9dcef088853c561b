// Package selftest builds the JSON report of `TraderAdmin --selftest <path>`.
// It runs without a window, so it works where no web view exists (Wine, a
// CI runner, a fresh install) and tells whether the binary starts, which
// config it found, and whether the backend answers.
package selftest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"traderadmin/desktop/internal/backend"
	"traderadmin/desktop/internal/config"
)

// ProbeTimeout bounds the backend check, so an unreachable backend does not
// hold up an installer test.
const ProbeTimeout = 3 * time.Second

// Report is the self-test result written as JSON.
type Report struct {
	Version    string        `json:"version"`
	Commit     string        `json:"commit"`
	Executable string        `json:"executable"`
	OS         string        `json:"os"`
	Arch       string        `json:"arch"`
	GoVersion  string        `json:"go_version"`
	Time       string        `json:"time"`
	Config     ConfigReport  `json:"config"`
	Backend    BackendReport `json:"backend"`
}

// ConfigReport says which config file was used and whether it parsed.
type ConfigReport struct {
	Path     string   `json:"path"`
	Origin   string   `json:"origin"`
	Found    bool     `json:"found"`
	Parsed   bool     `json:"parsed"`
	Error    string   `json:"error,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Searched []string `json:"searched"`
	TokenSet bool     `json:"token_set"`
}

// BackendReport is the outcome of GET <backend_url>/healthz.
type BackendReport struct {
	URL        string `json:"url"`
	Reachable  bool   `json:"reachable"`
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Input is what Run needs; main gathers it from the process.
type Input struct {
	Version    string
	Commit     string
	Executable string
	Config     config.Loaded
	Now        func() time.Time // nil means time.Now
}

// Run builds the report. It only fails the way the report can show: an
// unreachable backend is reported, not returned.
func Run(ctx context.Context, in Input) Report {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	cfg := in.Config
	r := Report{
		Version:    in.Version,
		Commit:     in.Commit,
		Executable: in.Executable,
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
		Time:       now().UTC().Format(time.RFC3339),
		Config: ConfigReport{
			Path:     cfg.Path,
			Origin:   string(cfg.Origin),
			Found:    cfg.Found,
			Parsed:   cfg.Parsed,
			Warnings: cfg.Warnings,
			Searched: cfg.Searched,
			TokenSet: cfg.Config.Token != "",
		},
		Backend: BackendReport{URL: cfg.Config.BackendURL},
	}
	if r.Config.Searched == nil {
		r.Config.Searched = []string{}
	}
	if cfg.Err != nil {
		r.Config.Error = cfg.Err.Error()
	}

	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	client := backend.New(cfg.Config.BackendURL, "", "TraderAdmin-selftest/"+in.Version, ProbeTimeout)
	res, err := client.Probe(ctx, "/healthz")
	if err != nil {
		var te *backend.TransportError
		if errors.As(err, &te) {
			err = te.Err
		}
		r.Backend.Error = err.Error()
		return r
	}
	r.Backend.Reachable = true
	r.Backend.StatusCode = res.StatusCode
	if !res.OK {
		r.Backend.Error = fmt.Sprintf("healthz answered HTTP %d: %s", res.StatusCode, res.Body)
	}
	return r
}

// Write stores the report as indented JSON at path, atomically: a temp file
// in the same directory, then a rename, so a reader never sees half a report.
func Write(path string, r Report) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".selftest-*.json")
	if err != nil {
		return fmt.Errorf("write self-test report: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	_ = tmp.Chmod(0o644)        // CreateTemp makes it 0600; the report is not secret
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write self-test report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write self-test report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write self-test report: %w", err)
	}
	return nil
}
