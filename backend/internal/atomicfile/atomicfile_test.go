package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesContentAndLeavesNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	for _, content := range []string{"first", "second, longer content", "3"} {
		if err := Write(path, []byte(content), 0o640); err != nil {
			t.Fatalf("Write(%q): %v", content, err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Fatalf("content = %q, want %q", got, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
	}
	assertOnlyEntries(t, dir, "config.toml")
}

func TestWriteFailureKeepsOldContentAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	// A non-empty directory at the target path makes the final rename fail, even as root.
	target := filepath.Join(dir, "config.toml")
	if err := os.MkdirAll(filepath.Join(target, "occupied"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(target, []byte("new"), 0o640); err == nil {
		t.Fatal("Write over a non-empty directory succeeded, want an error")
	}
	assertOnlyEntries(t, dir, "config.toml")
}

func TestWriteIntoMissingDirectoryFails(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(notADir, "config.toml"), []byte("x"), 0o640); err == nil {
		t.Fatal("Write below a regular file succeeded, want an error")
	}
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	for _, name := range []string{".tmp-config.toml-123", ".tmp-config.toml-456", ".tmp-other-1", "config.toml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := RemoveStale(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 {
		t.Errorf("removed %v, want the two config.toml temp files", removed)
	}
	assertOnlyEntries(t, dir, ".tmp-other-1", "config.toml")
}

func assertOnlyEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(want) {
		t.Fatalf("directory holds %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("directory holds %v, want %v", got, want)
		}
	}
}
