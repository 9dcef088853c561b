package selftest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"traderadmin/desktop/internal/config"
)

func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://" + ln.Addr().String()
}

func TestRun(t *testing.T) {
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer healthy.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "draining", http.StatusServiceUnavailable)
	}))
	defer failing.Close()

	tests := []struct {
		name      string
		url       string
		reachable bool
		status    int
		errPart   string
	}{
		{"healthy backend", healthy.URL, true, 200, ""},
		{"backend answers 503", failing.URL, true, 503, "HTTP 503"},
		{"nothing listening", closedPortURL(t), false, 0, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loaded := config.Loaded{Config: config.Defaults(), Origin: config.OriginNone, Searched: []string{"/a", "/b"}}
			loaded.Config.BackendURL = tt.url
			r := Run(context.Background(), Input{
				Version: "1.0.0", Commit: "abc", Executable: "/opt/TraderAdmin", Config: loaded,
				Now: func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) },
			})
			if r.Backend.Reachable != tt.reachable || r.Backend.StatusCode != tt.status {
				t.Errorf("backend = %+v, want reachable %v status %d", r.Backend, tt.reachable, tt.status)
			}
			if !strings.Contains(r.Backend.Error, tt.errPart) || (tt.errPart == "" && r.Backend.Error != "") {
				t.Errorf("backend.error = %q, want it to contain %q", r.Backend.Error, tt.errPart)
			}
			if r.Version != "1.0.0" || r.Commit != "abc" || r.Time != "2024-01-02T03:04:05Z" || r.Config.Origin != "defaults" {
				t.Errorf("report header = %+v", r)
			}
		})
	}
}

func TestRunReportsConfigError(t *testing.T) {
	loaded := config.Loaded{Config: config.Defaults(), Path: "/x/config.toml", Origin: config.OriginFlag, Err: errors.New("boom")}
	loaded.Config.BackendURL = closedPortURL(t)
	r := Run(context.Background(), Input{Config: loaded})
	if r.Config.Error != "boom" || r.Config.Path != "/x/config.toml" || r.Config.Found || r.Config.Searched == nil {
		t.Errorf("config report = %+v", r.Config)
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	want := Report{Version: "1.0.0", Config: ConfigReport{Searched: []string{}}, Backend: BackendReport{URL: "http://x"}}
	for i := 0; i < 2; i++ { // the second write replaces the first
		if err := Write(path, want); err != nil {
			t.Fatalf("Write() error: %v", err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, data)
	}
	if got.Version != "1.0.0" || got.Backend.URL != "http://x" {
		t.Errorf("report = %+v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	if err := Write(filepath.Join(dir, "missing", "r.json"), want); err == nil {
		t.Error("Write() into a missing directory succeeded")
	}
}
