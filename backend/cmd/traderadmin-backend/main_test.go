package main

// These tests build the real binary and drive it as a process: over HTTP, with signals, and
// with SIGKILL in the middle of writes. `go test -short` skips them.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"traderadmin/backend/internal/audit"
	"traderadmin/backend/internal/config"
)

const (
	testVersion = "9.9.9-e2e"
	testCommit  = "e2ec0mm1t"
	testToken   = "e2e-token-0123456789abcdef"
	orchToken   = "e2e-orchestrator-0123456789"
)

// tokenEnv gives the admin role testToken and the orchestrator role orchToken.
var tokenEnv = []string{"BACKEND_ADMIN_TOKEN=" + testToken, "BACKEND_ORCHESTRATOR_TOKEN=" + orchToken}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the backend once per test run, the way the release does (static, stripped,
// version stamped), and returns its path.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "traderadmin-backend-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "traderadmin-backend")
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		ldflags := fmt.Sprintf("-s -w -buildid= -X traderadmin/backend/internal/buildinfo.Version=%s -X traderadmin/backend/internal/buildinfo.Commit=%s", testVersion, testCommit)
		cmd := exec.Command(goTool, "build", "-trimpath", "-ldflags", ldflags, "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// process is one running backend.
type process struct {
	cmd  *exec.Cmd
	base string
	done chan struct{} // closed when the process has exited and its output is drained

	mu   sync.Mutex
	logs bytes.Buffer
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// start runs the binary on a free port (it binds 127.0.0.1:0 and logs the address).
func start(t *testing.T, dataDir string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), "-listen", "127.0.0.1:0", "-data-dir", dataDir)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				addr <- rec.Addr
			}
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case a := <-addr:
		p.base = "http://" + a
	case <-p.done:
		t.Fatalf("backend exited during startup:\n%s", p.output())
	case <-time.After(10 * time.Second):
		t.Fatalf("backend did not log its address:\n%s", p.output())
	}
	return p
}

var client = &http.Client{Timeout: 5 * time.Second}

func call(t *testing.T, method, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	resp, text, err := tryCall(method, url, body, headers...)
	if err != nil {
		t.Fatal(err)
	}
	return resp, text
}

func tryCall(method, url, body string, headers ...string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func configBody(t *testing.T, seq int) string {
	t.Helper()
	c := config.Default()
	c.RiskLimits.MaxPosition = float64(seq)
	// A few dozen strategies make each write big enough to be caught half-way.
	for i := 0; i < 40; i++ {
		c.Strategies = append(c.Strategies, config.Strategy{
			Name: fmt.Sprintf("s%02d", i), Symbol: "SYM" + fmt.Sprint(i), Enabled: (seq+i)%2 == 0,
			Parameters: map[string]float64{"seq": float64(seq), "window": float64(i + 1), "threshold": 0.25},
		})
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBinaryVersionFlag(t *testing.T) {
	out, err := exec.Command(binary(t), "-version").CombinedOutput()
	if err != nil {
		t.Fatalf("-version: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), testVersion) || !strings.Contains(string(out), testCommit) {
		t.Fatalf("-version printed %q, want the stamped version and commit", out)
	}
}

func TestBinaryEndToEnd(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := start(t, dataDir, tokenEnv...)

	for _, path := range []string{"/healthz", "/readyz"} {
		if resp, body := call(t, "GET", p.base+path, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
		}
	}
	if _, body := call(t, "GET", p.base+"/version", ""); !strings.Contains(body, testVersion) || !strings.Contains(body, testCommit) {
		t.Errorf("GET /version = %s", body)
	}

	for _, path := range []string{"/api/v1/config", "/api/v1/audit", "/api/v1/status"} {
		if resp, text := call(t, "GET", p.base+path, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("GET %s without token = %d %s, want 401", path, resp.StatusCode, text)
		}
	}
	resp, _ := call(t, "GET", p.base+"/api/v1/config", "", "Authorization", "Bearer "+orchToken)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" {
		t.Fatalf("GET /api/v1/config = %d, ETag %q", resp.StatusCode, etag)
	}

	body := configBody(t, 1)
	if resp, text := call(t, "PUT", p.base+"/api/v1/config", body, "If-Match", etag); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("PUT without token = %d %s, want 401", resp.StatusCode, text)
	}
	if resp, text := call(t, "PUT", p.base+"/api/v1/config", body, "Authorization", "Bearer "+orchToken, "If-Match", etag); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("PUT with the orchestrator's token = %d %s, want 403", resp.StatusCode, text)
	}
	auth := "Bearer " + testToken
	resp, text := call(t, "PUT", p.base+"/api/v1/config", body, "Authorization", auth, "If-Match", etag)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT = %d %s", resp.StatusCode, text)
	}
	if resp, text := call(t, "PUT", p.base+"/api/v1/config", body, "Authorization", auth, "If-Match", etag); resp.StatusCode != http.StatusPreconditionFailed {
		t.Fatalf("PUT with stale If-Match = %d %s, want 412", resp.StatusCode, text)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatal("backend did not exit after SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0\n%s", code, p.output())
	}
	for _, want := range []string{`"msg":"request"`, `"status":412`, `"msg":"shutdown complete"`} {
		if !strings.Contains(p.output(), want) {
			t.Errorf("logs lack %s:\n%s", want, p.output())
		}
	}
}

func TestBinaryWithoutTokenRefusesChanges(t *testing.T) {
	p := start(t, t.TempDir())
	if !strings.Contains(p.output(), "no API tokens for the admin role") {
		t.Errorf("startup logs do not say that changes are disabled:\n%s", p.output())
	}
	resp, text := call(t, "PUT", p.base+"/api/v1/config", configBody(t, 1), "Authorization", "Bearer ", "If-Match", "*")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("PUT on a server without token = %d %s, want 401", resp.StatusCode, text)
	}
	if resp, _ := call(t, "GET", p.base+"/readyz", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("readyz = %d, want 200: probes work without a token", resp.StatusCode)
	}
}

// TestBinarySurvivesSIGKILLDuringWrites kills the backend at random moments while a client
// replaces the configuration in a loop. After every kill config.toml must parse, and hold
// either the last acknowledged configuration or one whose PUT was still in flight.
func TestBinarySurvivesSIGKILLDuringWrites(t *testing.T) {
	dataDir := t.TempDir()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	seq := 0
	for round := 0; round < 5; round++ {
		p := start(t, dataDir, tokenEnv...)
		resp, _ := call(t, "GET", p.base+"/api/v1/config", "", "Authorization", "Bearer "+testToken)
		etag := resp.Header.Get("ETag")

		var (
			mu           sync.Mutex
			acked, tried = -1, -1
		)
		stop := make(chan struct{})
		loopDone := make(chan struct{})
		go func() {
			defer close(loopDone)
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				seq++
				n := seq
				tried = n
				mu.Unlock()
				resp, _, err := tryCall("PUT", p.base+"/api/v1/config", configBody(t, n),
					"Authorization", "Bearer "+testToken, "If-Match", etag, "X-Actor", "crash-test")
				if err != nil {
					return // the process is gone
				}
				if resp.StatusCode != http.StatusOK {
					t.Errorf("PUT %d = %d", n, resp.StatusCode)
					return
				}
				etag = resp.Header.Get("ETag")
				mu.Lock()
				acked = n
				mu.Unlock()
			}
		}()

		time.Sleep(time.Duration(30+rng.Intn(150)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-p.done
		close(stop)
		<-loopDone

		data, err := os.ReadFile(filepath.Join(dataDir, config.FileName))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			t.Fatalf("round %d: config.toml is empty after SIGKILL", round)
		}
		cfg, err := config.Parse(data)
		if err != nil {
			t.Fatalf("round %d: config.toml does not parse after SIGKILL: %v\n%s", round, err, data)
		}
		mu.Lock()
		got := int(cfg.RiskLimits.MaxPosition)
		if acked >= 0 && (got < acked || got > tried) {
			t.Fatalf("round %d: config.toml holds write %d, want one from %d (last acknowledged) to %d (last sent)", round, got, acked, tried)
		}
		mu.Unlock()
		if _, err := audit.New(dataDir).Recent(10); err != nil {
			t.Fatalf("round %d: audit log unreadable after SIGKILL: %v", round, err)
		}
	}
	if seq < 10 {
		t.Fatalf("only %d PUTs were attempted over all rounds; the test did not exercise writes", seq)
	}

	// The survivor starts cleanly on the same directory: ready, no temporary files left.
	p := start(t, dataDir, tokenEnv...)
	if resp, body := call(t, "GET", p.base+"/readyz", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after the crashes = %d %s", resp.StatusCode, body)
	}
	entries, _ := os.ReadDir(dataDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left after restart", e.Name())
		}
	}
	_, body := call(t, "GET", p.base+"/api/v1/audit?limit=1000", "", "Authorization", "Bearer "+testToken)
	if !strings.Contains(body, `"note":"crash-test"`) || strings.Contains(body, `"status":"pending"`) {
		t.Errorf("audit log after the crashes lacks the test's changes or has unresolved intents: %.300s", body)
	}
	t.Logf("%d PUTs sent over 5 SIGKILLed runs", seq)
}
