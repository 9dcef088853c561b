// Package auth decides who a request is: each role (admin, orchestrator) has its own list of
// bearer tokens, so that the orchestrator's credential cannot change the configuration. A list
// holds several tokens during a rotation; a token file is re-read when it changes, so a
// rotated Kubernetes Secret takes effect without a restart.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// Role is what a credential may do.
type Role string

// The roles. Admin reads and changes the configuration and reads the audit log; the
// orchestrator reads the configuration and sends heartbeats.
const (
	RoleAdmin        Role = "admin"
	RoleOrchestrator Role = "orchestrator"
)

// Roles in the order they are checked and reported.
var Roles = []Role{RoleAdmin, RoleOrchestrator}

// Identity is an authenticated caller: its role and a fingerprint of the token it used (the
// first 8 bytes of its SHA-256, in hex), which tells old from new tokens during a rotation
// without revealing either.
type Identity struct {
	Role        Role
	Fingerprint string
}

// Fingerprint is the short, non-secret name of a token.
func Fingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// ParseTokens splits a token list: one token per line, or several separated by commas or
// whitespace; blank lines and lines starting with '#' are ignored.
func ParseTokens(text string) []string {
	var tokens []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, t := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\r' }) {
			tokens = append(tokens, t)
		}
	}
	return tokens
}

// Source is where one role's tokens come from: a fixed list (an environment variable) or a
// file (a mounted Secret). Exactly one of Tokens and File is set.
type Source struct {
	Tokens []string
	File   string
	// Describe names the source for logs, e.g. "BACKEND_ADMIN_TOKEN_FILE (/run/...)".
	Describe string
}

type entry struct {
	hash        [sha256.Size]byte
	fingerprint string
}

type roleTokens struct {
	source  Source
	entries []entry
	stamp   fileStamp
	checked time.Time
	// refused is why the file's current content was not taken (logged once per reason).
	refused string
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

// Keyring holds every role's tokens. It is safe for concurrent use.
type Keyring struct {
	log      *slog.Logger
	readFile func(string) ([]byte, error)
	stat     func(string) (fs.FileInfo, error)
	now      func() time.Time
	// recheck bounds how often a token file is stat'ed.
	recheck time.Duration

	mu    sync.Mutex
	roles map[Role]*roleTokens
}

// NewKeyring loads the sources; a file that cannot be read or holds no token is an error,
// because whoever named it expects that role to be usable.
func NewKeyring(sources map[Role]Source, logger *slog.Logger) (*Keyring, error) {
	if logger == nil {
		logger = slog.Default()
	}
	k := &Keyring{
		log: logger, readFile: os.ReadFile, stat: os.Stat, now: time.Now,
		recheck: time.Second, roles: map[Role]*roleTokens{},
	}
	for role, src := range sources {
		rt := &roleTokens{source: src}
		if src.File != "" {
			if err := k.reload(rt); err != nil {
				return nil, err
			}
		} else {
			rt.entries = entriesOf(src.Tokens)
		}
		k.roles[role] = rt
	}
	return k, nil
}

func entriesOf(tokens []string) []entry {
	out := make([]entry, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, entry{hash: sha256.Sum256([]byte(t)), fingerprint: Fingerprint(t)})
	}
	return out
}

// reload reads rt's file; the caller holds k.mu (or owns rt exclusively).
func (k *Keyring) reload(rt *roleTokens) error {
	entries, stamp, err := k.read(rt)
	if err != nil {
		return err
	}
	rt.entries, rt.stamp, rt.checked = entries, stamp, k.now()
	return nil
}

func (k *Keyring) read(rt *roleTokens) ([]entry, fileStamp, error) {
	fi, err := k.stat(rt.source.File)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("%s: %w", rt.source.Describe, err)
	}
	stamp := stampOf(fi)
	data, err := k.readFile(rt.source.File)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("%s: %w", rt.source.Describe, err)
	}
	tokens := ParseTokens(string(data))
	if len(tokens) == 0 {
		return nil, fileStamp{}, fmt.Errorf("%s: %s holds no token", rt.source.Describe, rt.source.File)
	}
	return entriesOf(tokens), stamp, nil
}

// sharedWith names the source of another role that holds one of entries' tokens ("" if none).
// One token in two roles is refused at start (app.Options); a reload must keep the same rule,
// or Authenticate would pick one role for it silently.
func (k *Keyring) sharedWith(role Role, entries []entry) string {
	for other, rt := range k.roles {
		if other == role {
			continue
		}
		for _, mine := range entries {
			for _, theirs := range rt.entries {
				if mine.hash == theirs.hash {
					return string(other) + " role's " + rt.source.Describe
				}
			}
		}
	}
	return ""
}

// refresh re-reads a token file that changed since it was last read. A file that became
// unreadable or empty keeps the tokens in force (and is logged): a half-written Secret
// must not lock everyone out.
func (k *Keyring) refresh(role Role, rt *roleTokens) {
	if rt.source.File == "" || k.now().Sub(rt.checked) < k.recheck {
		return
	}
	rt.checked = k.now()
	fi, err := k.stat(rt.source.File)
	if err == nil && stampOf(fi) == rt.stamp {
		return
	}
	before := len(rt.entries)
	var entries []entry
	var stamp fileStamp
	if err == nil {
		entries, stamp, err = k.read(rt)
	}
	if err != nil {
		k.log.Warn("token file unreadable; keeping the tokens in force", "role", string(role), "error", err.Error())
		return
	}
	// The stamp is not recorded: the file is read again at the next check, and taken once the
	// conflict is gone (from either file).
	if other := k.sharedWith(role, entries); other != "" {
		reason := rt.source.Describe + " holds a token of the " + other
		if reason != rt.refused {
			k.log.Error("token file not reloaded: one token in two roles; keeping the last good tokens",
				"role", string(role), "reason", reason)
			rt.refused = reason
		}
		return
	}
	rt.entries, rt.stamp, rt.refused = entries, stamp, ""
	k.log.Info("token file changed; tokens reloaded", "role", string(role), "tokens", len(rt.entries), "before", before,
		"fingerprints", strings.Join(k.fingerprints(rt), ","))
}

func (k *Keyring) fingerprints(rt *roleTokens) []string {
	out := make([]string, len(rt.entries))
	for i, e := range rt.entries {
		out[i] = e.fingerprint
	}
	return out
}

// Authenticate finds the identity whose token the Authorization header carries. It compares
// SHA-256 hashes (fixed length) in constant time against every token of every role, without
// stopping at the first match.
func (k *Keyring) Authenticate(header string) (Identity, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Identity{}, false
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return Identity{}, false
	}
	got := sha256.Sum256([]byte(token))
	k.mu.Lock()
	defer k.mu.Unlock()
	var found Identity
	matched := 0
	for _, role := range Roles {
		rt, ok := k.roles[role]
		if !ok {
			continue
		}
		k.refresh(role, rt)
		for _, e := range rt.entries {
			if subtle.ConstantTimeCompare(got[:], e.hash[:]) == 1 {
				matched = 1
				found = Identity{Role: role, Fingerprint: e.fingerprint}
			}
		}
	}
	return found, matched == 1
}

// Summary describes what is configured, for the startup log: role -> number of tokens.
func (k *Keyring) Summary() map[Role]int {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[Role]int{}
	for role, rt := range k.roles {
		out[role] = len(rt.entries)
	}
	return out
}

// Has reports whether role has at least one token.
func (k *Keyring) Has(role Role) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	rt, ok := k.roles[role]
	return ok && len(rt.entries) > 0
}
