package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"traderadmin/backend/internal/validate"
)

// The wire types mirror Config with pointers, so that a missing field is told apart from a
// zero value: a PUT that forgets risk_limits must not silently set every limit to 0.
type wireConfig struct {
	RiskLimits json.RawMessage `json:"risk_limits"`
	Strategies json.RawMessage `json:"strategies"`
}

type wireLimits struct {
	MaxPosition   *float64 `json:"max_position"`
	MaxOrderValue *float64 `json:"max_order_value"`
	MaxDailyLoss  *float64 `json:"max_daily_loss"`
}

type wireStrategy struct {
	Name       *string            `json:"name"`
	Symbol     *string            `json:"symbol"`
	Enabled    *bool              `json:"enabled"`
	Parameters map[string]float64 `json:"parameters"`
}

// DecodeJSON reads a whole configuration strictly: unknown fields, missing required fields,
// wrong types and trailing data are *validate.Error naming the field. The result is also
// passed through Validate.
func DecodeJSON(r io.Reader) (Config, error) {
	var w wireConfig
	if err := validate.DecodeJSON(r, &w, "", false); err != nil {
		return Config{}, err
	}
	var c Config

	if isNull(w.RiskLimits) {
		return Config{}, validate.Errorf("risk_limits", "is required")
	}
	var wl wireLimits
	if err := validate.DecodeJSON(bytes.NewReader(w.RiskLimits), &wl, "risk_limits", false); err != nil {
		return Config{}, err
	}
	for _, f := range []struct {
		name string
		src  *float64
		dst  *float64
	}{
		{"max_position", wl.MaxPosition, &c.RiskLimits.MaxPosition},
		{"max_order_value", wl.MaxOrderValue, &c.RiskLimits.MaxOrderValue},
		{"max_daily_loss", wl.MaxDailyLoss, &c.RiskLimits.MaxDailyLoss},
	} {
		if f.src == nil {
			return Config{}, validate.Errorf("risk_limits."+f.name, "is required")
		}
		*f.dst = *f.src
	}

	if isNull(w.Strategies) {
		return Config{}, validate.Errorf("strategies", "is required (use [] for none)")
	}
	var raw []json.RawMessage
	if err := validate.DecodeJSON(bytes.NewReader(w.Strategies), &raw, "strategies", false); err != nil {
		return Config{}, err
	}
	c.Strategies = make([]Strategy, 0, len(raw))
	for i, item := range raw {
		field := fmt.Sprintf("strategies[%d]", i)
		if isNull(item) {
			return Config{}, validate.Errorf(field, "must be an object, got null")
		}
		var ws wireStrategy
		if err := validate.DecodeJSON(bytes.NewReader(item), &ws, field, false); err != nil {
			return Config{}, err
		}
		s := Strategy{Parameters: ws.Parameters}
		if ws.Name == nil {
			return Config{}, validate.Errorf(field+".name", "is required")
		}
		s.Name = *ws.Name
		if ws.Symbol == nil {
			return Config{}, validate.Errorf(field+".symbol", "is required")
		}
		s.Symbol = *ws.Symbol
		if ws.Enabled != nil {
			s.Enabled = *ws.Enabled
		}
		if s.Parameters == nil {
			s.Parameters = map[string]float64{}
		}
		c.Strategies = append(c.Strategies, s)
	}
	if err := Validate(c); err != nil {
		return Config{}, err
	}
	return c, nil
}

// StrategyPatch is the body of PATCH /api/v1/strategies/{name}: enabled replaces the flag,
// parameters is merged key by key and a null value removes that key (RFC 7396 style).
type StrategyPatch struct {
	Enabled    *bool               `json:"enabled"`
	Parameters map[string]*float64 `json:"parameters"`
}

// DecodeStrategyPatch reads a StrategyPatch strictly.
func DecodeStrategyPatch(r io.Reader) (StrategyPatch, error) {
	var p StrategyPatch
	if err := validate.DecodeJSON(r, &p, "", false); err != nil {
		return StrategyPatch{}, err
	}
	if p.Enabled == nil && len(p.Parameters) == 0 {
		return StrategyPatch{}, validate.Errorf("", "the patch must set \"enabled\" and/or \"parameters\"")
	}
	return p, nil
}

// Apply applies the patch to s in place.
func (p StrategyPatch) Apply(s *Strategy) {
	if p.Enabled != nil {
		s.Enabled = *p.Enabled
	}
	if s.Parameters == nil {
		s.Parameters = map[string]float64{}
	}
	for k, v := range p.Parameters {
		if v == nil {
			delete(s.Parameters, k)
		} else {
			s.Parameters[k] = *v
		}
	}
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
