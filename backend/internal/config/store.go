package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"traderadmin/backend/internal/atomicfile"
	"traderadmin/backend/internal/fsys"
)

// FileName is the configuration file inside the data directory.
const FileName = "config.toml"

const (
	dirPerm  fs.FileMode = 0o750
	filePerm fs.FileMode = 0o640
)

var (
	// ErrNotLoaded means the configuration could not be read yet (see Store.Ready).
	ErrNotLoaded = errors.New("configuration is not loaded")
	// ErrPreconditionFailed means the caller's If-Match did not name the current ETag.
	ErrPreconditionFailed = errors.New("configuration was changed by someone else; fetch it again and retry with the new ETag")
	// ErrStrategyNotFound means no strategy has the requested name.
	ErrStrategyNotFound = errors.New("strategy not found")
	// ErrNotAudited means the journal could not record the change, so it was not made.
	ErrNotAudited = errors.New("the change could not be recorded in the audit log, so it was not made")
	// ErrNotDurable means the change is made and in config.toml (a restarted process loads
	// it), but the directory fsync after the rename failed, so a power loss may undo it.
	ErrNotDurable = atomicfile.ErrNotDurable
)

// Journal records a change durably before the store writes it (the audit log does): if
// Prepare fails, the change is not made; once the write is done or has failed, the store
// calls Resolve on what Prepare returned.
type Journal interface {
	Prepare(before, after Snapshot) (Pending, error)
}

// Pending is a prepared change waiting for its outcome. Resolve must not fail the change: a
// journal that cannot record the outcome reconciles it at the next start.
type Pending interface {
	Resolve(committed bool, reason string)
}

const fileHeader = `# TraderAdmin trading configuration, owned by traderadmin-backend.
# Change it through the API (PUT /api/v1/config); the service reads this file only at start
# and overwrites it on every change.

`

// Snapshot is one immutable version of the configuration and its entity tag.
type Snapshot struct {
	Config Config
	// ETag is a quoted strong entity tag derived from the SHA-256 of the stored file.
	ETag string
}

// Store keeps the current configuration in memory and persists every change atomically to
// <dir>/config.toml. Reads never touch the disk; writers are serialised.
type Store struct {
	dir  string
	path string
	fs   fsys.FS

	writeMu sync.Mutex // held for a whole load or update, so read-check-write cannot interleave

	stateMu sync.RWMutex
	current *Snapshot
	loadErr error
}

// NewStore returns a store for dir; call Load before use.
func NewStore(dir string) *Store { return NewStoreFS(fsys.OS, dir) }

// NewStoreFS is NewStore writing through fsy (tests inject failures with fsys.Faulty).
func NewStoreFS(fsy fsys.FS, dir string) *Store {
	return &Store{dir: dir, path: filepath.Join(dir, FileName), fs: fsy, loadErr: ErrNotLoaded}
}

// Path is the configuration file's path.
func (s *Store) Path() string { return s.path }

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Load reads config.toml, writing Default() first when there is none. created reports that
// the default was written, recorded through j (nil: not recorded). On failure the store
// stays unloaded and Ready returns the reason.
func (s *Store) Load(j Journal) (created bool, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	snap, created, err := s.load(j)
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if err != nil {
		s.current, s.loadErr = nil, err
		return false, err
	}
	s.current, s.loadErr = snap, nil
	return created, nil
}

// EnsureLoaded retries Load if an earlier attempt failed, so that an operator can repair the
// file or the volume without restarting the process. created is as for Load.
func (s *Store) EnsureLoaded(j Journal) (created bool, err error) {
	if s.Ready() == nil {
		return false, nil
	}
	return s.Load(j)
}

func (s *Store) load(j Journal) (*Snapshot, bool, error) {
	if err := os.MkdirAll(s.dir, dirPerm); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	// A process killed mid-write leaves its temporary file behind; the real file is intact.
	if _, err := atomicfile.RemoveStale(s.path); err != nil {
		return nil, false, fmt.Errorf("remove stale temporary files: %w", err)
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		def := Default()
		data, err := Encode(def)
		if err != nil {
			return nil, false, err
		}
		snap := &Snapshot{Config: def, ETag: etagOf(data)}
		// A default written without a durable directory entry is still the file a restart
		// reads (or, after a power loss, writes again): load it either way.
		if err := s.write(j, Snapshot{}, *snap, data); err != nil && !errors.Is(err, ErrNotDurable) {
			return nil, false, fmt.Errorf("write default configuration: %w", err)
		}
		return snap, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", s.path, err)
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", s.path, err)
	}
	return &Snapshot{Config: cfg, ETag: etagOf(data)}, false, nil
}

// Ready returns nil once a configuration is loaded, else why not.
func (s *Store) Ready() error {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	return s.loadErr
}

// Current returns the current snapshot; ok is false when nothing is loaded. Callers must not
// modify the returned Config (use Clone).
func (s *Store) Current() (snap Snapshot, ok bool) {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	if s.current == nil {
		return Snapshot{}, false
	}
	return *s.current, true
}

// Update changes the configuration if match accepts the current ETag: fn edits a deep copy,
// the result is validated and written atomically, and only then becomes current. It returns
// the snapshots before and after. The change is prepared in j first (nil: none). Errors:
// ErrNotLoaded, ErrPreconditionFailed, fn's error, *ValidationError, ErrNotAudited or an I/O
// error (the previous configuration then stays in force, in memory and on disk), or an error
// wrapping ErrNotDurable: then the change IS made and after is returned with it.
func (s *Store) Update(match func(etag string) bool, fn func(*Config) error, j Journal) (before, after Snapshot, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cur, ok := s.Current()
	if !ok {
		return Snapshot{}, Snapshot{}, ErrNotLoaded
	}
	if !match(cur.ETag) {
		return Snapshot{}, Snapshot{}, ErrPreconditionFailed
	}
	next := cur.Config.Clone()
	if err := fn(&next); err != nil {
		return Snapshot{}, Snapshot{}, err
	}
	if err := Validate(next); err != nil {
		return Snapshot{}, Snapshot{}, err
	}
	data, err := Encode(next)
	if err != nil {
		return Snapshot{}, Snapshot{}, err
	}
	snap := &Snapshot{Config: next, ETag: etagOf(data)}
	werr := s.write(j, cur, *snap, data)
	if werr != nil && !errors.Is(werr, ErrNotDurable) {
		return Snapshot{}, Snapshot{}, werr
	}
	s.stateMu.Lock()
	s.current = snap
	s.stateMu.Unlock()
	return cur, *snap, werr
}

// write prepares the change in j, replaces config.toml with data and resolves the change:
// committed when the file was replaced (even if the directory fsync failed, since the new
// file is what the next start reads), aborted otherwise.
func (s *Store) write(j Journal, before, after Snapshot, data []byte) error {
	var pending Pending
	if j != nil {
		p, err := j.Prepare(before, after)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotAudited, err)
		}
		pending = p
	}
	err := atomicfile.WriteFS(s.fs, s.path, data, filePerm)
	if pending != nil {
		switch {
		case err == nil:
			pending.Resolve(true, "")
		case errors.Is(err, ErrNotDurable):
			pending.Resolve(true, err.Error())
		default:
			pending.Resolve(false, err.Error())
		}
	}
	if err != nil {
		return fmt.Errorf("save configuration: %w", err)
	}
	return nil
}

// Encode renders c as the TOML stored in config.toml.
func Encode(c Config) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(fileHeader)
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return nil, fmt.Errorf("encode configuration as TOML: %w", err)
	}
	return buf.Bytes(), nil
}

// Parse reads config.toml content strictly: unknown keys and missing risk limits are errors,
// and the result must pass Validate.
func Parse(data []byte) (Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return Config{}, errors.New("file is empty")
	}
	var c Config
	meta, err := toml.Decode(string(data), &c)
	if err != nil {
		return Config{}, fmt.Errorf("parse TOML: %w", err)
	}
	if undecoded := meta.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("unknown keys: %s", strings.Join(keys, ", "))
	}
	for _, key := range []string{"max_position", "max_order_value", "max_daily_loss"} {
		if !meta.IsDefined("risk_limits", key) {
			return Config{}, &ValidationError{Field: "risk_limits." + key, Message: "is missing"}
		}
	}
	for i := range c.Strategies {
		if c.Strategies[i].Parameters == nil {
			c.Strategies[i].Parameters = map[string]float64{}
		}
	}
	if c.Strategies == nil {
		c.Strategies = []Strategy{}
	}
	if err := Validate(c); err != nil {
		return Config{}, err
	}
	return c, nil
}

func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}
