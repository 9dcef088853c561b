package heartbeat

import (
	"math"
	"testing"
	"time"

	"traderadmin/backend/internal/validate"
)

func TestValidate(t *testing.T) {
	tick := time.Now()
	ok := StrategyStatus{Name: "a", Status: "running", LastTick: &tick}
	tests := []struct {
		name  string
		hb    Heartbeat
		field string
	}{
		{"valid", Heartbeat{Instance: "orch-1", Strategies: []StrategyStatus{ok, {Name: "b", Status: "idle"}}}, ""},
		{"no strategies", Heartbeat{Instance: "orch-1"}, ""},
		{"missing instance", Heartbeat{}, "instance"},
		{"missing name", Heartbeat{Instance: "i", Strategies: []StrategyStatus{ok, {Status: "idle"}}}, "strategies[1].name"},
		{"bad status", Heartbeat{Instance: "i", Strategies: []StrategyStatus{{Name: "a", Status: "paused"}}}, "strategies[0].status"},
		{"infinite pnl", Heartbeat{Instance: "i", Strategies: []StrategyStatus{{Name: "a", Status: "error", PnL: math.Inf(-1)}}}, "strategies[0].pnl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.hb.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe, isField := err.(*validate.Error)
			if !isField || fe.Field != tt.field {
				t.Fatalf("Validate = %v, want a validation error on %q", err, tt.field)
			}
		})
	}
}

func TestTrackerFreshness(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tr := NewTracker(func() time.Time { return now })

	st := tr.Status()
	if st.Received || st.Fresh || st.Heartbeat != nil || st.ReceivedAt != nil {
		t.Fatalf("status before any heartbeat = %+v", st)
	}

	tr.Record(Heartbeat{Instance: "orch-1"})
	tests := []struct {
		after time.Duration
		fresh bool
	}{
		{0, true},
		{29 * time.Second, true},
		{30 * time.Second, false},
		{5 * time.Minute, false},
	}
	start := now
	for _, tt := range tests {
		now = start.Add(tt.after)
		st := tr.Status()
		if !st.Received || st.Fresh != tt.fresh || *st.AgeSeconds != tt.after.Seconds() || !st.ReceivedAt.Equal(start) {
			t.Errorf("after %v: status = %+v (age %v), want fresh=%v", tt.after, st, *st.AgeSeconds, tt.fresh)
		}
		if st.Heartbeat.Instance != "orch-1" || st.Heartbeat.Strategies == nil {
			t.Errorf("heartbeat = %+v", st.Heartbeat)
		}
	}

	tr.Record(Heartbeat{Instance: "orch-2"})
	if st := tr.Status(); !st.Fresh || st.Heartbeat.Instance != "orch-2" {
		t.Errorf("a new heartbeat did not replace the old one: %+v", st)
	}
}
