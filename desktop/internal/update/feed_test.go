package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testFeed serves a signed feed whose channel "stable" offers version with
// file content for this platform; the maps can be altered by a test.
type testFeed struct {
	key    testKey
	files  map[string][]byte
	server *httptest.Server
}

func newTestFeed(t *testing.T, version string, content []byte, edit func(*Manifest)) *testFeed {
	t.Helper()
	f := &testFeed{key: newTestKey(t), files: map[string][]byte{}}
	name := version + "/TraderAdmin-" + version
	sum := sha256.Sum256(content)
	m := sampleManifest()
	m.Version, m.Withdrawn = version, nil
	m.Platforms = map[string]Platform{PlatformKey(): {
		URL: name, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:]),
		Signature: f.key.sign(content, "traderadmin file "+version),
	}}
	if edit != nil {
		edit(&m)
	}
	data, _ := json.Marshal(m)
	f.files["/stable.json"] = data
	f.files["/stable.json.minisig"] = []byte(f.key.sign(data, "traderadmin stable "+version))
	f.files["/"+name] = content
	f.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := f.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(f.server.Close)
	return f
}

func (f *testFeed) client(t *testing.T) *Feed {
	feed, err := NewFeed(f.server.URL, f.key.pub)
	if err != nil {
		t.Fatal(err)
	}
	return feed
}

func TestFeedDownloadVerifiesBeforeKeeping(t *testing.T) {
	content := []byte("#!/bin/sh\necho new\n")
	tests := []struct {
		name    string
		tamper  func(f *testFeed, name string)
		errPart string
	}{
		{"intact", nil, ""},
		{"file altered", func(f *testFeed, name string) { f.files[name] = []byte(strings.ToUpper(string(content))) }, "sha256"},
		{"file longer", func(f *testFeed, name string) { f.files[name] = append(content, '#') }, "larger"},
		{"file missing", func(f *testFeed, name string) { delete(f.files, name) }, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newTestFeed(t, "1.2.0", content, nil)
			m, err := f.client(t).Manifest(context.Background(), "stable.json")
			if err != nil {
				t.Fatal(err)
			}
			p := m.Platforms[PlatformKey()]
			if tt.tamper != nil {
				tt.tamper(f, "/"+p.URL)
			}
			dir := t.TempDir()
			path, err := f.client(t).Download(context.Background(), p, dir)
			entries, _ := os.ReadDir(dir)
			if tt.errPart == "" {
				data, _ := os.ReadFile(path)
				if err != nil || string(data) != string(content) {
					t.Fatalf("Download() = %q, %v", data, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("Download() error = %v, want it to contain %q", err, tt.errPart)
			}
			if len(entries) != 0 {
				t.Errorf("a refused download left files: %v", entries)
			}
		})
	}
}

func TestFeedDownloadRefusesAFileSignedByAnotherKey(t *testing.T) {
	content := []byte("payload")
	other := newTestKey(t)
	f := newTestFeed(t, "1.2.0", content, func(m *Manifest) {
		p := m.Platforms[PlatformKey()]
		p.Signature = other.sign(content, "x")
		m.Platforms[PlatformKey()] = p
	})
	m, err := f.client(t).Manifest(context.Background(), "stable.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client(t).Download(context.Background(), m.Platforms[PlatformKey()], t.TempDir()); err == nil {
		t.Fatal("Download() accepted a file signed by another key")
	}
}

func TestFeedManifestRefusesAlteredOrMissingSignature(t *testing.T) {
	f := newTestFeed(t, "1.2.0", []byte("x"), nil)
	f.files["/stable.json"] = []byte(strings.Replace(string(f.files["/stable.json"]), `"rollout":100`, `"rollout":99`, 1))
	if _, err := f.client(t).Manifest(context.Background(), "stable.json"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("altered manifest: %v", err)
	}
	delete(f.files, "/stable.json.minisig")
	if _, err := f.client(t).Manifest(context.Background(), "stable.json"); err == nil || !strings.Contains(err.Error(), "unsigned") {
		t.Errorf("missing signature: %v", err)
	}
}

func TestStateRecordsBadVersionsAndKeepsTheInstallID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "TraderAdmin")
	id, err := InstallID(dir)
	if again, _ := InstallID(dir); err != nil || len(id) != 32 || again != id {
		t.Fatalf("InstallID() = %q then %q, %v", id, again, err)
	}
	if err := RecordBad(dir, "1.2.0", "crashed"); err != nil {
		t.Fatal(err)
	}
	_ = RecordBad(dir, "1.2.0", "crashed again")
	s, err := LoadState(dir)
	if err != nil || len(s.Bad) != 1 || s.Bad[0] != "1.2.0" || s.Undone.Message() != "Update to 1.2.0 failed to start and was undone" {
		t.Fatalf("state = %+v, %v", s, err)
	}
}
