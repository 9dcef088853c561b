package audit

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func appendN(t *testing.T, l *Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := l.Append(Entry{Actor: "tester", Action: "config.replace", Summary: fmt.Sprintf("change %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func summaries(entries []Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Summary
	}
	return out
}

func TestRecentNewestFirst(t *testing.T) {
	l := New(t.TempDir())
	defer l.Close()
	if got, err := l.Recent(10); err != nil || len(got) != 0 {
		t.Fatalf("Recent on a missing log = %v, %v; want empty", got, err)
	}
	appendN(t, l, 0, 5)
	tests := []struct {
		limit int
		want  []string
	}{
		{0, []string{}},
		{2, []string{"change 4", "change 3"}},
		{5, []string{"change 4", "change 3", "change 2", "change 1", "change 0"}},
		{100, []string{"change 4", "change 3", "change 2", "change 1", "change 0"}},
	}
	for _, tt := range tests {
		got, err := l.Recent(tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(summaries(got), ",") != strings.Join(tt.want, ",") {
			t.Errorf("Recent(%d) = %q, want %q", tt.limit, summaries(got), tt.want)
		}
	}
}

func TestAppendStampsUTCTimeAndPersists(t *testing.T) {
	dir := t.TempDir()
	l := New(dir)
	l.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)) }
	appendN(t, l, 0, 1)
	l.Close()
	got, err := New(dir).Recent(1)
	if err != nil || len(got) != 1 {
		t.Fatalf("Recent after reopen = %v, %v", got, err)
	}
	if want := time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC); !got[0].Time.Equal(want) || got[0].Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v in UTC", got[0].Time, want)
	}
	data, _ := os.ReadFile(l.Path())
	if !strings.Contains(string(data), `"time":"2026-01-02T02:04:05Z"`) {
		t.Errorf("stored line %s lacks an RFC 3339 UTC time", data)
	}
}

func TestTornLastLineIsSkippedAndRepaired(t *testing.T) {
	dir := t.TempDir()
	l := New(dir)
	appendN(t, l, 0, 2)
	l.Close()
	// What a kill -9 in the middle of a write leaves behind.
	f, err := os.OpenFile(l.Path(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-01-01T00:00:00Z","actor":"x","act`)
	f.Close()

	l = New(dir)
	defer l.Close()
	if got, _ := l.Recent(10); strings.Join(summaries(got), ",") != "change 1,change 0" {
		t.Fatalf("Recent with a torn line = %q", summaries(got))
	}
	appendN(t, l, 2, 1)
	if got, _ := l.Recent(10); strings.Join(summaries(got), ",") != "change 2,change 1,change 0" {
		t.Fatalf("Recent after appending to a torn log = %q", summaries(got))
	}
}

func TestRecentAcrossChunks(t *testing.T) {
	l := New(t.TempDir())
	defer l.Close()
	// Long summaries spread the entries over several 64 KiB chunks.
	pad := strings.Repeat("x", 1000)
	for i := 0; i < 400; i++ {
		if err := l.Append(Entry{Actor: "a", Action: "b", Summary: fmt.Sprintf("%04d %s", i, pad)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.Recent(300)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 300 {
		t.Fatalf("got %d entries, want 300", len(got))
	}
	for i, e := range got {
		if want := fmt.Sprintf("%04d", 399-i); !strings.HasPrefix(e.Summary, want) {
			t.Fatalf("entry %d = %.10q..., want %s", i, e.Summary, want)
		}
	}
	all, err := l.Recent(MaxLimit)
	if err != nil || len(all) != 400 || !strings.HasPrefix(all[399].Summary, "0000") {
		t.Fatalf("Recent(%d) = %d entries (err %v), want all 400 down to the first line", MaxLimit, len(all), err)
	}
}

func TestRecentReadsAtMostMaxScanBytes(t *testing.T) {
	l := New(t.TempDir())
	defer l.Close()
	appendN(t, l, 0, 100)
	data, _ := os.ReadFile(l.Path())
	lineLen := len(data) / 100
	l.maxScan = int64(lineLen*10 + lineLen/2) // ten and a half lines
	got, err := l.Recent(50)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 10 || got[0].Summary != "change 99" || got[9].Summary != "change 90" {
		t.Fatalf("bounded read returned %q, want the last ten whole lines", summaries(got))
	}
}

func TestLongSummaryIsTruncated(t *testing.T) {
	l := New(t.TempDir())
	defer l.Close()
	if err := l.Append(Entry{Summary: strings.Repeat("é", maxSummaryLen)}); err != nil {
		t.Fatal(err)
	}
	got, _ := l.Recent(1)
	if len(got) != 1 || len(got[0].Summary) > maxSummaryLen || !strings.HasSuffix(got[0].Summary, "...") {
		t.Fatalf("summary not truncated: %d bytes", len(got[0].Summary))
	}
	if !strings.HasPrefix(got[0].Summary, "éé") || strings.ContainsRune(got[0].Summary, '\uFFFD') {
		t.Fatal("truncation split a UTF-8 sequence")
	}
}
