package main

import (
	"context"

	"traderadmin/desktop/internal/admin"
	"traderadmin/desktop/internal/backend"
)

// App is the object bound to the web view: each exported method becomes a
// JavaScript function in frontend/wailsjs/go/main/App.js. It only forwards
// to admin.Service, which holds the logic and its tests.
type App struct {
	ctx     context.Context
	service *admin.Service
}

// NewApp returns the bound object for service.
func NewApp(service *admin.Service) *App {
	return &App{ctx: context.Background(), service: service}
}

// startup keeps the Wails context: calls made with it end when the window
// closes.
func (a *App) startup(ctx context.Context) {
	a.ctx = ctx
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
