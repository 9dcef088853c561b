package api

// These tests run the API on a real HTTP server (httptest.NewServer, a TCP listener on
// loopback) and inject file-system faults through fsys.Faulty, then "restart" the backend
// by building a new server on the same data directory with the real file system.

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/config"
	"traderadmin/backend/internal/fsys"
)

// liveServer is one backend process stand-in: a Server on a real listener.
type liveServer struct {
	url    string
	dir    string
	faults *fsys.Faulty
	close  func()
}

func startLive(t *testing.T, dir string) *liveServer {
	t.Helper()
	return startLiveWith(t, dir, fsys.NewFaulty(fsys.OS))
}

type answer struct {
	status int
	etag   string
	body   map[string]any
	raw    string
}

func (ls *liveServer) call(t *testing.T, method, path, tok, body string, kv ...string) answer {
	t.Helper()
	r, err := http.NewRequest(method, ls.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Header.Set(kv[i], kv[i+1])
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, etag: resp.Header.Get("ETag"), raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (ls *liveServer) auditEntries(t *testing.T) []audit.Entry {
	t.Helper()
	a := ls.call(t, "GET", "/api/v1/audit", token, "")
	if a.status != http.StatusOK {
		t.Fatalf("GET audit = %d %s", a.status, a.raw)
	}
	var body struct{ Entries []audit.Entry }
	if err := json.Unmarshal([]byte(a.raw), &body); err != nil {
		t.Fatal(err)
	}
	return body.Entries
}

func TestRolesOverHTTP(t *testing.T) {
	ls := startLive(t, t.TempDir())
	newLimits := configJSON(t, func(c *config.Config) { c.RiskLimits.MaxPosition = 3 })
	hb := `{"instance": "orch-1", "strategies": []}`
	tests := []struct {
		name, method, path, tok, body string
		want                          int
	}{
		{"no token reads no config", "GET", "/api/v1/config", "", "", http.StatusUnauthorized},
		{"no token reads no audit log", "GET", "/api/v1/audit", "", "", http.StatusUnauthorized},
		{"no token reads no status", "GET", "/api/v1/status", "", "", http.StatusUnauthorized},
		{"unknown token", "GET", "/api/v1/config", "not-a-token", "", http.StatusUnauthorized},
		{"orchestrator cannot replace the config", "PUT", "/api/v1/config", orchToken, newLimits, http.StatusForbidden},
		{"orchestrator cannot patch a strategy", "PATCH", "/api/v1/strategies/eth-momentum", orchToken, `{"enabled": true}`, http.StatusForbidden},
		{"orchestrator cannot read the audit log", "GET", "/api/v1/audit", orchToken, "", http.StatusForbidden},
		{"orchestrator reads the config", "GET", "/api/v1/config", orchToken, "", http.StatusOK},
		{"orchestrator sends heartbeats", "POST", "/api/v1/heartbeat", orchToken, hb, http.StatusOK},
		{"orchestrator reads the status", "GET", "/api/v1/status", orchToken, "", http.StatusOK},
		{"admin sends no heartbeats", "POST", "/api/v1/heartbeat", token, hb, http.StatusForbidden},
		{"admin reads the audit log", "GET", "/api/v1/audit", token, "", http.StatusOK},
		{"probes need no token", "GET", "/readyz", "", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ls.call(t, tt.method, tt.path, tt.tok, tt.body, "If-Match", "*")
			if a.status != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, a.status, a.raw, tt.want)
			}
		})
	}

	// The admin changes the configuration; the audit entry names the admin role and the
	// token's fingerprint, and keeps X-Actor only as a note.
	before := ls.call(t, "GET", "/api/v1/config", token, "").etag
	a := ls.call(t, "PUT", "/api/v1/config", token, newLimits, "If-Match", before, "X-Actor", "orchestrator")
	if a.status != http.StatusOK {
		t.Fatalf("admin PUT = %d %s", a.status, a.raw)
	}
	e := ls.auditEntries(t)[0]
	if e.Actor != "admin" || e.Note != "orchestrator" || e.Credential == "" || strings.Contains(e.Credential, token) ||
		e.Status != audit.StatusCommitted || e.ETag != a.etag || e.PreviousETag != before {
		t.Errorf("audit entry = %+v", e)
	}
	if got := ls.call(t, "GET", "/api/v1/config", orchToken, "").etag; got != a.etag {
		t.Errorf("orchestrator sees ETag %s, want %s", got, a.etag)
	}
}

// restartedETag starts a new server on the data directory, as a restarted process would,
// and returns the ETag of the configuration it loaded.
func restartedETag(t *testing.T, dir string) (string, *liveServer) {
	t.Helper()
	ls := startLive(t, dir)
	a := ls.call(t, "GET", "/api/v1/config", token, "")
	if a.status != http.StatusOK {
		t.Fatalf("restarted GET config = %d %s", a.status, a.raw)
	}
	return a.etag, ls
}

func TestAuditWriteFailureRefusesTheChange(t *testing.T) {
	for _, op := range []fsys.Op{fsys.OpOpen, fsys.OpWrite, fsys.OpSync} {
		t.Run(string(op), func(t *testing.T) {
			dir := t.TempDir()
			ls := startLive(t, dir)
			before := ls.call(t, "GET", "/api/v1/config", token, "").etag
			fileBefore, _ := os.ReadFile(filepath.Join(dir, config.FileName))
			if op == fsys.OpOpen {
				// Writing the default opened the log; a restarted process opens it on its
				// first change, which is where this fault bites.
				ls.close()
				ls = startLiveWith(t, dir, ls.faults)
			}
			ls.faults.SetFail(func(o fsys.Op, path string) error {
				if o == op && filepath.Base(path) == audit.FileName {
					return syscall.ENOSPC
				}
				return nil
			})

			a := ls.call(t, "PUT", "/api/v1/config", token, configJSON(t, func(c *config.Config) { c.RiskLimits.MaxDailyLoss = 1 }), "If-Match", before)
			if a.status != http.StatusInternalServerError || a.body["committed"] != false || !strings.Contains(a.raw, "audit log") {
				t.Fatalf("PUT with a failing audit log = %d %s, want 500 saying nothing was committed", a.status, a.raw)
			}
			if got := ls.call(t, "GET", "/api/v1/config", token, "").etag; got != before {
				t.Errorf("served ETag after the refused change = %s, want %s", got, before)
			}
			if fileAfter, _ := os.ReadFile(filepath.Join(dir, config.FileName)); string(fileAfter) != string(fileBefore) {
				t.Error("config.toml changed although the audit record failed")
			}

			ls.faults.SetFail(nil)
			ls.close()
			got, restarted := restartedETag(t, dir)
			if got != before {
				t.Errorf("a restarted server loads %s, want the unchanged %s", got, before)
			}
			for _, e := range restarted.auditEntries(t) {
				if e.Action == "config.replace" && e.Status == audit.StatusCommitted {
					t.Errorf("audit log claims a committed change: %+v", e)
				}
			}
		})
	}
}

// startLiveWith starts a server whose file-system calls go through faults (for faults at open
// time, the injector is armed before the server opens its files).
func startLiveWith(t *testing.T, dir string, faults *fsys.Faulty) *liveServer {
	t.Helper()
	auditLog := audit.NewFS(faults, dir)
	srv := New(Options{Store: config.NewStoreFS(faults, dir), Audit: auditLog,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Keyring: testKeyring(t)})
	if err := srv.LoadConfig(); err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	srv.CheckReadiness()
	hs := httptest.NewServer(srv.Handler())
	ls := &liveServer{url: hs.URL, dir: dir, faults: faults, close: func() { hs.Close(); auditLog.Close() }}
	t.Cleanup(ls.close)
	return ls
}

func TestConfigWriteFailureIsAuditedAsAborted(t *testing.T) {
	for _, op := range []fsys.Op{fsys.OpCreateTemp, fsys.OpSync, fsys.OpRename} {
		t.Run(string(op), func(t *testing.T) {
			dir := t.TempDir()
			ls := startLive(t, dir)
			before := ls.call(t, "GET", "/api/v1/config", token, "").etag
			ls.faults.SetFail(func(o fsys.Op, path string) error {
				if o == op && filepath.Base(path) != audit.FileName {
					return syscall.EIO
				}
				return nil
			})
			a := ls.call(t, "PUT", "/api/v1/config", token, configJSON(t, func(c *config.Config) { c.RiskLimits.MaxDailyLoss = 1 }), "If-Match", before)
			if a.status != http.StatusInternalServerError || a.body["committed"] != false {
				t.Fatalf("PUT = %d %s, want 500 with committed false", a.status, a.raw)
			}
			ls.faults.SetFail(nil)
			if e := ls.auditEntries(t)[0]; e.Action != "config.replace" || e.Status != audit.StatusAborted || e.Reason == "" {
				t.Errorf("audit entry for the failed write = %+v, want aborted with a reason", e)
			}
			ls.close()
			if got, _ := restartedETag(t, dir); got != before {
				t.Errorf("restarted server loads %s, want the unchanged %s", got, before)
			}
		})
	}
}

func TestDirectoryFsyncFailureResponseMatchesRestart(t *testing.T) {
	dir := t.TempDir()
	ls := startLive(t, dir)
	before := ls.call(t, "GET", "/api/v1/config", token, "").etag
	ls.faults.SetFail(func(o fsys.Op, path string) error {
		if o == fsys.OpSyncDir {
			return syscall.EIO
		}
		return nil
	})
	a := ls.call(t, "PUT", "/api/v1/config", token, configJSON(t, func(c *config.Config) { c.RiskLimits.MaxDailyLoss = 7 }), "If-Match", before)
	if a.status != http.StatusInternalServerError || a.body["committed"] != true || a.etag == "" || a.etag == before ||
		a.body["etag"] != a.etag || !strings.Contains(a.raw, "in force") {
		t.Fatalf("PUT with a failing directory fsync = %d (ETag %s) %s, want 500 saying the new configuration is in force", a.status, a.etag, a.raw)
	}
	ls.faults.SetFail(nil)
	if got := ls.call(t, "GET", "/api/v1/config", token, "").etag; got != a.etag {
		t.Errorf("served ETag = %s, want the one the response named, %s", got, a.etag)
	}
	ls.close()

	got, restarted := restartedETag(t, dir)
	if got != a.etag {
		t.Fatalf("a restarted server loads %s; the response said %s is in force", got, a.etag)
	}
	if e := restarted.auditEntries(t)[0]; e.ETag != a.etag || e.Status != audit.StatusCommitted {
		t.Errorf("audit entry = %+v, want the change committed", e)
	}
}

// A process killed between the intent and its outcome leaves a pending intent; the next
// start resolves it from what config.toml holds.
func TestRestartReconcilesPendingIntents(t *testing.T) {
	dir := t.TempDir()
	ls := startLive(t, dir)
	current := ls.call(t, "GET", "/api/v1/config", token, "").etag
	ls.close()

	log := audit.New(dir)
	lost, err := log.Begin(audit.Entry{Actor: "admin", Action: "config.replace", Summary: "never written", ETag: `"0000"`, PreviousETag: current})
	if err != nil {
		t.Fatal(err)
	}
	written, err := log.Begin(audit.Entry{Actor: "admin", Action: "config.replace", Summary: "written, outcome lost", ETag: current, PreviousETag: `"1111"`})
	if err != nil {
		t.Fatal(err)
	}
	log.Close()

	_, restarted := restartedETag(t, dir)
	status := map[string]string{}
	for _, e := range restarted.auditEntries(t) {
		status[e.ID] = e.Status
	}
	if status[lost] != audit.StatusAborted || status[written] != audit.StatusCommitted {
		t.Errorf("after restart: lost intent %q, written intent %q; want aborted and committed", status[lost], status[written])
	}
}

func TestFaultyInjectsOnlyWhatItIsTold(t *testing.T) {
	f := fsys.NewFaulty(fsys.OS)
	dir := t.TempDir()
	f.SetFail(func(o fsys.Op, _ string) error {
		if o == fsys.OpSyncDir {
			return syscall.EIO
		}
		return nil
	})
	if err := f.SyncDir(dir); !errors.Is(err, syscall.EIO) {
		t.Errorf("SyncDir = %v, want EIO", err)
	}
	if err := f.Rename(filepath.Join(dir, "missing"), filepath.Join(dir, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Rename = %v, want the real error", err)
	}
}
