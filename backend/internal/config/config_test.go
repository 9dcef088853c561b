package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const validJSON = `{
  "risk_limits": {"max_position": 5, "max_order_value": 1000.5, "max_daily_loss": 0},
  "strategies": [
    {"name": "a", "symbol": "BTC-USD", "enabled": true, "parameters": {"lookback": 20}},
    {"name": "b.2", "symbol": "EUR/USD", "parameters": {}}
  ]
}`

func TestDecodeJSONValid(t *testing.T) {
	c, err := DecodeJSON(strings.NewReader(validJSON))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		RiskLimits: RiskLimits{MaxPosition: 5, MaxOrderValue: 1000.5},
		Strategies: []Strategy{
			{Name: "a", Symbol: "BTC-USD", Enabled: true, Parameters: map[string]float64{"lookback": 20}},
			{Name: "b.2", Symbol: "EUR/USD", Parameters: map[string]float64{}},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("decoded %+v\nwant    %+v", c, want)
	}
}

func TestDecodeJSONRejectsWithFieldName(t *testing.T) {
	limits := `"risk_limits": {"max_position": 1, "max_order_value": 1, "max_daily_loss": 1}`
	withStrategies := func(s string) string { return `{` + limits + `, "strategies": [` + s + `]}` }
	ok := `{"name": "ok", "symbol": "AAPL"}`
	tests := []struct {
		name, body, field, msg string
	}{
		{"empty body", ``, "", "empty"},
		{"not an object", `[]`, "", "an object"},
		{"trailing data", withStrategies(ok) + `{}`, "", "after the JSON value"},
		{"malformed", `{"risk_limits": `, "", "malformed JSON"},
		{"unknown top-level field", `{` + limits + `, "strategies": [], "extra": 1}`, "extra", "unknown field"},
		{"missing risk_limits", `{"strategies": []}`, "risk_limits", "required"},
		{"null risk_limits", `{"risk_limits": null, "strategies": []}`, "risk_limits", "required"},
		{"missing one limit", `{"risk_limits": {"max_position": 1, "max_order_value": 1}, "strategies": []}`, "risk_limits.max_daily_loss", "required"},
		{"unknown limit", `{"risk_limits": {"max_position": 1, "max_order_value": 1, "max_daily_loss": 1, "max_leverage": 3}, "strategies": []}`, "risk_limits.max_leverage", "unknown field"},
		{"negative limit", `{"risk_limits": {"max_position": 1, "max_order_value": -1, "max_daily_loss": 1}, "strategies": []}`, "risk_limits.max_order_value", "negative"},
		{"limit as string", `{"risk_limits": {"max_position": "1", "max_order_value": 1, "max_daily_loss": 1}, "strategies": []}`, "risk_limits.max_position", "a number"},
		{"missing strategies", `{` + limits + `}`, "strategies", "required"},
		{"strategies not array", `{` + limits + `, "strategies": {}}`, "strategies", "an array"},
		{"null strategy", withStrategies(ok + `, null`), "strategies[1]", "object"},
		{"unknown strategy field", withStrategies(ok + `, {"name": "x", "symbol": "X", "colour": "red"}`), "strategies[1].colour", "unknown field"},
		{"missing name", withStrategies(`{"symbol": "X"}`), "strategies[0].name", "required"},
		{"empty name", withStrategies(ok + `, {"name": "", "symbol": "X"}`), "strategies[1].name", "empty"},
		{"name with slash", withStrategies(`{"name": "a/b", "symbol": "X"}`), "strategies[0].name", "letters"},
		{"duplicate name", withStrategies(ok + `, {"name": "ok", "symbol": "MSFT"}`), "strategies[1].name", "duplicate"},
		{"name as number", withStrategies(`{"name": 7, "symbol": "X"}`), "strategies[0].name", "a string"},
		{"missing symbol", withStrategies(ok + `, {"name": "x"}`), "strategies[1].symbol", "required"},
		{"lower-case symbol", withStrategies(ok + `, {"name": "x", "symbol": "btc-usd"}`), "strategies[1].symbol", "upper-case"},
		{"symbol trailing separator", withStrategies(`{"name": "x", "symbol": "BTC-"}`), "strategies[0].symbol", "upper-case"},
		{"symbol too long", withStrategies(`{"name": "x", "symbol": "` + strings.Repeat("A", 33) + `"}`), "strategies[0].symbol", "at most 32"},
		{"enabled as string", withStrategies(`{"name": "x", "symbol": "X", "enabled": "yes"}`), "strategies[0].enabled", "true or false"},
		{"bad parameter name", withStrategies(`{"name": "x", "symbol": "X", "parameters": {"1x": 1}}`), "strategies[0].parameters.1x", "parameter name"},
		{"parameter not a number", withStrategies(`{"name": "x", "symbol": "X", "parameters": {"k": "1"}}`), "strategies[0].parameters", "a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeJSON(strings.NewReader(tt.body))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error = %v (%T), want *ValidationError", err, err)
			}
			if !strings.HasPrefix(ve.Field, tt.field) || (tt.field == "" && ve.Field != "") {
				t.Errorf("field = %q, want %q", ve.Field, tt.field)
			}
			if !strings.Contains(ve.Message, tt.msg) {
				t.Errorf("message = %q, want it to mention %q", ve.Message, tt.msg)
			}
		})
	}
}

func TestParse(t *testing.T) {
	const limits = "[risk_limits]\nmax_position = 1\nmax_order_value = 2\nmax_daily_loss = 3\n"
	tests := []struct {
		name, toml, wantErr string
	}{
		{"valid with integers", limits + "[[strategies]]\nname = \"a\"\nsymbol = \"X\"\n[strategies.parameters]\nn = 3\n", ""},
		{"no strategies", limits, ""},
		{"empty strategies", "strategies = []\n" + limits, ""},
		{"empty file", "  \n", "empty"},
		{"missing limit", "[risk_limits]\nmax_position = 1\nmax_order_value = 2\n", "risk_limits.max_daily_loss"},
		{"unknown key", limits + "max_leverage = 2\n", "unknown keys: risk_limits.max_leverage"},
		{"infinite limit", "[risk_limits]\nmax_position = inf\nmax_order_value = 2\nmax_daily_loss = 3\n", "finite"},
		{"nan parameter", limits + "[[strategies]]\nname = \"a\"\nsymbol = \"X\"\n[strategies.parameters]\nn = nan\n", "finite"},
		{"torn file", limits[:20], "parse TOML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.toml))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.Strategies == nil {
					t.Error("Strategies is nil, want an empty slice so that JSON shows []")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestEncodeParseRoundTrip(t *testing.T) {
	for _, c := range []Config{Default(), {RiskLimits: RiskLimits{MaxPosition: 0.1}, Strategies: []Strategy{}}} {
		data, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(data)
		if err != nil {
			t.Fatalf("Parse(Encode(c)): %v\n%s", err, data)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip changed the configuration:\n got %+v\nwant %+v", got, c)
		}
	}
}

func TestDefaultIsValidAndDisabled(t *testing.T) {
	c := Default()
	if err := Validate(c); err != nil {
		t.Fatal(err)
	}
	if len(c.Strategies) < 2 {
		t.Fatalf("default has %d strategies, want a couple of examples", len(c.Strategies))
	}
	for _, s := range c.Strategies {
		if s.Enabled {
			t.Errorf("default strategy %q is enabled; a fresh install must not trade", s.Name)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	a := Default()
	b := a.Clone()
	b.Strategies[0].Parameters["lookback"] = 99
	b.Strategies[1].Name = "changed"
	if a.Strategies[0].Parameters["lookback"] == 99 || a.Strategies[1].Name == "changed" {
		t.Fatal("changing the clone changed the original")
	}
}

func TestDiff(t *testing.T) {
	base := Default()
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"no change", func(*Config) {}, nil},
		{"limit", func(c *Config) { c.RiskLimits.MaxDailyLoss = 100 }, []string{"risk_limits.max_daily_loss 2500 -> 100"}},
		{"enable", func(c *Config) { c.Strategies[1].Enabled = true }, []string{`strategy "eth-momentum" enabled false -> true`}},
		{"parameters", func(c *Config) {
			p := c.Strategies[0].Parameters
			p["lookback"] = 30
			delete(p, "exit_z")
			p["cooldown"] = 5
		}, []string{
			`strategy "btc-mean-reversion" removed parameter exit_z`,
			`strategy "btc-mean-reversion" parameter lookback 20 -> 30`,
			`strategy "btc-mean-reversion" added parameter cooldown = 5`,
		}},
		{"add and remove", func(c *Config) {
			c.Strategies[0] = Strategy{Name: "new", Symbol: "SOL-USD", Parameters: map[string]float64{}}
		}, []string{`removed strategy "btc-mean-reversion"`, `added strategy "new" (symbol SOL-USD, enabled false, 0 parameters)`}},
		{"symbol", func(c *Config) { c.Strategies[0].Symbol = "BTC-EUR" }, []string{`strategy "btc-mean-reversion" symbol BTC-USD -> BTC-EUR`}},
		{"reorder", func(c *Config) { c.Strategies[0], c.Strategies[1] = c.Strategies[1], c.Strategies[0] }, []string{"reordered strategies"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := base.Clone()
			tt.edit(&next)
			if got := Diff(base, next); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff = %q\n want %q", got, tt.want)
			}
		})
	}
}

func TestStrategyPatch(t *testing.T) {
	p, err := DecodeStrategyPatch(strings.NewReader(`{"enabled": true, "parameters": {"lookback": 30, "exit_z": null, "new": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := Default().Strategies[0]
	p.Apply(&s)
	want := map[string]float64{"lookback": 30, "entry_z": 2, "new": 1}
	if !s.Enabled || !reflect.DeepEqual(s.Parameters, want) {
		t.Fatalf("patched strategy = %+v, want enabled with parameters %v", s, want)
	}

	for body, field := range map[string]string{
		`{}`:                    "",
		`{"symbol": "X"}`:       "symbol",
		`{"enabled": 1}`:        "enabled",
		`{"parameters": [1]}`:   "parameters",
		`{"enabled": true} [] `: "",
	} {
		_, err := DecodeStrategyPatch(strings.NewReader(body))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("DecodeStrategyPatch(%s) = %v, want a validation error on %q", body, err, field)
		}
	}
}
