// Package admin is what the desktop UI can ask for: it combines the config
// file and the backend client into plain results the Wails bindings hand to
// JavaScript. Every result carries its own error as a *backend.Problem
// instead of a Go error, because a Wails promise rejection only keeps a
// string and the UI needs the kind (conflict, unauthorized, ...) to react.
package admin

import (
	"context"
	"sync"
	"time"

	"traderadmin/desktop/internal/backend"
	"traderadmin/desktop/internal/config"
)

// AuditMax caps how many audit entries the UI may ask for.
const AuditMax = 200

// Service holds the current settings and backend client. It is safe for
// concurrent use (Wails runs each bound call in its own goroutine).
type Service struct {
	version, commit string
	lookup          config.Lookup
	timeout         time.Duration

	mu     sync.RWMutex
	loaded config.Loaded
	client *backend.Client
}

// NewService reads the config found by lookup and makes a client for it.
func NewService(version, commit string, lookup config.Lookup, timeout time.Duration) *Service {
	s := &Service{version: version, commit: commit, lookup: lookup, timeout: timeout}
	s.Reload()
	return s
}

// Settings describes the app and its config for the UI's settings panel.
type Settings struct {
	AppVersion     string   `json:"app_version"`
	AppCommit      string   `json:"app_commit"`
	BackendURL     string   `json:"backend_url"`
	TokenSet       bool     `json:"token_set"`
	RefreshSeconds int      `json:"refresh_seconds"`
	ConfigPath     string   `json:"config_path"`
	ConfigOrigin   string   `json:"config_origin"`
	ConfigFound    bool     `json:"config_found"`
	ConfigParsed   bool     `json:"config_parsed"`
	ConfigError    string   `json:"config_error"`
	Warnings       []string `json:"warnings"`
	Searched       []string `json:"searched"`
	Notice         string   `json:"notice"` // one line for the banner; "" when all is well
}

// Settings returns the settings in effect.
func (s *Service) Settings() Settings {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.loaded
	out := Settings{
		AppVersion:     s.version,
		AppCommit:      s.commit,
		BackendURL:     l.Config.BackendURL,
		TokenSet:       l.Config.Token != "",
		RefreshSeconds: l.Config.RefreshSeconds,
		ConfigPath:     l.Path,
		ConfigOrigin:   string(l.Origin),
		ConfigFound:    l.Found,
		ConfigParsed:   l.Parsed,
		Warnings:       append([]string{}, l.Warnings...),
		Searched:       append([]string{}, l.Searched...),
		Notice:         l.Notice(),
	}
	if l.Err != nil {
		out.ConfigError = l.Err.Error()
	}
	return out
}

// Reload reads config.toml again (after the user edited it) and returns the
// new settings.
func (s *Service) Reload() Settings {
	loaded := config.Load(s.lookup)
	client := backend.New(loaded.Config.BackendURL, loaded.Config.Token, "TraderAdmin-desktop/"+s.version, s.timeout)
	s.mu.Lock()
	s.loaded, s.client = loaded, client
	s.mu.Unlock()
	return s.Settings()
}

func (s *Service) current() (*backend.Client, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.client, s.loaded.Path
}

func (s *Service) describe(err error) *backend.Problem {
	client, path := s.current()
	return backend.Describe(err, client.TokenSet(), path)
}

// Probe is a health endpoint as the UI shows it.
type Probe struct {
	OK         bool             `json:"ok"`
	StatusCode int              `json:"status_code"`
	Body       string           `json:"body"`
	Problem    *backend.Problem `json:"problem"`
}

// Overview is everything the dashboard shows, fetched in one call.
type Overview struct {
	BackendURL     string               `json:"backend_url"`
	Health         Probe                `json:"health"`
	Ready          Probe                `json:"ready"`
	BackendVersion *backend.VersionInfo `json:"backend_version"`
	VersionProblem *backend.Problem     `json:"version_problem"`
	Status         *backend.Status      `json:"status"`
	StatusProblem  *backend.Problem     `json:"status_problem"`
	CheckedAt      string               `json:"checked_at"`
}

// Overview asks /healthz, /readyz, /version and /api/v1/status in parallel.
func (s *Service) Overview(ctx context.Context) Overview {
	client, _ := s.current()
	out := Overview{BackendURL: client.BaseURL()}
	var wg sync.WaitGroup
	probe := func(path string, dst *Probe) {
		defer wg.Done()
		res, err := client.Probe(ctx, path)
		if err != nil {
			dst.Problem = s.describe(err)
			return
		}
		*dst = Probe{OK: res.OK, StatusCode: res.StatusCode, Body: res.Body}
	}
	wg.Add(4)
	go probe("/healthz", &out.Health)
	go probe("/readyz", &out.Ready)
	go func() {
		defer wg.Done()
		v, err := client.Version(ctx)
		if err != nil {
			out.VersionProblem = s.describe(err)
			return
		}
		out.BackendVersion = &v
	}()
	go func() {
		defer wg.Done()
		st, err := client.Status(ctx)
		if err != nil {
			out.StatusProblem = s.describe(err)
			return
		}
		out.Status = &st
	}()
	wg.Wait()
	out.CheckedAt = time.Now().Format(time.RFC3339)
	return out
}

// ConfigResult is the trading configuration with the ETag it was read or
// saved at, or the problem that prevented it.
type ConfigResult struct {
	Config  *backend.TradingConfig `json:"config"`
	ETag    string                 `json:"etag"`
	Problem *backend.Problem       `json:"problem"`
}

// LoadConfig reads the trading configuration.
func (s *Service) LoadConfig(ctx context.Context) ConfigResult {
	client, _ := s.current()
	cfg, etag, err := client.Config(ctx)
	if err != nil {
		return ConfigResult{Problem: s.describe(err)}
	}
	return ConfigResult{Config: &cfg, ETag: etag}
}

// SaveConfig replaces the trading configuration if it is still at etag.
func (s *Service) SaveConfig(ctx context.Context, cfg backend.TradingConfig, etag string) ConfigResult {
	client, _ := s.current()
	saved, newTag, err := client.PutConfig(ctx, cfg, etag)
	if err != nil {
		return ConfigResult{Problem: s.describe(err)}
	}
	return ConfigResult{Config: &saved, ETag: newTag}
}

// AuditResult is the newest audit entries, newest last as the backend sends
// them, or the problem that prevented reading them.
type AuditResult struct {
	Entries []backend.AuditEntry `json:"entries"`
	Problem *backend.Problem     `json:"problem"`
}

// Audit reads up to limit entries (clamped to 1..AuditMax).
func (s *Service) Audit(ctx context.Context, limit int) AuditResult {
	if limit < 1 {
		limit = 1
	}
	if limit > AuditMax {
		limit = AuditMax
	}
	client, _ := s.current()
	entries, err := client.Audit(ctx, limit)
	if err != nil {
		return AuditResult{Entries: []backend.AuditEntry{}, Problem: s.describe(err)}
	}
	if entries == nil {
		entries = []backend.AuditEntry{}
	}
	return AuditResult{Entries: entries}
}
