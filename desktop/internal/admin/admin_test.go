package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"traderadmin/desktop/internal/backend"
	"traderadmin/desktop/internal/config"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOverview(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			_, _ = w.Write([]byte("ok"))
		case "/readyz":
			http.Error(w, "no heartbeat", http.StatusServiceUnavailable)
		case "/version":
			_, _ = w.Write([]byte(`{"version":"2.0.0","commit":"def"}`))
		case "/api/v1/status":
			http.Error(w, `{"error":"no heartbeat received yet"}`, http.StatusNotFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	s := NewService("1.0.0", "abc", config.Lookup{FlagPath: writeConfig(t, "backend_url = \""+srv.URL+"\"\n")}, time.Second)
	o := s.Overview(context.Background())
	if !o.Health.OK || o.Ready.OK || o.Ready.StatusCode != 503 || o.Ready.Body != "no heartbeat" {
		t.Errorf("probes = %+v / %+v", o.Health, o.Ready)
	}
	if o.BackendVersion == nil || o.BackendVersion.Version != "2.0.0" {
		t.Errorf("backend version = %+v (%+v)", o.BackendVersion, o.VersionProblem)
	}
	if o.Status != nil || o.StatusProblem == nil || o.StatusProblem.Status != 404 || !strings.Contains(o.StatusProblem.Message, "no heartbeat") {
		t.Errorf("status = %+v, problem = %+v", o.Status, o.StatusProblem)
	}
}

func TestSaveConfigProblems(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer good":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"unauthorized"}`))
		case r.Header.Get("If-Match") != `"v2"`:
			w.WriteHeader(http.StatusPreconditionFailed)
			_, _ = w.Write([]byte(`{"error":"stale"}`))
		default:
			w.Header().Set("ETag", `"v3"`)
			_, _ = w.Write([]byte(`{"strategies":[],"risk_limits":{"max_position":1,"max_order_value":2,"max_daily_loss":3}}`))
		}
	}))
	defer srv.Close()

	tests := []struct {
		name     string
		token    string
		etag     string
		wantKind string
		wantTag  string
	}{
		{"no token", "", `"v2"`, "unauthorized", ""},
		{"wrong token", "bad", `"v2"`, "unauthorized", ""},
		{"stale etag", "good", `"v1"`, "conflict", ""},
		{"saved", "good", `"v2"`, "", `"v3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := "backend_url = \"" + srv.URL + "\"\n"
			if tt.token != "" {
				content += "token = \"" + tt.token + "\"\n"
			}
			s := NewService("1.0.0", "abc", config.Lookup{FlagPath: writeConfig(t, content)}, time.Second)
			res := s.SaveConfig(context.Background(), backend.TradingConfig{}, tt.etag)
			gotKind := ""
			if res.Problem != nil {
				gotKind = res.Problem.Kind
			}
			if gotKind != tt.wantKind || res.ETag != tt.wantTag {
				t.Errorf("SaveConfig() = %+v (problem %+v), want kind %q etag %q", res, res.Problem, tt.wantKind, tt.wantTag)
			}
		})
	}
}

func TestReloadPicksUpEdits(t *testing.T) {
	path := writeConfig(t, "backend_url = \"http://a:1\"\n")
	s := NewService("1.0.0", "abc", config.Lookup{FlagPath: path}, time.Second)
	if got := s.Settings(); got.BackendURL != "http://a:1" || got.TokenSet || !strings.Contains(got.Notice, "No token") {
		t.Fatalf("Settings() = %+v", got)
	}
	if err := os.WriteFile(path, []byte("backend_url = \"http://b:2\"\ntoken = \"t\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := s.Reload(); got.BackendURL != "http://b:2" || !got.TokenSet || got.Notice != "" {
		t.Fatalf("Reload() = %+v", got)
	}
}

func TestAuditClampsLimit(t *testing.T) {
	var gotLimit string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotLimit = r.URL.Query().Get("limit")
		_, _ = w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	s := NewService("1.0.0", "abc", config.Lookup{FlagPath: writeConfig(t, "backend_url = \""+srv.URL+"\"\n")}, time.Second)
	res := s.Audit(context.Background(), 5000)
	if gotLimit != "200" || res.Problem != nil || res.Entries == nil {
		t.Errorf("Audit() limit sent %q, result %+v", gotLimit, res)
	}
}
