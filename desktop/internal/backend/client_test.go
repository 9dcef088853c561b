package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const testToken = "s3cret"

// fakeBackend implements the config contract: ETag on GET, and PUT guarded
// by bearer token (401), If-Match presence (428) and freshness (412).
type fakeBackend struct {
	mu      sync.Mutex
	cfg     TradingConfig
	rev     int
	lastPut http.Header
}

func (f *fakeBackend) etag() string { return fmt.Sprintf("\"rev-%d\"", f.rev) }

func (f *fakeBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	writeJSON := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.URL.Path == "/healthz":
		_, _ = w.Write([]byte("ok\n"))
	case r.URL.Path == "/readyz":
		writeJSON(503, map[string]string{"status": "unavailable", "reason": "data directory not writable"})
	case r.URL.Path == "/version":
		writeJSON(200, VersionInfo{Version: "1.2.3", Commit: "abc"})
	case r.URL.Path == "/api/v1/config" && r.Method == http.MethodGet:
		w.Header().Set("ETag", f.etag())
		writeJSON(200, f.cfg)
	case r.URL.Path == "/api/v1/config" && r.Method == http.MethodPut:
		f.lastPut = r.Header.Clone()
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			writeJSON(401, map[string]string{"error": "missing or invalid bearer token"})
			return
		}
		match := r.Header.Get("If-Match")
		if match == "" {
			writeJSON(428, map[string]string{"error": "If-Match required"})
			return
		}
		if match != f.etag() {
			writeJSON(412, map[string]string{"error": "config changed"})
			return
		}
		var next TradingConfig
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&next); err != nil {
			writeJSON(400, map[string]string{"error": err.Error()})
			return
		}
		if next.RiskLimits.MaxPosition < 0 {
			writeJSON(400, map[string]string{"error": "must be >= 0", "field": "risk_limits.max_position"})
			return
		}
		f.cfg, f.rev = next, f.rev+1
		w.Header().Set("ETag", f.etag())
		writeJSON(200, f.cfg)
	case r.URL.Path == "/api/v1/status":
		_, _ = w.Write([]byte(`{"received":true,"fresh":true,"received_at":"2024-01-02T03:04:05Z","age_seconds":2.5,
			"fresh_within_seconds":30,"heartbeat":{"instance":"orch-1",
			"strategies":[{"name":"mm","status":"running","position":3,"pnl":-1.5,"last_tick":null}]}}`))
	case r.URL.Path == "/api/v1/audit":
		if r.URL.Query().Get("limit") != "5" {
			http.Error(w, "bad limit", 400)
			return
		}
		_, _ = w.Write([]byte(`{"entries":[{"time":"2024-01-02T03:04:05Z","actor":"admin","action":"config.put","summary":"x"}]}`))
	default:
		http.NotFound(w, r)
	}
}

func newFake(t *testing.T) (*fakeBackend, *httptest.Server) {
	t.Helper()
	f := &fakeBackend{rev: 1, cfg: TradingConfig{
		Strategies: []Strategy{{Name: "mm", Symbol: "BTC-USD", Enabled: true, Parameters: map[string]float64{"spread": 0.5}}},
		RiskLimits: RiskLimits{MaxPosition: 10, MaxOrderValue: 1000, MaxDailyLoss: 500},
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func TestConfigRoundTrip(t *testing.T) {
	_, srv := newFake(t)
	c := New(srv.URL+"/", testToken, "test", time.Second)
	ctx := context.Background()

	cfg, etag, err := c.Config(ctx)
	if err != nil {
		t.Fatalf("Config() error: %v", err)
	}
	if etag != `"rev-1"` {
		t.Fatalf("Config() etag = %q", etag)
	}
	cfg.Strategies[0].Enabled = false
	cfg.RiskLimits.MaxDailyLoss = 250
	saved, newTag, err := c.PutConfig(ctx, cfg, etag)
	if err != nil {
		t.Fatalf("PutConfig() error: %v", err)
	}
	if newTag != `"rev-2"` || !reflect.DeepEqual(saved, cfg) {
		t.Fatalf("PutConfig() = %+v, %q", saved, newTag)
	}
}

func TestPutConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		etag     string
		mutate   func(*TradingConfig)
		sentinel error
		status   int
		kind     string
		field    string
		message  string // the Problem message must contain this
	}{
		{name: "no token", token: "", etag: `"rev-1"`, sentinel: ErrUnauthorized, status: 401, kind: "unauthorized", message: "none is configured"},
		{name: "wrong token", token: "nope", etag: `"rev-1"`, sentinel: ErrUnauthorized, status: 401, kind: "unauthorized", message: "rejected the token"},
		{name: "stale etag", token: testToken, etag: `"rev-0"`, sentinel: ErrConflict, status: 412, kind: "conflict", message: "changed by someone else"},
		{name: "missing etag", token: testToken, etag: "", sentinel: ErrPreconditionRequired, status: 428, kind: "precondition-required", message: "reload"},
		{
			name: "validation error names the field", token: testToken, etag: `"rev-1"`,
			mutate:   func(c *TradingConfig) { c.RiskLimits.MaxPosition = -1 },
			sentinel: ErrInvalid, status: 400, kind: "invalid", field: "risk_limits.max_position", message: "risk_limits.max_position",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t)
			c := New(srv.URL, tt.token, "test", time.Second)
			cfg := f.cfg
			if tt.mutate != nil {
				tt.mutate(&cfg)
			}
			_, _, err := c.PutConfig(context.Background(), cfg, tt.etag)
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("PutConfig() error = %v, want %v", err, tt.sentinel)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status {
				t.Fatalf("PutConfig() error = %#v, want status %d", err, tt.status)
			}
			p := Describe(err, tt.token != "", "/home/u/.config/TraderAdmin/config.toml")
			if p.Kind != tt.kind || p.Field != tt.field || p.Status != tt.status {
				t.Errorf("Describe() = %+v, want kind %q field %q", p, tt.kind, tt.field)
			}
			if !strings.Contains(p.Message, tt.message) {
				t.Errorf("Describe().Message = %q, want it to contain %q", p.Message, tt.message)
			}
			if f.rev != 1 {
				t.Errorf("config changed despite the error (rev %d)", f.rev)
			}
		})
	}
}

func TestPutConfigHeaders(t *testing.T) {
	f, srv := newFake(t)
	c := New(srv.URL, "", "test", time.Second)
	_, _, _ = c.PutConfig(context.Background(), f.cfg, "")
	if got := f.lastPut.Get("Authorization"); got != "" {
		t.Errorf("Authorization sent without a token: %q", got)
	}
	if got := f.lastPut.Get("If-Match"); got != "" {
		t.Errorf("If-Match sent without an etag: %q", got)
	}
}

func TestProbeAndVersion(t *testing.T) {
	_, srv := newFake(t)
	c := New(srv.URL, "", "test", time.Second)
	ctx := context.Background()
	tests := []struct {
		path string
		want ProbeResult
	}{
		{"/healthz", ProbeResult{StatusCode: 200, OK: true, Body: "ok"}},
		{"/readyz", ProbeResult{StatusCode: 503, OK: false, Body: "unavailable: data directory not writable"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := c.Probe(ctx, tt.path)
			if err != nil {
				t.Fatalf("Probe() error: %v", err)
			}
			if got != tt.want {
				t.Errorf("Probe() = %+v, want %+v", got, tt.want)
			}
		})
	}
	v, err := c.Version(ctx)
	if err != nil || v != (VersionInfo{Version: "1.2.3", Commit: "abc"}) {
		t.Errorf("Version() = %+v, %v", v, err)
	}
}

func TestStatusAndAudit(t *testing.T) {
	_, srv := newFake(t)
	c := New(srv.URL, "", "test", time.Second)
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("Status() error: %v", err)
	}
	want := []StrategyStatus{{Name: "mm", Status: "running", Position: 3, PnL: -1.5}}
	if !st.Received || !st.Fresh || st.ReceivedAt != "2024-01-02T03:04:05Z" || st.AgeSeconds == nil || *st.AgeSeconds != 2.5 ||
		st.Heartbeat == nil || st.Heartbeat.Instance != "orch-1" || !reflect.DeepEqual(st.Heartbeat.Strategies, want) {
		t.Errorf("Status() = %+v", st)
	}
	entries, err := c.Audit(ctx, 5)
	if err != nil || len(entries) != 1 || entries[0].Actor != "admin" {
		t.Errorf("Audit() = %+v, %v", entries, err)
	}
}

func TestStatusBeforeFirstHeartbeat(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"received":false,"fresh":false,"received_at":null,"age_seconds":null,"fresh_within_seconds":30,"heartbeat":null}`))
	}))
	defer srv.Close()
	st, err := New(srv.URL, "", "test", time.Second).Status(context.Background())
	if err != nil || st.Received || st.Heartbeat != nil || st.ReceivedAt != "" || st.AgeSeconds != nil {
		t.Errorf("Status() = %+v, %v", st, err)
	}
}

func TestAuditShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"object with entries", `{"entries":[{"actor":"a"},{"actor":"b"}]}`, 2},
		{"bare list", `[{"actor":"a"}]`, 1},
		{"empty", `{"entries":[]}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeAudit([]byte(tt.body))
			if err != nil || len(got) != tt.want {
				t.Errorf("decodeAudit() = %+v, %v; want %d entries", got, err, tt.want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	// A listener that is closed at once gives a port nobody answers on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	c := New("http://"+addr, "", "test", time.Second)
	_, _, err = c.Config(context.Background())
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("Config() error = %v, want *TransportError", err)
	}
	if p := Describe(err, false, ""); p.Kind != "unreachable" || !strings.Contains(p.Message, addr) {
		t.Errorf("Describe() = %+v", p)
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); srv.Close() })

	c := New(srv.URL, "", "test", 50*time.Millisecond)
	start := time.Now()
	_, err := c.Probe(context.Background(), "/healthz")
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Probe() = %v after %v, want a timeout error", err, time.Since(start))
	}
}
