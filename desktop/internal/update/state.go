package update

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files kept beside config.toml (the state directory).
const (
	StateFileName   = "update-state.json"
	InstallIDName   = "install-id"
	CacheFolderName = "update-cache"
)

// State is what this machine remembers about updates.
type State struct {
	// Bad lists versions that failed their first start here: never offered again.
	Bad []string `json:"bad"`
	// Undone is the last update that was rolled back, until the user has seen it.
	Undone *Undone `json:"undone,omitempty"`
	// Pending is an update whose first start is on trial; cleared when the trial ends either
	// way. Found at a normal start of that version, it means the supervisor died (a reboot, a
	// logout): the trial is started again (Resume).
	Pending *Pending `json:"pending,omitempty"`
}

// Pending is how to start the supervisor of a trial again.
type Pending struct {
	Version    string   `json:"version"`
	Supervisor string   `json:"supervisor"`
	Args       []string `json:"args"`
	PID        int      `json:"pid"` // the supervisor at work; 0 before it starts
}

// Undone describes a rolled-back update.
type Undone struct {
	Version string `json:"version"`
	Reason  string `json:"reason"`
	Time    string `json:"time"`
}

// Message is what the user is told.
func (u Undone) Message() string {
	return "Update to " + u.Version + " failed to start and was undone"
}

// LoadState reads the state file in dir; a missing file is an empty state.
func LoadState(dir string) (State, error) {
	var s State
	data, err := os.ReadFile(filepath.Join(dir, StateFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(data, &s)
}

// Save writes the state atomically (temp file, then rename).
func (s State) Save(dir string) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, StateFileName), append(data, '\n'), 0o644)
}

// RecordBad marks version as failed on this machine and remembers the
// message for the user; the state is saved.
func RecordBad(dir, version, reason string) error {
	s, err := LoadState(dir)
	if err != nil {
		s = State{} // a corrupt state file must not stop the rollback being recorded
	}
	if !slices.Contains(s.Bad, version) {
		s.Bad = append(s.Bad, version)
	}
	s.Undone = &Undone{Version: version, Reason: reason, Time: time.Now().UTC().Format(time.RFC3339)}
	return s.Save(dir)
}

// setPending records (p) or clears (nil) the update on trial.
func setPending(dir string, p *Pending) error {
	s, err := LoadState(dir)
	if err != nil {
		s = State{}
	}
	s.Pending = p
	return s.Save(dir)
}

// InstallID returns this installation's random id, creating it on first use.
func InstallID(dir string) (string, error) {
	path := filepath.Join(dir, InstallIDName)
	if data, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(data)); id != "" {
			return id, nil
		}
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw)
	if err := writeAtomic(path, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
