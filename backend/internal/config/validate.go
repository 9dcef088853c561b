package config

import (
	"fmt"
	"math"
	"regexp"

	"traderadmin/backend/internal/validate"
)

// ValidationError is the field-level error Validate and DecodeJSON return.
type ValidationError = validate.Error

func invalid(field, format string, args ...any) *ValidationError {
	return validate.Errorf(field, format, args...)
}

var (
	// Names appear in URLs (/api/v1/strategies/{name}), so they stay URL- and shell-safe.
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	// Instrument symbols: upper-case tokens joined by single separators (BTC-USD, EUR/USD, ES.F).
	symbolPattern = regexp.MustCompile(`^[A-Z0-9]+(?:[._/:-][A-Z0-9]+)*$`)
	// Parameter names are also bare TOML keys.
	paramPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
)

const maxSymbolLen = 32

// Validate reports the first problem found in c, or nil.
func Validate(c Config) error {
	limits := []struct {
		field string
		value float64
	}{
		{"risk_limits.max_position", c.RiskLimits.MaxPosition},
		{"risk_limits.max_order_value", c.RiskLimits.MaxOrderValue},
		{"risk_limits.max_daily_loss", c.RiskLimits.MaxDailyLoss},
	}
	for _, l := range limits {
		if err := checkLimit(l.field, l.value); err != nil {
			return err
		}
	}
	seen := make(map[string]int, len(c.Strategies))
	for i, s := range c.Strategies {
		field := fmt.Sprintf("strategies[%d]", i)
		if err := ValidateStrategy(field, s); err != nil {
			return err
		}
		if j, dup := seen[s.Name]; dup {
			return invalid(field+".name", "duplicate strategy name %q (also strategies[%d].name)", s.Name, j)
		}
		seen[s.Name] = i
	}
	return nil
}

// ValidateStrategy checks one strategy; path is its location, e.g. "strategies[3]", or ""
// when the strategy is the whole request body.
func ValidateStrategy(path string, s Strategy) error {
	field := func(name string) string { return validate.Join(path, name) }
	switch {
	case s.Name == "":
		return invalid(field("name"), "must not be empty")
	case !namePattern.MatchString(s.Name):
		return invalid(field("name"), "%q must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit", s.Name)
	case s.Symbol == "":
		return invalid(field("symbol"), "must not be empty")
	case len(s.Symbol) > maxSymbolLen || !symbolPattern.MatchString(s.Symbol):
		return invalid(field("symbol"), "%q must be at most %d upper-case letters or digits, optionally joined by one of . _ / : - (e.g. BTC-USD, EUR/USD, AAPL)", s.Symbol, maxSymbolLen)
	}
	for _, k := range sortedKeys(s.Parameters) {
		pf := field("parameters." + k)
		if !paramPattern.MatchString(k) {
			return invalid(pf, "parameter name %q must be 1-64 letters, digits or '_', not starting with a digit", k)
		}
		if v := s.Parameters[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return invalid(pf, "must be a finite number, got %v", v)
		}
	}
	return nil
}

func checkLimit(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid(field, "must be a finite number, got %v", v)
	}
	if v < 0 {
		return invalid(field, "must not be negative, got %v", v)
	}
	return nil
}
