package auth

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTokens(t *testing.T) {
	got := ParseTokens("# comment\n new-one \n\nold-one\r\na,b c\n")
	want := []string{"new-one", "old-one", "a", "b", "c"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseTokens = %q, want %q", got, want)
	}
}

func TestAuthenticateByRole(t *testing.T) {
	k, err := NewKeyring(map[Role]Source{
		RoleAdmin:        {Tokens: []string{"admin-a", "admin-b"}},
		RoleOrchestrator: {Tokens: []string{"orch"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		header string
		role   Role
		ok     bool
	}{
		{"Bearer admin-a", RoleAdmin, true},
		{"bearer  admin-b ", RoleAdmin, true},
		{"Bearer orch", RoleOrchestrator, true},
		{"Bearer orc", "", false},
		{"Bearer orchx", "", false},
		{"Basic orch", "", false},
		{"Bearer", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		id, ok := k.Authenticate(tt.header)
		if ok != tt.ok || id.Role != tt.role {
			t.Errorf("Authenticate(%q) = %+v, %v; want role %q, %v", tt.header, id, ok, tt.role, tt.ok)
		}
		if ok && id.Fingerprint != Fingerprint(tt.header[len("Bearer "):]) && tt.header != "bearer  admin-b " {
			t.Errorf("fingerprint %s does not name the token", id.Fingerprint)
		}
	}
}

// A rotation edits the mounted file; the keyring follows without a restart and keeps the
// tokens in force while the file is briefly empty or missing.
func TestTokenFileRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	write := func(text string) {
		t.Helper()
		tmp := path + ".new"
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil { // a new inode, as a Secret update gives
			t.Fatal(err)
		}
	}
	write("old\n")
	k, err := NewKeyring(map[Role]Source{RoleOrchestrator: {File: path, Describe: "file"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	k.now = func() time.Time { return now }
	accepts := func(tok string) bool { _, ok := k.Authenticate("Bearer " + tok); return ok }

	steps := []struct {
		file     string
		old, new bool
	}{
		{"old\nnew\n", true, true}, // 1. the backend accepts both
		{"new\nold\n", true, true}, // 2. the orchestrator switches to the first line
		{"", true, true},           //    a half-written Secret changes nothing
		{"new\n", false, true},     // 3. the old token is retired
	}
	for i, st := range steps {
		write(st.file)
		now = now.Add(2 * time.Second)
		if accepts("old") != st.old || accepts("new") != st.new {
			t.Fatalf("step %d (%q): old accepted %v, new accepted %v; want %v, %v", i, st.file, accepts("old"), accepts("new"), st.old, st.new)
		}
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	if !accepts("new") {
		t.Error("a missing token file locked the role out; want the last tokens kept")
	}
}

func TestEmptyTokenFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("# nothing yet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeyring(map[Role]Source{RoleAdmin: {File: path, Describe: "file"}}, nil); err == nil {
		t.Fatal("NewKeyring accepted a token file without a token")
	}
}

func TestReloadRefusesATokenOfTheOtherRole(t *testing.T) {
	dir := t.TempDir()
	admin, orch := filepath.Join(dir, "admin"), filepath.Join(dir, "orchestrator")
	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path+".new", []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	write(admin, "admin-token\n")
	write(orch, "orch-token\n")
	var logs bytes.Buffer
	k, err := NewKeyring(map[Role]Source{
		RoleAdmin:        {File: admin, Describe: "ADMIN_FILE (" + admin + ")"},
		RoleOrchestrator: {File: orch, Describe: "ORCH_FILE (" + orch + ")"},
	}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	k.now = func() time.Time { return now }
	roleOf := func(tok string) Role {
		id, ok := k.Authenticate("Bearer " + tok)
		if !ok {
			return ""
		}
		return id.Role
	}

	// The orchestrator's Secret is rewritten with the admin's token in it.
	write(orch, "orch-token\nadmin-token\n")
	now = now.Add(2 * time.Second)
	if got := roleOf("admin-token"); got != RoleAdmin {
		t.Fatalf("admin token after a conflicting reload: role %q; want admin (last good keyring)", got)
	}
	if got := roleOf("orch-token"); got != RoleOrchestrator {
		t.Fatalf("orchestrator token: role %q", got)
	}
	text := logs.String()
	if !strings.Contains(text, "level=ERROR") || !strings.Contains(text, orch) || !strings.Contains(text, admin) {
		t.Fatalf("want one error naming both files, got:\n%s", text)
	}
	if n := strings.Count(text, "one token in two roles"); n != 1 {
		t.Fatalf("the refusal was logged %d times; want once", n)
	}

	// Once the conflict is gone, the file is taken.
	write(orch, "orch-token-2\n")
	now = now.Add(2 * time.Second)
	if roleOf("orch-token-2") != RoleOrchestrator || roleOf("orch-token") != "" {
		t.Fatal("the orchestrator's new file was not taken after the conflict ended")
	}
}
