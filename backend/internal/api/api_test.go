package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/auth"
	"traderadmin/backend/internal/config"
	"traderadmin/backend/internal/heartbeat"
)

const (
	token     = "s3cret-token-for-tests"
	orchToken = "orchestrator-token-for-tests"
	adminRole = auth.RoleAdmin
	orchRole  = auth.RoleOrchestrator
)

func testKeyring(t *testing.T) *auth.Keyring {
	t.Helper()
	k, err := auth.NewKeyring(map[auth.Role]auth.Source{
		adminRole: {Tokens: []string{token}, Describe: "test"},
		orchRole:  {Tokens: []string{orchToken}, Describe: "test"},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type testServer struct {
	*Server
	handler http.Handler
	dir     string
	logs    *syncBuffer
	now     time.Time
}

// syncBuffer is a bytes.Buffer safe for the logger and the test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestServer(t *testing.T, edit func(*Options)) *testServer {
	t.Helper()
	ts := &testServer{dir: t.TempDir(), logs: &syncBuffer{}, now: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)}
	o := Options{
		Store:      config.NewStore(ts.dir),
		Audit:      audit.New(ts.dir),
		Heartbeats: heartbeat.NewTracker(func() time.Time { return ts.now }),
		Logger:     slog.New(slog.NewJSONHandler(ts.logs, nil)),
		Keyring:    testKeyring(t),
	}
	if edit != nil {
		edit(&o)
	}
	t.Cleanup(func() { o.Audit.Close() })
	ts.Server = New(o)
	ts.handler = ts.Handler()
	ts.CheckReadiness()
	return ts
}

type req struct {
	method, path, body string
	headers            map[string]string
}

func (ts *testServer) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader = http.NoBody
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr := httptest.NewRequest(r.method, r.path, body)
	if r.headers == nil && strings.HasPrefix(r.path, "/api/") {
		// API calls go as the admin unless a test sets headers (an empty map: anonymous).
		r.headers = authed()
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, hr)
	return rec
}

// authed returns headers with the token, plus any pairs given (key, value, key, value...).
func authed(kv ...string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + token}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

// orch returns headers with the orchestrator's token, plus any pairs given.
func orch(kv ...string) map[string]string {
	h := authed(kv...)
	h["Authorization"] = "Bearer " + orchToken
	return h
}

func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d is not JSON: %v\n%s", rec.Code, err, rec.Body)
	}
	return v
}

func expectStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d; body: %s", rec.Code, want, rec.Body)
	}
}

func (ts *testServer) etag(t *testing.T) string {
	t.Helper()
	rec := ts.do(t, req{method: "GET", path: "/api/v1/config"})
	expectStatus(t, rec, http.StatusOK)
	return rec.Header().Get("ETag")
}

func configJSON(t *testing.T, edit func(*config.Config)) string {
	t.Helper()
	c := config.Default()
	if edit != nil {
		edit(&c)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHealthzAndVersion(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do(t, req{method: "GET", path: "/healthz"})
	expectStatus(t, rec, http.StatusOK)
	if got := decode[map[string]string](t, rec); got["status"] != "ok" {
		t.Errorf("healthz body = %v", got)
	}
	rec = ts.do(t, req{method: "GET", path: "/version"})
	expectStatus(t, rec, http.StatusOK)
	if got := decode[map[string]string](t, rec); got["version"] != "dev" || got["commit"] != "unknown" {
		t.Errorf("version body = %v, want the unstamped defaults", got)
	}
}

func TestHealthzStaysUpWhenNotReady(t *testing.T) {
	ts := newTestServer(t, func(o *Options) {
		o.ProbeWritable = func(string) error { return errors.New("disk on fire") }
	})
	expectStatus(t, ts.do(t, req{method: "GET", path: "/healthz"}), http.StatusOK)
	expectStatus(t, ts.do(t, req{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable)
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, ts *testServer)
		probe  func(string) error
		status int
		reason string
	}{
		{name: "ready", status: http.StatusOK},
		{
			name:   "probe fails",
			probe:  func(string) error { return errors.New("read-only file system") },
			status: http.StatusServiceUnavailable,
			reason: "data directory not writable",
		},
		{
			// Root ignores permission bits, so break the directory for real: replace it by a file.
			name: "data directory gone",
			setup: func(t *testing.T, ts *testServer) {
				if err := os.RemoveAll(ts.dir); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(ts.dir, []byte("not a directory"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			status: http.StatusServiceUnavailable,
			reason: "data directory not writable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(o *Options) { o.ProbeWritable = tt.probe })
			if tt.setup != nil {
				tt.setup(t, ts)
				ts.CheckReadiness()
			}
			rec := ts.do(t, req{method: "GET", path: "/readyz"})
			expectStatus(t, rec, tt.status)
			body := decode[map[string]string](t, rec)
			if tt.status == http.StatusOK {
				if body["status"] != "ready" {
					t.Errorf("body = %v", body)
				}
				return
			}
			if body["status"] != "unavailable" || !strings.Contains(body["reason"], tt.reason) {
				t.Errorf("body = %v, want status unavailable and a reason mentioning %q", body, tt.reason)
			}
		})
	}
}

func TestReadyzDoesNoWorkAndTellsNoInternals(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte("[risk_limits]\nmax_position = "), 0o640); err != nil {
		t.Fatal(err)
	}
	probes := 0
	ts := newTestServer(t, func(o *Options) {
		o.Store = config.NewStore(dir)
		o.Audit = audit.New(dir)
		o.ProbeWritable = func(string) error { probes++; return nil }
	})
	before, _ := os.ReadDir(dir)
	for range 20 {
		rec := ts.do(t, req{method: "GET", path: "/readyz"})
		expectStatus(t, rec, http.StatusServiceUnavailable)
		body := decode[map[string]string](t, rec)
		if body["reason"] != "configuration not loaded" {
			t.Fatalf("reason = %q; want the bare reason, no path or parser text", body["reason"])
		}
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) || probes != 0 {
		t.Fatalf("20 requests changed the data directory (%d -> %d entries) or probed it %d times", len(before), len(after), probes)
	}
	if !strings.Contains(ts.logs.String(), "unexpected EOF") {
		t.Error("the parse error should be in the log")
	}
}

func TestReadyzWhileConfigNotLoadedThenRepaired(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, config.FileName)
	if err := os.WriteFile(path, []byte("[risk_limits]\nmax_position = "), 0o640); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(o *Options) {
		o.Store = config.NewStore(dir)
		o.Audit = audit.New(dir)
	})
	rec := ts.do(t, req{method: "GET", path: "/readyz"})
	expectStatus(t, rec, http.StatusServiceUnavailable)
	if body := decode[map[string]string](t, rec); !strings.Contains(body["reason"], "configuration not loaded") {
		t.Errorf("reason = %q", body["reason"])
	}
	expectStatus(t, ts.do(t, req{method: "GET", path: "/api/v1/config"}), http.StatusServiceUnavailable)
	expectStatus(t, ts.do(t, req{method: "PUT", path: "/api/v1/config", body: configJSON(t, nil), headers: authed("If-Match", "*")}), http.StatusServiceUnavailable)

	data, _ := config.Encode(config.Default())
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	// Requests do not load it: the server's own check does.
	expectStatus(t, ts.do(t, req{method: "GET", path: "/readyz"}), http.StatusServiceUnavailable)
	ts.CheckReadiness()
	expectStatus(t, ts.do(t, req{method: "GET", path: "/readyz"}), http.StatusOK)
	expectStatus(t, ts.do(t, req{method: "GET", path: "/api/v1/config"}), http.StatusOK)
}

func TestGetConfig(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do(t, req{method: "GET", path: "/api/v1/config"})
	expectStatus(t, rec, http.StatusOK)
	snap, _ := ts.store.Current()
	if got := rec.Header().Get("ETag"); got != snap.ETag || !strings.HasPrefix(got, `"`) {
		t.Errorf("ETag = %s, want the store's quoted %s", got, snap.ETag)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if got := decode[config.Config](t, rec); len(got.Strategies) != len(config.Default().Strategies) {
		t.Errorf("body = %+v, want the default configuration", got)
	}
	rec = ts.do(t, req{method: "GET", path: "/api/v1/config", headers: orch("If-None-Match", snap.ETag)})
	expectStatus(t, rec, http.StatusNotModified)
}

func TestMutatingEndpointsRequireToken(t *testing.T) {
	endpoints := []req{
		{method: "GET", path: "/api/v1/config"},
		{method: "GET", path: "/api/v1/audit"},
		{method: "GET", path: "/api/v1/status"},
		{method: "PUT", path: "/api/v1/config", body: `{}`},
		{method: "PATCH", path: "/api/v1/strategies/eth-momentum", body: `{"enabled": true}`},
		{method: "POST", path: "/api/v1/heartbeat", body: `{"instance": "x"}`},
	}
	auths := []struct {
		name   string
		header string
	}{
		{"missing", ""},
		{"wrong scheme", "Basic " + token},
		{"wrong token", "Bearer nope"},
		{"token prefix", "Bearer " + token[:len(token)-1]},
		{"token with suffix", "Bearer " + token + "x"},
		{"scheme only", "Bearer"},
	}
	ts := newTestServer(t, nil)
	for _, ep := range endpoints {
		for _, a := range auths {
			t.Run(ep.method+" "+a.name, func(t *testing.T) {
				r := ep
				r.headers = map[string]string{"If-Match": "*"}
				if a.header != "" {
					r.headers["Authorization"] = a.header
				}
				rec := ts.do(t, r)
				expectStatus(t, rec, http.StatusUnauthorized)
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if body := decode[map[string]string](t, rec); body["error"] == "" {
					t.Error("401 without a JSON error")
				}
			})
		}
	}
	// Scheme names are case-insensitive (RFC 9110).
	rec := ts.do(t, req{method: "POST", path: "/api/v1/heartbeat", body: `{"instance": "x"}`, headers: map[string]string{"Authorization": "bearer " + orchToken}})
	expectStatus(t, rec, http.StatusOK)
}

func TestNoTokenConfiguredClosesTheAPI(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.Keyring = nil })
	for _, header := range []string{"", "Bearer ", "Bearer anything", "Bearer " + token} {
		for _, r := range []req{
			{method: "PUT", path: "/api/v1/config", body: configJSON(t, nil)},
			{method: "GET", path: "/api/v1/config"},
		} {
			r.headers = map[string]string{"Authorization": header, "If-Match": "*"}
			rec := ts.do(t, r)
			expectStatus(t, rec, http.StatusUnauthorized)
			if body := decode[map[string]string](t, rec); !strings.Contains(body["error"], "no API tokens are configured") {
				t.Errorf("error = %q", body["error"])
			}
		}
	}
	expectStatus(t, ts.do(t, req{method: "GET", path: "/readyz"}), http.StatusOK)
}

func TestPutConfigPreconditions(t *testing.T) {
	ts := newTestServer(t, nil)
	original := ts.etag(t)
	body := configJSON(t, func(c *config.Config) { c.RiskLimits.MaxPosition = 42 })

	rec := ts.do(t, req{method: "PUT", path: "/api/v1/config", body: body, headers: authed()})
	expectStatus(t, rec, http.StatusPreconditionRequired)
	if e := decode[map[string]string](t, rec); !strings.Contains(e["error"], "If-Match") {
		t.Errorf("428 error = %q", e["error"])
	}

	rec = ts.do(t, req{method: "PUT", path: "/api/v1/config", body: body, headers: authed("If-Match", `"0000"`)})
	expectStatus(t, rec, http.StatusPreconditionFailed)
	if e := decode[map[string]string](t, rec); e["error"] == "" {
		t.Error("412 without a JSON error")
	}

	rec = ts.do(t, req{method: "PUT", path: "/api/v1/config", body: body, headers: authed("If-Match", original, "X-Actor", "alice")})
	expectStatus(t, rec, http.StatusOK)
	updated := rec.Header().Get("ETag")
	if updated == "" || updated == original {
		t.Fatalf("ETag after PUT = %q (before %q), want a new one", updated, original)
	}
	if got := decode[config.Config](t, rec); got.RiskLimits.MaxPosition != 42 {
		t.Errorf("PUT response = %+v, want the new configuration", got)
	}
	if ts.etag(t) != updated {
		t.Error("GET does not return the ETag the PUT returned")
	}

	// The second writer with the now-stale ETag loses.
	rec = ts.do(t, req{method: "PUT", path: "/api/v1/config", body: configJSON(t, nil), headers: authed("If-Match", original)})
	expectStatus(t, rec, http.StatusPreconditionFailed)

	for _, tt := range []struct {
		name    string
		ifMatch func(current string) string
		status  int
	}{
		{"weak tag never matches", func(cur string) string { return "W/" + cur }, http.StatusPreconditionFailed},
		{"list containing the tag", func(cur string) string { return `"nope", ` + cur }, http.StatusOK},
		{"unquoted tag", func(cur string) string { return strings.Trim(cur, `"`) }, http.StatusOK},
		{"wildcard", func(string) string { return "*" }, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.do(t, req{method: "PUT", path: "/api/v1/config", body: body, headers: authed("If-Match", tt.ifMatch(ts.etag(t)))})
			expectStatus(t, rec, tt.status)
		})
	}
}

func TestPutConfigValidation(t *testing.T) {
	ts := newTestServer(t, nil)
	before := ts.etag(t)
	tests := []struct {
		name, body, field string
	}{
		{"bad symbol", configJSON(t, func(c *config.Config) { c.Strategies[1].Symbol = "eth usd" }), "strategies[1].symbol"},
		{"duplicate name", configJSON(t, func(c *config.Config) { c.Strategies[1].Name = c.Strategies[0].Name }), "strategies[1].name"},
		{"empty name", configJSON(t, func(c *config.Config) { c.Strategies[0].Name = "" }), "strategies[0].name"},
		{"negative limit", configJSON(t, func(c *config.Config) { c.RiskLimits.MaxDailyLoss = -1 }), "risk_limits.max_daily_loss"},
		{"unknown field", strings.Replace(configJSON(t, nil), `"risk_limits"`, `"leverage": 3, "risk_limits"`, 1), "leverage"},
		{"missing limits", `{"strategies": []}`, "risk_limits"},
		{"not JSON", `risk_limits = 1`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.do(t, req{method: "PUT", path: "/api/v1/config", body: tt.body, headers: authed("If-Match", before)})
			expectStatus(t, rec, http.StatusBadRequest)
			e := decode[map[string]string](t, rec)
			if e["field"] != tt.field || e["error"] == "" {
				t.Errorf("400 body = %v, want field %q", e, tt.field)
			}
		})
	}
	if ts.etag(t) != before {
		t.Error("a rejected PUT changed the configuration")
	}
}

func TestPutConfigBodyTooLarge(t *testing.T) {
	ts := newTestServer(t, func(o *Options) { o.MaxBodyBytes = 64 })
	rec := ts.do(t, req{method: "PUT", path: "/api/v1/config", body: configJSON(t, nil), headers: authed("If-Match", "*")})
	expectStatus(t, rec, http.StatusRequestEntityTooLarge)
}

func TestPutConfigWriteFailure(t *testing.T) {
	ts := newTestServer(t, nil)
	before := ts.etag(t)
	if err := os.RemoveAll(ts.dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ts.dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rec := ts.do(t, req{method: "PUT", path: "/api/v1/config", body: configJSON(t, func(c *config.Config) { c.RiskLimits.MaxPosition = 1 }), headers: authed("If-Match", before)})
	expectStatus(t, rec, http.StatusInternalServerError)
	if ts.etag(t) != before {
		t.Error("a failed save changed the served configuration")
	}
}

func TestPatchStrategy(t *testing.T) {
	ts := newTestServer(t, nil)
	etag := ts.etag(t)
	path := "/api/v1/strategies/btc-mean-reversion"

	expectStatus(t, ts.do(t, req{method: "PATCH", path: path, body: `{"enabled": true}`, headers: authed()}), http.StatusPreconditionRequired)
	expectStatus(t, ts.do(t, req{method: "PATCH", path: path, body: `{"enabled": true}`, headers: authed("If-Match", `"stale"`)}), http.StatusPreconditionFailed)
	expectStatus(t, ts.do(t, req{method: "PATCH", path: "/api/v1/strategies/nope", body: `{"enabled": true}`, headers: authed("If-Match", etag)}), http.StatusNotFound)

	for _, tt := range []struct{ body, field string }{
		{`{"symbol": "X"}`, "symbol"},
		{`{"parameters": {"1bad": 1}}`, "parameters.1bad"},
		{`{}`, ""},
	} {
		rec := ts.do(t, req{method: "PATCH", path: path, body: tt.body, headers: authed("If-Match", etag)})
		expectStatus(t, rec, http.StatusBadRequest)
		if e := decode[map[string]string](t, rec); e["field"] != tt.field {
			t.Errorf("PATCH %s: field = %q, want %q", tt.body, e["field"], tt.field)
		}
	}

	rec := ts.do(t, req{method: "PATCH", path: path, body: `{"enabled": true, "parameters": {"lookback": 50, "exit_z": null}}`, headers: authed("If-Match", etag)})
	expectStatus(t, rec, http.StatusOK)
	if rec.Header().Get("ETag") == etag {
		t.Error("ETag unchanged after PATCH")
	}
	got := decode[config.Config](t, rec)
	s := got.Strategies[got.Strategy("btc-mean-reversion")]
	if !s.Enabled || s.Parameters["lookback"] != 50 || s.Parameters["entry_z"] != 2 {
		t.Errorf("patched strategy = %+v", s)
	}
	if _, ok := s.Parameters["exit_z"]; ok {
		t.Error("null did not remove the parameter")
	}
}

func TestAuditLog(t *testing.T) {
	ts := newTestServer(t, nil)
	etag := ts.etag(t)
	rec := ts.do(t, req{method: "PUT", path: "/api/v1/config", headers: authed("If-Match", etag, "X-Actor", "alice\x07"),
		body: configJSON(t, func(c *config.Config) { c.RiskLimits.MaxDailyLoss = 100 })})
	expectStatus(t, rec, http.StatusOK)
	rec = ts.do(t, req{method: "PATCH", path: "/api/v1/strategies/eth-momentum", body: `{"enabled": true}`, headers: authed("If-Match", rec.Header().Get("ETag"))})
	expectStatus(t, rec, http.StatusOK)

	rec = ts.do(t, req{method: "GET", path: "/api/v1/audit?limit=2"})
	expectStatus(t, rec, http.StatusOK)
	entries := decode[struct{ Entries []audit.Entry }](t, rec).Entries
	if len(entries) != 2 {
		t.Fatalf("got %d entries, want 2", len(entries))
	}
	want := []struct{ note, action, summary string }{
		{"", "strategy.update", `strategy "eth-momentum" enabled false -> true`},
		{"alice", "config.replace", "risk_limits.max_daily_loss 2500 -> 100"},
	}
	for i, w := range want {
		e := entries[i]
		if e.Actor != "admin" || e.Note != w.note || e.Credential != auth.Fingerprint(token) || e.Action != w.action ||
			e.Summary != w.summary || e.Time.IsZero() || e.ETag == "" || e.Status != audit.StatusCommitted {
			t.Errorf("entry %d = %+v, want actor admin and %+v", i, e, w)
		}
	}

	rec = ts.do(t, req{method: "GET", path: "/api/v1/audit"})
	all := decode[struct{ Entries []audit.Entry }](t, rec).Entries
	if len(all) != 3 || all[2].Action != "config.init" || all[2].Actor != "system" {
		t.Errorf("full audit log = %+v, want the two changes and the initial default", all)
	}
	if !strings.Contains(rec.Body.String(), `"time":"20`) {
		t.Errorf("times are not RFC 3339: %s", rec.Body)
	}

	for _, bad := range []string{"0", "-1", "x", "1001"} {
		rec := ts.do(t, req{method: "GET", path: "/api/v1/audit?limit=" + bad})
		expectStatus(t, rec, http.StatusBadRequest)
		if e := decode[map[string]string](t, rec); e["field"] != "limit" {
			t.Errorf("limit=%s: body %v", bad, e)
		}
	}
}

func TestHeartbeatAndStatus(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := ts.do(t, req{method: "GET", path: "/api/v1/status"})
	expectStatus(t, rec, http.StatusOK)
	if st := decode[heartbeat.Status](t, rec); st.Received || st.Fresh || st.Heartbeat != nil {
		t.Errorf("status before any heartbeat = %+v", st)
	}

	for _, tt := range []struct{ body, field string }{
		{`{"strategies": []}`, "instance"},
		{`{"instance": "o", "strategies": [{"name": "a", "status": "sleeping"}]}`, "strategies[0].status"},
		{`{"instance": "o", "strategies": [{"name": "a", "status": "idle", "position": "1"}]}`, "strategies.position"},
	} {
		rec := ts.do(t, req{method: "POST", path: "/api/v1/heartbeat", body: tt.body, headers: orch()})
		expectStatus(t, rec, http.StatusBadRequest)
		if e := decode[map[string]string](t, rec); e["field"] != tt.field {
			t.Errorf("heartbeat %s: field = %q, want %q", tt.body, e["field"], tt.field)
		}
	}
	rec = ts.do(t, req{method: "POST", path: "/api/v1/heartbeat", headers: orch(),
		body: `{"instance": "o", "strategies": [{"name": "a", "status": "running", "last_tick": "not a time"}]}`})
	expectStatus(t, rec, http.StatusBadRequest)

	hb := `{"instance": "orchestrator-0", "version": "from the future", "strategies": [
		{"name": "btc-mean-reversion", "status": "running", "position": 0.5, "pnl": -12.25, "last_tick": "2026-05-01T08:59:58Z"},
		{"name": "eth-momentum", "status": "idle", "position": 0, "pnl": 0, "last_tick": null}]}`
	rec = ts.do(t, req{method: "POST", path: "/api/v1/heartbeat", body: hb, headers: orch()})
	expectStatus(t, rec, http.StatusOK)

	received := ts.now
	ts.now = received.Add(10 * time.Second)
	st := decode[heartbeat.Status](t, ts.do(t, req{method: "GET", path: "/api/v1/status"}))
	if !st.Received || !st.Fresh || !st.ReceivedAt.Equal(received) || *st.AgeSeconds != 10 {
		t.Fatalf("status = %+v", st)
	}
	if h := st.Heartbeat; h.Instance != "orchestrator-0" || len(h.Strategies) != 2 || h.Strategies[0].PnL != -12.25 ||
		!h.Strategies[0].LastTick.Equal(time.Date(2026, 5, 1, 8, 59, 58, 0, time.UTC)) || h.Strategies[1].LastTick != nil {
		t.Fatalf("heartbeat = %+v", h)
	}

	ts.now = received.Add(31 * time.Second)
	if st := decode[heartbeat.Status](t, ts.do(t, req{method: "GET", path: "/api/v1/status"})); st.Fresh || !st.Received {
		t.Fatalf("status 31 s later = %+v, want received but not fresh", st)
	}
}

func TestRequestLogLine(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do(t, req{method: "GET", path: "/healthz?probe=1"})
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(ts.logs.String()), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if line == nil {
		t.Fatalf("no request log line in:\n%s", ts.logs)
	}
	if line["method"] != "GET" || line["path"] != "/healthz" || line["status"] != float64(200) || line["level"] != "INFO" {
		t.Errorf("request log line = %v", line)
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Errorf("request log line lacks duration_ms: %v", line)
	}
}

func TestRoutingErrors(t *testing.T) {
	ts := newTestServer(t, nil)
	expectStatus(t, ts.do(t, req{method: "GET", path: "/nope"}), http.StatusNotFound)
	rec := ts.do(t, req{method: "DELETE", path: "/api/v1/config"})
	expectStatus(t, rec, http.StatusMethodNotAllowed)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, "PUT") {
		t.Errorf("Allow = %q", allow)
	}
}

func TestPanicBecomes500(t *testing.T) {
	ts := newTestServer(t, nil)
	h := ts.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("bug") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	expectStatus(t, rec, http.StatusInternalServerError)
	if !strings.Contains(ts.logs.String(), "handler panic") {
		t.Error("the panic was not logged")
	}
}

func TestNoteOf(t *testing.T) {
	for header, want := range map[string]string{
		"":                          "",
		"  ":                        "",
		"bob":                       "bob",
		"eve\r\nX-Injected: 1":      "eveX-Injected: 1",
		strings.Repeat("é", 200):    strings.Repeat("é", maxActorLen),
		"desktop:alice@example.org": "desktop:alice@example.org",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Actor"] = []string{header}
		if got := noteOf(r); got != want {
			t.Errorf("noteOf(%q) = %q, want %q", header, got, want)
		}
	}
}

func TestProbeWritable(t *testing.T) {
	dir := t.TempDir()
	if err := ProbeWritable(dir); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("probe left %d files behind", len(entries))
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ProbeWritable(filepath.Join(file, "sub")); err == nil {
		t.Error("probe below a regular file succeeded")
	}
}
