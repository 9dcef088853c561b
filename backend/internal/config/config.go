// Package config owns TraderAdmin's trading configuration: the strategies the orchestrator
// runs and the risk limits that bound them. It validates, diffs and persists it as TOML.
package config

import (
	"maps"
	"slices"
)

// Config is the whole trading configuration. Its JSON form is what GET /api/v1/config
// returns and PUT /api/v1/config accepts; its TOML form is config.toml.
type Config struct {
	RiskLimits RiskLimits `json:"risk_limits" toml:"risk_limits"`
	Strategies []Strategy `json:"strategies" toml:"strategies"`
}

// RiskLimits bound what all strategies together may do. Zero means "nothing allowed".
type RiskLimits struct {
	MaxPosition   float64 `json:"max_position" toml:"max_position"`
	MaxOrderValue float64 `json:"max_order_value" toml:"max_order_value"`
	MaxDailyLoss  float64 `json:"max_daily_loss" toml:"max_daily_loss"`
}

// Strategy is one trading strategy the orchestrator may run.
type Strategy struct {
	Name       string             `json:"name" toml:"name"`
	Symbol     string             `json:"symbol" toml:"symbol"`
	Enabled    bool               `json:"enabled" toml:"enabled"`
	Parameters map[string]float64 `json:"parameters" toml:"parameters"`
}

// Default is the configuration written when the data directory has none. Both strategies
// start disabled so that a fresh install never trades until someone enables one.
func Default() Config {
	return Config{
		RiskLimits: RiskLimits{MaxPosition: 10, MaxOrderValue: 50000, MaxDailyLoss: 2500},
		Strategies: []Strategy{
			{
				Name:       "btc-mean-reversion",
				Symbol:     "BTC-USD",
				Enabled:    false,
				Parameters: map[string]float64{"lookback": 20, "entry_z": 2.0, "exit_z": 0.5},
			},
			{
				Name:       "eth-momentum",
				Symbol:     "ETH-USD",
				Enabled:    false,
				Parameters: map[string]float64{"fast_window": 12, "slow_window": 26, "stop_loss_pct": 1.5},
			},
		},
	}
}

// Clone returns a deep copy, so that a stored snapshot is never changed through an alias.
func (c Config) Clone() Config {
	out := Config{RiskLimits: c.RiskLimits, Strategies: make([]Strategy, len(c.Strategies))}
	for i, s := range c.Strategies {
		s.Parameters = maps.Clone(s.Parameters)
		if s.Parameters == nil {
			s.Parameters = map[string]float64{}
		}
		out.Strategies[i] = s
	}
	return out
}

// Strategy returns the index of the strategy called name, or -1.
func (c Config) Strategy(name string) int {
	return slices.IndexFunc(c.Strategies, func(s Strategy) bool { return s.Name == name })
}
