package backend

// TradingConfig is the body of GET/PUT /api/v1/config. The backend decodes
// it strictly (unknown fields are a 400), so it carries exactly these fields.
type TradingConfig struct {
	Strategies []Strategy `json:"strategies"`
	RiskLimits RiskLimits `json:"risk_limits"`
}

// Strategy is one configured trading strategy.
type Strategy struct {
	Name       string             `json:"name"`
	Symbol     string             `json:"symbol"`
	Enabled    bool               `json:"enabled"`
	Parameters map[string]float64 `json:"parameters"`
}

// RiskLimits are the account-wide limits.
type RiskLimits struct {
	MaxPosition   float64 `json:"max_position"`
	MaxOrderValue float64 `json:"max_order_value"`
	MaxDailyLoss  float64 `json:"max_daily_loss"`
}

// VersionInfo is the body of GET /version.
type VersionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// Status is the body of GET /api/v1/status: the orchestrator's last
// heartbeat as the backend saw it (backend/internal/heartbeat.Status).
type Status struct {
	Received           bool       `json:"received"` // false until the first heartbeat
	Fresh              bool       `json:"fresh"`
	ReceivedAt         string     `json:"received_at"` // RFC 3339; "" when none
	AgeSeconds         *float64   `json:"age_seconds"`
	FreshWithinSeconds float64    `json:"fresh_within_seconds"`
	Heartbeat          *Heartbeat `json:"heartbeat"`
}

// Heartbeat is what the orchestrator last reported.
type Heartbeat struct {
	Instance   string           `json:"instance"`
	Strategies []StrategyStatus `json:"strategies"`
}

// StrategyStatus is one strategy as last reported by the orchestrator.
type StrategyStatus struct {
	Name     string  `json:"name"`
	Status   string  `json:"status"` // running | idle | error
	Position float64 `json:"position"`
	PnL      float64 `json:"pnl"`
	LastTick string  `json:"last_tick"` // RFC 3339; "" before the first market data
}

// AuditEntry is one record of GET /api/v1/audit (which lists newest first).
type AuditEntry struct {
	Time    string `json:"time"`
	Actor   string `json:"actor"`
	Action  string `json:"action"`
	Summary string `json:"summary"`
	ETag    string `json:"etag,omitempty"`
}
