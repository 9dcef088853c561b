// Package heartbeat keeps the orchestrator's most recent heartbeat and judges its freshness.
package heartbeat

import (
	"fmt"
	"math"
	"sync"
	"time"

	"traderadmin/backend/internal/validate"
)

// FreshFor is how long a heartbeat counts as fresh.
const FreshFor = 30 * time.Second

// Heartbeat is what the orchestrator POSTs to /api/v1/heartbeat.
type Heartbeat struct {
	Instance   string           `json:"instance"`
	Strategies []StrategyStatus `json:"strategies"`
}

// StrategyStatus is one strategy's state as the orchestrator sees it.
type StrategyStatus struct {
	Name     string  `json:"name"`
	Status   string  `json:"status"`
	Position float64 `json:"position"`
	PnL      float64 `json:"pnl"`
	// LastTick is null when the strategy has not seen market data yet.
	LastTick *time.Time `json:"last_tick"`
}

// Statuses a strategy may report.
var Statuses = []string{"running", "idle", "error"}

// Validate checks a received heartbeat; problems are *validate.Error.
func (h Heartbeat) Validate() error {
	if h.Instance == "" {
		return validate.Errorf("instance", "must not be empty")
	}
	if len(h.Instance) > 253 {
		return validate.Errorf("instance", "must be at most 253 characters")
	}
	for i, s := range h.Strategies {
		field := fmt.Sprintf("strategies[%d]", i)
		if s.Name == "" {
			return validate.Errorf(field+".name", "must not be empty")
		}
		if !validStatus(s.Status) {
			return validate.Errorf(field+".status", "must be one of running, idle, error; got %q", s.Status)
		}
		for _, f := range []struct {
			name string
			v    float64
		}{{"position", s.Position}, {"pnl", s.PnL}} {
			if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
				return validate.Errorf(field+"."+f.name, "must be a finite number")
			}
		}
	}
	return nil
}

func validStatus(s string) bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Status is the JSON shape of GET /api/v1/status.
type Status struct {
	// Received is false until the first heartbeat arrives after the process started.
	Received           bool       `json:"received"`
	Fresh              bool       `json:"fresh"`
	ReceivedAt         *time.Time `json:"received_at"`
	AgeSeconds         *float64   `json:"age_seconds"`
	FreshWithinSeconds float64    `json:"fresh_within_seconds"`
	Heartbeat          *Heartbeat `json:"heartbeat"`
}

// Tracker holds the last heartbeat in memory; it is safe for concurrent use.
type Tracker struct {
	now func() time.Time

	mu         sync.Mutex
	last       *Heartbeat
	receivedAt time.Time
}

// NewTracker returns a tracker reading time from now (time.Now when nil).
func NewTracker(now func() time.Time) *Tracker {
	if now == nil {
		now = time.Now
	}
	return &Tracker{now: now}
}

// Record stores h as the latest heartbeat and returns its receive time.
func (t *Tracker) Record(h Heartbeat) time.Time {
	if h.Strategies == nil {
		h.Strategies = []StrategyStatus{}
	}
	now := t.now().UTC()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last, t.receivedAt = &h, now
	return now
}

// Status reports the latest heartbeat and whether it is younger than FreshFor.
func (t *Tracker) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := Status{FreshWithinSeconds: FreshFor.Seconds()}
	if t.last == nil {
		return st
	}
	age := t.now().Sub(t.receivedAt)
	ageSeconds := math.Round(age.Seconds()*1000) / 1000
	receivedAt := t.receivedAt
	hb := *t.last
	st.Received = true
	st.Fresh = age < FreshFor
	st.ReceivedAt = &receivedAt
	st.AgeSeconds = &ageSeconds
	st.Heartbeat = &hb
	return st
}
