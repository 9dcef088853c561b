package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"traderadmin/desktop/internal/admin"
	"traderadmin/desktop/internal/backend"
	"traderadmin/desktop/internal/update"
)

// updateCheckInterval: the app checks the feed at start and then this often.
const updateCheckInterval = 4 * time.Hour

// App is the object bound to the web view: each exported method becomes a
// JavaScript function in frontend/wailsjs/go/main/App.js. It only forwards
// to admin.Service and update.Updater, which hold the logic and its tests.
type App struct {
	ctx     context.Context
	service *admin.Service
	updater *update.Updater

	mu     sync.Mutex
	status UpdateStatus
}

// UpdateStatus is what the UI shows about updates.
type UpdateStatus struct {
	Current    string `json:"current"`
	Available  bool   `json:"available"`
	Version    string `json:"version"`
	Notes      string `json:"notes"`
	Reason     string `json:"reason"`  // why nothing is offered, or that updates are off
	Problem    string `json:"problem"` // the last check failed (feed unreachable or refused)
	Undone     string `json:"undone"`  // "Update to X failed to start and was undone"
	Installing bool   `json:"installing"`
}

// NewApp returns the bound object for service.
func NewApp(service *admin.Service, updater *update.Updater) *App {
	return &App{ctx: context.Background(), service: service, updater: updater, status: UpdateStatus{Current: version}}
}

// startup keeps the Wails context (calls made with it end when the window
// closes) and starts the background update checks.
func (a *App) startup(ctx context.Context) {
	a.ctx = ctx
	if state, err := update.LoadState(a.updater.StateDir); err == nil && state.Undone != nil {
		a.status.Undone = state.Undone.Message()
	}
	go a.checkUpdates(ctx)
}

func (a *App) checkUpdates(ctx context.Context) {
	ticker := time.NewTicker(updateCheckInterval)
	defer ticker.Stop()
	for {
		a.checkOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (a *App) checkOnce(ctx context.Context) {
	offer, err := a.updater.Check(ctx)
	a.mu.Lock()
	s := &a.status
	s.Available, s.Version, s.Notes, s.Reason, s.Problem = false, "", "", "", ""
	var off *update.DisabledError
	switch {
	case errors.As(err, &off):
		s.Reason = off.Reason
	case err != nil:
		s.Problem = err.Error()
	case offer.Decision.Offer:
		s.Available, s.Version, s.Notes = true, offer.Manifest.Version, offer.Manifest.Notes
	default:
		s.Reason = offer.Decision.Reason
	}
	status := *s
	a.mu.Unlock()
	// One line per check on stderr: what an admin (and the tests) can read without the UI.
	switch {
	case status.Available:
		fmt.Fprintf(os.Stderr, "update check: %s available\n", status.Version)
	case status.Problem != "":
		fmt.Fprintf(os.Stderr, "update check failed: %s\n", status.Problem)
	default:
		fmt.Fprintf(os.Stderr, "update check: no update (%s)\n", status.Reason)
	}
	runtime.EventsEmit(ctx, "update:status", status)
}

// UpdateStatus returns the last update check's result.
func (a *App) UpdateStatus() UpdateStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.status
}

// InstallUpdate downloads and verifies the offered version, replaces the
// app and restarts into it; the previous version supervises that first
// start and comes back if it fails. Returns a problem, or "" as it quits.
func (a *App) InstallUpdate() string {
	offer, err := a.updater.Check(a.ctx)
	if err != nil {
		return err.Error()
	}
	if !offer.Decision.Offer {
		return "no update to install: " + offer.Decision.Reason
	}
	if _, err := a.updater.Apply(a.ctx, offer, true); err != nil {
		return err.Error()
	}
	runtime.Quit(a.ctx)
	return ""
}

// DismissUpdateNotice forgets the "failed and was undone" message.
func (a *App) DismissUpdateNotice() {
	a.mu.Lock()
	a.status.Undone = ""
	a.mu.Unlock()
	if state, err := update.LoadState(a.updater.StateDir); err == nil && state.Undone != nil {
		state.Undone = nil
		_ = state.Save(a.updater.StateDir)
	}
}

// Settings returns the app version and the config in effect.
func (a *App) Settings() admin.Settings { return a.service.Settings() }

// ReloadSettings re-reads config.toml, e.g. after the user fixed the token.
func (a *App) ReloadSettings() admin.Settings { return a.service.Reload() }

// Overview returns backend health, readiness, version and orchestrator status.
func (a *App) Overview() admin.Overview { return a.service.Overview(a.ctx) }

// LoadConfig returns the trading configuration and its ETag.
func (a *App) LoadConfig() admin.ConfigResult { return a.service.LoadConfig(a.ctx) }

// SaveConfig saves cfg if the backend still has the version etag.
func (a *App) SaveConfig(cfg backend.TradingConfig, etag string) admin.ConfigResult {
	return a.service.SaveConfig(a.ctx, cfg, etag)
}

// RecentAudit returns up to limit of the newest audit entries.
func (a *App) RecentAudit(limit int) admin.AuditResult { return a.service.Audit(a.ctx, limit) }
