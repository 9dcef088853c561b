// Package audit records who changed the trading configuration, as JSON lines appended (and
// fsynced) to a file in the data directory, and reads back the most recent entries.
//
// A change is recorded in two lines: an intent (Begin, status "pending") written and fsynced
// before the configuration file is touched, and an outcome (Resolve: "committed" or
// "aborted") afterwards. A process that dies in between leaves a pending intent, which
// Reconcile resolves at the next start by comparing it with the configuration on disk. So no
// change reaches config.toml without its audit record.
package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"traderadmin/backend/internal/fsys"
)

// Statuses of an entry.
const (
	StatusPending   = "pending"
	StatusCommitted = "committed"
	StatusAborted   = "aborted"
)

// FileName is the audit log inside the data directory.
const FileName = "audit.jsonl"

const (
	// MaxLimit caps how many entries one read returns.
	MaxLimit = 1000
	// maxScanBytes bounds how far back from the end of the file one read looks, so that a
	// read costs the same however large the log has grown.
	maxScanBytes = 8 << 20
	chunkSize    = 64 << 10
	// maxSummaryLen keeps single lines small; the summary is for people, not for replay.
	maxSummaryLen = 4096
)

// Entry is one audit record.
type Entry struct {
	// ID links an intent to its outcome; entries written before intents existed have none.
	ID   string    `json:"id,omitempty"`
	Time time.Time `json:"time"`
	// Actor is the authenticated identity (a role such as "admin", or "system").
	Actor string `json:"actor"`
	// Credential is a short fingerprint of the token used, never the token itself.
	Credential string `json:"credential,omitempty"`
	// Note is what the client said about itself (the X-Actor header); it proves nothing.
	Note         string `json:"note,omitempty"`
	Action       string `json:"action"`
	Summary      string `json:"summary"`
	ETag         string `json:"etag,omitempty"`
	PreviousETag string `json:"previous_etag,omitempty"`
	// Status is pending, committed or aborted; Recent reports an intent with its outcome.
	Status string `json:"status,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// outcome is the line Resolve appends for an intent.
type outcome struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Outcome string    `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
}

// Log is an append-only audit log. It is safe for concurrent use.
type Log struct {
	path    string
	fs      fsys.FS
	now     func() time.Time
	maxScan int64

	mu sync.Mutex
	f  fsys.File
}

// New returns the log stored at <dir>/audit.jsonl; the file is opened on first append.
func New(dir string) *Log { return NewFS(fsys.OS, dir) }

// NewFS is New writing through fsy (tests inject failures with fsys.Faulty).
func NewFS(fsy fsys.FS, dir string) *Log {
	return &Log{path: filepath.Join(dir, FileName), fs: fsy, now: time.Now, maxScan: maxScanBytes}
}

// Path is the log file's path.
func (l *Log) Path() string { return l.path }

// Append stamps e with the current time (when unset), writes it as one line and fsyncs.
// An entry without a status is recorded as committed.
func (l *Log) Append(e Entry) error {
	if e.Status == "" {
		e.Status = StatusCommitted
	}
	_, err := l.appendEntry(e)
	return err
}

// Begin durably records the intent to make a change (status pending) and returns its ID.
// Only after Begin succeeded may the change be made; Resolve records how it ended.
func (l *Log) Begin(e Entry) (string, error) {
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	e.ID, e.Status = hex.EncodeToString(id[:]), StatusPending
	return l.appendEntry(e)
}

// Resolve records that the change Begin announced was committed or aborted.
func (l *Log) Resolve(id string, committed bool, reason string) error {
	o := outcome{ID: id, Time: l.now().UTC(), Outcome: StatusAborted, Reason: reason}
	if committed {
		o.Outcome = StatusCommitted
	}
	return l.writeLine(o)
}

func (l *Log) appendEntry(e Entry) (string, error) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	if len(e.Summary) > maxSummaryLen {
		e.Summary = truncate(e.Summary, maxSummaryLen)
	}
	return e.ID, l.writeLine(e)
}

func (l *Log) writeLine(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode ends the line with '\n'
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	line := buf.Bytes()

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		if err := l.open(); err != nil {
			return err
		}
	}
	if _, err := l.f.Write(line); err != nil {
		// Reopen next time: the volume may have been remounted or the file rotated away.
		_ = l.f.Close()
		l.f = nil
		return fmt.Errorf("append to %s: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		// The line may or may not be durable; reopening makes the next append start clean.
		_ = l.f.Close()
		l.f = nil
		return fmt.Errorf("fsync %s: %w", l.path, err)
	}
	return nil
}

// open opens the log for appending. A process killed mid-append can leave a last line
// without its newline; ending it first keeps the next entry on a line of its own.
func (l *Log) open() error {
	f, err := l.fs.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat audit log: %w", err)
	}
	if size := fi.Size(); size > 0 {
		last := make([]byte, 1)
		r, err := l.fs.OpenFile(l.path, os.O_RDONLY, 0)
		if err == nil {
			_, err = r.ReadAt(last, size-1)
			r.Close()
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("read audit log: %w", err)
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte{'\n'}); err != nil {
				f.Close()
				return fmt.Errorf("repair audit log: %w", err)
			}
		}
	}
	l.f = f
	return nil
}

// Close closes the file; a later Append reopens it.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Recent returns up to limit entries, newest first, each with its outcome (an intent whose
// outcome is not written yet is "pending"). It reads the file backwards from the end and never
// more than maxScanBytes of it; lines that do not parse (a torn last line) are skipped.
func (l *Log) Recent(limit int) ([]Entry, error) {
	if limit <= 0 {
		return []Entry{}, nil
	}
	limit = min(limit, MaxLimit)
	entries := make([]Entry, 0, limit)
	err := l.scan(func(e Entry) bool {
		entries = append(entries, e)
		return len(entries) < limit
	})
	return entries, err
}

// Reconcile resolves the intents a crash left pending, given the ETag of the configuration
// that is on disk now: walking back from the newest change, an intent whose ETag is the
// configuration in force at that point was committed, any other pending one was aborted.
// It returns the IDs it resolved.
func (l *Log) Reconcile(currentETag string) ([]string, error) {
	var intents []Entry // newest first
	if err := l.scan(func(e Entry) bool {
		if e.ID != "" {
			intents = append(intents, e)
		}
		return true
	}); err != nil {
		return nil, err
	}
	var resolved []string
	current := currentETag
	for _, e := range intents {
		switch {
		case e.Status == StatusCommitted && e.ETag == current:
			current = e.PreviousETag
		case e.Status != StatusPending:
		case e.ETag == current:
			if err := l.Resolve(e.ID, true, "reconciled at start: config.toml holds this change"); err != nil {
				return resolved, err
			}
			resolved, current = append(resolved, e.ID), e.PreviousETag
		default:
			if err := l.Resolve(e.ID, false, "reconciled at start: config.toml does not hold this change"); err != nil {
				return resolved, err
			}
			resolved = append(resolved, e.ID)
		}
	}
	return resolved, nil
}

// scan calls fn with every entry, newest first, outcomes applied, until fn returns false.
func (l *Log) scan(fn func(Entry) bool) error {
	// Appends hold the same lock, so the file's end is always a whole line here.
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.fs.OpenFile(l.path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}

	outcomes := map[string]outcome{} // outcomes are newer than their intents: seen first
	end := fi.Size()
	floor := max(end-l.maxScan, 0)
	var partial []byte // the start of a line whose beginning lies in an earlier chunk
	for end > floor {
		start := max(end-chunkSize, floor)
		buf := make([]byte, end-start, end-start+int64(len(partial)))
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return fmt.Errorf("read audit log: %w", err)
		}
		buf = append(buf, partial...)
		end = start
		// Every line but the first in buf is complete; the first may continue further back,
		// unless the chunk starts at the beginning of the file.
		lines := bytes.Split(buf, []byte{'\n'})
		first := 1
		if start == 0 {
			first = 0
		}
		for i := len(lines) - 1; i >= first; i-- {
			e, o, ok := parse(lines[i])
			switch {
			case !ok:
			case o != nil:
				outcomes[o.ID] = *o
			default:
				if e.Status == "" {
					e.Status = StatusCommitted // written before intents existed
				}
				if out, found := outcomes[e.ID]; found && e.ID != "" && e.Status == StatusPending {
					e.Status, e.Reason = out.Outcome, out.Reason
				}
				if !fn(e) {
					return nil
				}
			}
		}
		partial = append([]byte(nil), lines[0]...)
	}
	return nil
}

// parse reads one line: an entry, or (o non-nil) an outcome.
func parse(line []byte) (Entry, *outcome, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Entry{}, nil, false
	}
	var probe struct {
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal(line, &probe); err != nil {
		return Entry{}, nil, false
	}
	if probe.Outcome != "" {
		var o outcome
		if err := json.Unmarshal(line, &o); err != nil || o.ID == "" {
			return Entry{}, nil, false
		}
		return Entry{}, &o, true
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return Entry{}, nil, false
	}
	return e, nil, true
}

func truncate(s string, n int) string {
	const ellipsis = "..."
	cut := n - len(ellipsis)
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + ellipsis
}
