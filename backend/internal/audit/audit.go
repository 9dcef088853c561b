// Package audit records who changed the trading configuration, as JSON lines appended (and
// fsynced) to a file in the data directory, and reads back the most recent entries.
package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
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
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Summary string    `json:"summary"`
	ETag    string    `json:"etag,omitempty"`
}

// Log is an append-only audit log. It is safe for concurrent use.
type Log struct {
	path    string
	now     func() time.Time
	maxScan int64

	mu sync.Mutex
	f  *os.File
}

// New returns the log stored at <dir>/audit.jsonl; the file is opened on first append.
func New(dir string) *Log {
	return &Log{path: filepath.Join(dir, FileName), now: time.Now, maxScan: maxScanBytes}
}

// Path is the log file's path.
func (l *Log) Path() string { return l.path }

// Append stamps e with the current time (when unset), writes it as one line and fsyncs.
func (l *Log) Append(e Entry) error {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	if len(e.Summary) > maxSummaryLen {
		e.Summary = truncate(e.Summary, maxSummaryLen)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // Encode ends the line with '\n'
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
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
		return fmt.Errorf("fsync %s: %w", l.path, err)
	}
	return nil
}

// open opens the log for appending. A process killed mid-append can leave a last line
// without its newline; ending it first keeps the next entry on a line of its own.
func (l *Log) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
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
		r, err := os.Open(l.path)
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

// Recent returns up to limit entries, newest first. It reads the file backwards from the end
// and never more than maxScanBytes of it; lines that do not parse (a torn last line) are skipped.
func (l *Log) Recent(limit int) ([]Entry, error) {
	if limit <= 0 {
		return []Entry{}, nil
	}
	if limit > MaxLimit {
		limit = MaxLimit
	}
	// Appends hold the same lock, so the file's end is always a whole line here.
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.Open(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return []Entry{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}

	entries := make([]Entry, 0, limit)
	end := fi.Size()
	floor := max(end-l.maxScan, 0)
	var partial []byte // the start of a line whose beginning lies in an earlier chunk
	for end > floor && len(entries) < limit {
		start := max(end-chunkSize, floor)
		buf := make([]byte, end-start, end-start+int64(len(partial)))
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return nil, fmt.Errorf("read audit log: %w", err)
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
		for i := len(lines) - 1; i >= first && len(entries) < limit; i-- {
			if e, ok := parse(lines[i]); ok {
				entries = append(entries, e)
			}
		}
		partial = append([]byte(nil), lines[0]...)
	}
	return entries, nil
}

func parse(line []byte) (Entry, bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return Entry{}, false
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return Entry{}, false
	}
	return e, true
}

func truncate(s string, n int) string {
	const ellipsis = "..."
	cut := n - len(ellipsis)
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + ellipsis
}
