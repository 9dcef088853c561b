package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"traderadmin/backend/internal/auth"
)

func TestParseOptions(t *testing.T) {
	files := map[string]string{
		"/run/secrets/token": "  file-token-0123456789\n",
		"/run/secrets/empty": " \n",
		"/run/secrets/orch":  "# rotation: new first\norch-new-0123456789\norch-old-0123456789\n",
	}
	readFile := func(name string) ([]byte, error) {
		if v, ok := files[name]; ok {
			return []byte(v), nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    Options
		wantErr string
	}{
		{
			name: "defaults",
			want: Options{Listen: ":8080", DataDir: "/var/lib/traderadmin", ShutdownTimeout: 10 * time.Second, ReadinessInterval: DefaultReadinessInterval, Tokens: map[auth.Role]auth.Source{}},
		},
		{
			name: "environment",
			env:  map[string]string{EnvListen: "127.0.0.1:9000", EnvDataDir: "/data", EnvShutdownTimeout: "3s", EnvAdminToken: " env-token "},
			want: Options{Listen: "127.0.0.1:9000", DataDir: "/data", ShutdownTimeout: 3 * time.Second, ReadinessInterval: DefaultReadinessInterval,
				Tokens: map[auth.Role]auth.Source{auth.RoleAdmin: {Tokens: []string{"env-token"}, Describe: EnvAdminToken}}},
		},
		{
			name: "flags win over environment",
			args: []string{"-listen", ":9001", "-data-dir", "/flag", "-shutdown-timeout", "1s"},
			env:  map[string]string{EnvListen: ":9000", EnvDataDir: "/env", EnvShutdownTimeout: "3s"},
			want: Options{Listen: ":9001", DataDir: "/flag", ShutdownTimeout: time.Second, ReadinessInterval: DefaultReadinessInterval, Tokens: map[auth.Role]auth.Source{}},
		},
		{
			name: "one file per role, a list in each",
			env:  map[string]string{EnvAdminTokenFile: "/run/secrets/token", EnvOrchestratorTokenFile: "/run/secrets/orch"},
			want: Options{Listen: ":8080", DataDir: "/var/lib/traderadmin", ShutdownTimeout: 10 * time.Second, ReadinessInterval: DefaultReadinessInterval,
				Tokens: map[auth.Role]auth.Source{
					auth.RoleAdmin:        {File: "/run/secrets/token", Describe: EnvAdminTokenFile + " (/run/secrets/token)"},
					auth.RoleOrchestrator: {File: "/run/secrets/orch", Describe: EnvOrchestratorTokenFile + " (/run/secrets/orch)"},
				}},
		},
		{
			name: "older names mean the admin role",
			env:  map[string]string{EnvTokenFile: "/run/secrets/token", EnvOrchestratorToken: "o1,o2"},
			want: Options{Listen: ":8080", DataDir: "/var/lib/traderadmin", ShutdownTimeout: 10 * time.Second, ReadinessInterval: DefaultReadinessInterval,
				Tokens: map[auth.Role]auth.Source{
					auth.RoleAdmin:        {File: "/run/secrets/token", Describe: EnvTokenFile + " (/run/secrets/token)"},
					auth.RoleOrchestrator: {Tokens: []string{"o1", "o2"}, Describe: EnvOrchestratorToken},
				}},
		},
		{
			name: "blank token means none",
			env:  map[string]string{EnvToken: "   "},
			want: Options{Listen: ":8080", DataDir: "/var/lib/traderadmin", ShutdownTimeout: 10 * time.Second, ReadinessInterval: DefaultReadinessInterval, Tokens: map[auth.Role]auth.Source{}},
		},
		{
			name: "version ignores token problems",
			args: []string{"-version"},
			env:  map[string]string{EnvTokenFile: "/missing"},
			want: Options{Listen: ":8080", DataDir: "/var/lib/traderadmin", ShutdownTimeout: 10 * time.Second, ReadinessInterval: DefaultReadinessInterval, ShowVersion: true},
		},
		{name: "old and new admin names", env: map[string]string{EnvToken: "a", EnvAdminToken: "b"}, wantErr: "older names"},
		{name: "one token in two roles", env: map[string]string{EnvAdminToken: "same,x", EnvOrchestratorToken: "same"}, wantErr: "each role needs its own"},
		{name: "orchestrator list and file", env: map[string]string{EnvOrchestratorToken: "a", EnvOrchestratorTokenFile: "/run/secrets/orch"}, wantErr: "set only one"},
		{name: "both token sources", env: map[string]string{EnvToken: "a", EnvTokenFile: "/run/secrets/token"}, wantErr: "set only one"},
		{name: "missing token file", env: map[string]string{EnvTokenFile: "/missing"}, wantErr: "file does not exist"},
		{name: "empty token file", env: map[string]string{EnvTokenFile: "/run/secrets/empty"}, wantErr: "is empty"},
		{name: "bad shutdown timeout", env: map[string]string{EnvShutdownTimeout: "soon"}, wantErr: "positive duration"},
		{name: "negative shutdown flag", args: []string{"-shutdown-timeout", "-1s"}, wantErr: "must be positive"},
		{name: "unknown flag", args: []string{"-port", "1"}, wantErr: "flag provided but not defined"},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			got, err := ParseOptions(tt.args, lookup, readFile, io.Discard)
			if tt.wantErr != "" {
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want a usage error mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options = %+v\n    want %+v", got, tt.want)
			}
		})
	}

	if _, err := ParseOptions([]string{"-h"}, func(string) (string, bool) { return "", false }, readFile, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: error = %v, want flag.ErrHelp", err)
	}
}

// startRun runs Run in the background and returns its base URL, a cancel function standing in
// for SIGTERM, and the channel that receives Run's result.
func startRun(t *testing.T, opts Options) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	listening := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, opts, slog.New(slog.NewJSONHandler(io.Discard, nil)), listening) }()
	select {
	case addr := <-listening:
		return "http://" + addr.String(), cancel, done
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not start listening")
	}
	return "", nil, nil
}

// slowPut starts a PUT whose body arrives in two halves, and returns a function that sends
// the second half and returns the response status.
func slowPut(t *testing.T, base, token string) func() (int, error) {
	t.Helper()
	body := `{"risk_limits": {"max_position": 1, "max_order_value": 1, "max_daily_loss": 1}, "strategies": []}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPut, base+"/api/v1/config", pr)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("If-Match", "*")
	req.ContentLength = int64(len(body))
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{status: resp.StatusCode}
	}()
	if _, err := io.WriteString(pw, body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the handler start reading the body
	return func() (int, error) {
		if _, err := io.WriteString(pw, body[10:]); err != nil {
			return 0, err
		}
		pw.Close()
		select {
		case r := <-res:
			return r.status, r.err
		case <-time.After(5 * time.Second):
			return 0, fmt.Errorf("no response")
		}
	}
}

func TestRunDrainsInFlightRequestsOnShutdown(t *testing.T) {
	opts := Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), ShutdownTimeout: 5 * time.Second, Tokens: adminTokens("tok")}
	base, cancel, done := startRun(t, opts)
	finish := slowPut(t, base, "tok")

	cancel() // SIGTERM
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a request was still in flight", err)
	default:
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("new connections are still accepted after shutdown began")
	}

	status, err := finish()
	if err != nil || status != http.StatusOK {
		t.Fatalf("in-flight PUT ended with %d, %v; want 200", status, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after a clean drain", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
}

func TestRunGivesUpDrainingAfterTimeout(t *testing.T) {
	opts := Options{Listen: "127.0.0.1:0", DataDir: t.TempDir(), ShutdownTimeout: 200 * time.Millisecond, Tokens: adminTokens("tok")}
	base, cancel, done := startRun(t, opts)
	finish := slowPut(t, base, "tok")
	defer func() { _, _ = finish() }()

	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "still running") {
			t.Fatalf("Run = %v, want a drain timeout error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not give up draining")
	}
}

func TestRunFailsWhenAddressIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	opts := Options{Listen: ln.Addr().String(), DataDir: t.TempDir(), ShutdownTimeout: time.Second}
	err = Run(context.Background(), opts, slog.New(slog.NewJSONHandler(io.Discard, nil)), nil)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Run = %v, want a listen error", err)
	}
}

func adminTokens(tokens ...string) map[auth.Role]auth.Source {
	return map[auth.Role]auth.Source{auth.RoleAdmin: {Tokens: tokens, Describe: "test"}}
}
