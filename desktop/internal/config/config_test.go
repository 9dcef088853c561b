package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestCandidates(t *testing.T) {
	tests := []struct {
		name   string
		lookup Lookup
		want   []Candidate
	}{
		{
			name:   "flag wins over everything",
			lookup: Lookup{FlagPath: "/f.toml", EnvPath: "/e.toml", UserConfigDir: "/u", ExeDir: "/x"},
			want:   []Candidate{{Path: "/f.toml", Origin: OriginFlag}},
		},
		{
			name:   "env wins over implicit locations",
			lookup: Lookup{EnvPath: "/e.toml", UserConfigDir: "/u", ExeDir: "/x"},
			want:   []Candidate{{Path: "/e.toml", Origin: OriginEnv}},
		},
		{
			name:   "user config dir before executable dir",
			lookup: Lookup{UserConfigDir: "/u", ExeDir: "/x"},
			want: []Candidate{
				{Path: filepath.Join("/u", "TraderAdmin", "config.toml"), Origin: OriginUserDir},
				{Path: filepath.Join("/x", "config.toml"), Origin: OriginExeDir},
			},
		},
		{
			name:   "unknown user config dir is skipped",
			lookup: Lookup{ExeDir: "/x"},
			want:   []Candidate{{Path: filepath.Join("/x", "config.toml"), Origin: OriginExeDir}},
		},
		{
			name:   "nothing known",
			lookup: Lookup{},
			want:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lookup.Candidates(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Candidates() = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		content  string
		want     Config
		warnings int
		wantErr  bool
		errPart  string // the error must mention this
	}{
		{
			name:    "empty file gives defaults",
			content: "",
			want:    Defaults(),
		},
		{
			name:    "all keys",
			content: "backend_url = \"https://admin.example:8443/\"\ntoken = \" s3cret \"\nrefresh_seconds = 30\n",
			want:    Config{BackendURL: "https://admin.example:8443", Token: "s3cret", RefreshSeconds: 30},
		},
		{
			name:    "partial file keeps other defaults",
			content: "token = \"abc\"\n",
			want:    Config{BackendURL: "http://127.0.0.1:8080", Token: "abc", RefreshSeconds: 10},
		},
		{
			name:     "unknown key is a warning",
			content:  "backend-url = \"http://x\"\n",
			want:     Defaults(),
			warnings: 1,
		},
		{
			name:    "syntax error",
			content: "backend_url = \n",
			want:    Defaults(),
			wantErr: true,
		},
		{
			name:    "wrong type",
			content: "refresh_seconds = \"ten\"\n",
			want:    Defaults(),
			wantErr: true,
			errPart: "refresh_seconds",
		},
		{
			name:    "not an http url",
			content: "backend_url = \"127.0.0.1:8080\"\n",
			want:    Defaults(),
			wantErr: true,
			errPart: "backend_url",
		},
		{
			name:    "negative refresh",
			content: "refresh_seconds = -1\n",
			want:    Defaults(),
			wantErr: true,
			errPart: "refresh_seconds",
		},
		{
			name:    "update policy must be on or off",
			content: "update_policy = \"never\"\n",
			want:    Defaults(),
			wantErr: true,
			errPart: "update_policy",
		},
		{
			name:    "update channel must be known",
			content: "update_channel = \"nightly\"\n",
			want:    Defaults(),
			wantErr: true,
			errPart: "update_channel",
		},
		{
			name:    "update feed must be a URL",
			content: "update_feed = \"updates.example\"\n",
			want:    Defaults(),
			wantErr: true,
			errPart: "update_feed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := Parse([]byte(tt.content))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse() err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("Parse() err = %q, want it to mention %q", err, tt.errPart)
			}
			if got != tt.want {
				t.Errorf("Parse() = %+v, want %+v", got, tt.want)
			}
			if len(warnings) != tt.warnings {
				t.Errorf("Parse() warnings = %v, want %d", warnings, tt.warnings)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) string {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.toml", "token = \"t\"\n")
	bad := write("bad.toml", "token = \n")
	userDir := filepath.Join(dir, "user")
	inUser := write(filepath.Join("user", "TraderAdmin", "config.toml"), "backend_url = \"http://user:1\"\n")
	exeDir := filepath.Join(dir, "exe")
	inExe := write(filepath.Join("exe", "config.toml"), "backend_url = \"http://exe:1\"\n")
	emptyDir := filepath.Join(dir, "empty")

	tests := []struct {
		name       string
		lookup     Lookup
		wantPath   string
		wantOrigin Origin
		found      bool
		parsed     bool
		wantErr    bool
		wantURL    string
	}{
		{"flag file", Lookup{FlagPath: good, UserConfigDir: userDir}, good, OriginFlag, true, true, false, "http://127.0.0.1:8080"},
		{"env file", Lookup{EnvPath: good, ExeDir: exeDir}, good, OriginEnv, true, true, false, "http://127.0.0.1:8080"},
		{"explicit missing file is an error", Lookup{FlagPath: filepath.Join(dir, "nope.toml"), UserConfigDir: userDir}, filepath.Join(dir, "nope.toml"), OriginFlag, false, false, true, "http://127.0.0.1:8080"},
		{"unparsable file falls back to defaults", Lookup{FlagPath: bad}, bad, OriginFlag, true, false, true, "http://127.0.0.1:8080"},
		{"user dir before exe dir", Lookup{UserConfigDir: userDir, ExeDir: exeDir}, inUser, OriginUserDir, true, true, false, "http://user:1"},
		{"exe dir when user dir has none", Lookup{UserConfigDir: emptyDir, ExeDir: exeDir}, inExe, OriginExeDir, true, true, false, "http://exe:1"},
		{"nothing found is not an error", Lookup{UserConfigDir: emptyDir, ExeDir: emptyDir}, "", OriginNone, false, false, false, "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Load(tt.lookup)
			if got.Path != tt.wantPath || got.Origin != tt.wantOrigin {
				t.Errorf("Load() path/origin = %q/%q, want %q/%q", got.Path, got.Origin, tt.wantPath, tt.wantOrigin)
			}
			if got.Found != tt.found || got.Parsed != tt.parsed {
				t.Errorf("Load() found/parsed = %v/%v, want %v/%v", got.Found, got.Parsed, tt.found, tt.parsed)
			}
			if (got.Err != nil) != tt.wantErr {
				t.Errorf("Load() err = %v, want error %v", got.Err, tt.wantErr)
			}
			if got.Config.BackendURL != tt.wantURL {
				t.Errorf("Load() backend_url = %q, want %q", got.Config.BackendURL, tt.wantURL)
			}
		})
	}
}

func TestNotice(t *testing.T) {
	withToken := Defaults()
	withToken.Token = "t"
	tests := []struct {
		name   string
		loaded Loaded
		want   string // substring; "" means the notice must be empty
	}{
		{"all good", Loaded{Config: withToken, Path: "/c.toml", Found: true, Parsed: true}, ""},
		{"nothing found", Loaded{Config: Defaults(), Searched: []string{"/u/TraderAdmin/config.toml"}}, "No config.toml found — using defaults (backend http://127.0.0.1:8080, no token"},
		{"nothing found says where to create it", Loaded{Config: Defaults(), Searched: []string{"/u/TraderAdmin/config.toml"}}, "Create one at /u/TraderAdmin/config.toml"},
		{"error wins", Loaded{Config: Defaults(), Path: "/c.toml", Found: true, Err: errors.New("bad toml")}, "bad toml"},
		{"warnings", Loaded{Config: withToken, Path: "/c.toml", Found: true, Parsed: true, Warnings: []string{"unknown key \"x\" ignored"}}, "/c.toml: unknown key"},
		{"no token", Loaded{Config: Defaults(), Path: "/c.toml", Found: true, Parsed: true}, "No token in /c.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.loaded.Notice()
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Notice() = %q, want %q", got, tt.want)
			}
		})
	}
}
