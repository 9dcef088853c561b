package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

func anyETag(string) bool { return true }

func loadedStore(t *testing.T) *Store {
	t.Helper()
	s := NewStore(t.TempDir())
	if _, err := s.Load(nil); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadWritesDefaultWhenMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	s := NewStore(dir)
	if !errors.Is(s.Ready(), ErrNotLoaded) {
		t.Fatalf("Ready before Load = %v, want ErrNotLoaded", s.Ready())
	}
	created, err := s.Load(nil)
	if err != nil || !created {
		t.Fatalf("Load = %v, %v; want created default", created, err)
	}
	snap, ok := s.Current()
	if !ok || !reflect.DeepEqual(snap.Config, Default()) {
		t.Fatalf("Current = %+v, %v; want the default", snap, ok)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if snap.ETag != etagOf(data) {
		t.Errorf("ETag %s is not the hash of the file", snap.ETag)
	}

	// A second process start reads the same file and reports the same ETag.
	again := NewStore(dir)
	created, err = again.Load(nil)
	if err != nil || created {
		t.Fatalf("second Load = %v, %v; want to read the existing file", created, err)
	}
	if snap2, _ := again.Current(); snap2.ETag != snap.ETag {
		t.Errorf("ETag after restart = %s, want %s", snap2.ETag, snap.ETag)
	}
}

func TestLoadRemovesStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".tmp-config.toml-999")
	if err := os.WriteFile(stale, []byte("[risk_"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewStore(dir).Load(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temporary file still there (stat: %v)", err)
	}
}

func TestCorruptFileLeavesStoreUnloadedUntilRepaired(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte("[risk_limits\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	s := NewStore(dir)
	if _, err := s.Load(nil); err == nil {
		t.Fatal("Load of a corrupt file succeeded")
	}
	if s.Ready() == nil {
		t.Fatal("Ready = nil after a failed load")
	}
	if _, ok := s.Current(); ok {
		t.Fatal("Current reports a configuration after a failed load")
	}
	if got, _ := os.ReadFile(path); string(got) != "[risk_limits\n" {
		t.Fatal("a failed load must not overwrite the operator's file")
	}
	if _, _, err := s.Update(anyETag, func(*Config) error { return nil }, nil); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Update on unloaded store = %v, want ErrNotLoaded", err)
	}

	data, _ := Encode(Default())
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureLoaded(nil); err != nil || s.Ready() != nil {
		t.Fatalf("EnsureLoaded after repair = %v, Ready = %v", err, s.Ready())
	}
}

func TestUpdate(t *testing.T) {
	s := loadedStore(t)
	before, _ := s.Current()

	_, _, err := s.Update(func(e string) bool { return e == `"stale"` }, func(*Config) error { return nil }, nil)
	if !errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("Update with stale ETag = %v, want ErrPreconditionFailed", err)
	}

	boom := errors.New("boom")
	if _, _, err := s.Update(anyETag, func(*Config) error { return boom }, nil); !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the edit function's error", err)
	}

	_, _, err = s.Update(anyETag, func(c *Config) error { c.Strategies[0].Symbol = "bad symbol"; return nil }, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Field != "strategies[0].symbol" {
		t.Fatalf("Update with invalid result = %v, want validation error on strategies[0].symbol", err)
	}
	if cur, _ := s.Current(); cur.ETag != before.ETag || !reflect.DeepEqual(cur.Config, before.Config) {
		t.Fatal("failed updates changed the current configuration")
	}

	old, next, err := s.Update(func(e string) bool { return e == before.ETag }, func(c *Config) error {
		c.Strategies[0].Enabled = true
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if old.ETag != before.ETag || next.ETag == before.ETag || !next.Config.Strategies[0].Enabled {
		t.Fatalf("Update returned old %s new %s (%+v)", old.ETag, next.ETag, next.Config.Strategies[0])
	}
	if before.Config.Strategies[0].Enabled {
		t.Fatal("Update modified the previous snapshot in place")
	}
	reloaded := NewStore(s.Dir())
	if _, err := reloaded.Load(nil); err != nil {
		t.Fatal(err)
	}
	if cur, _ := reloaded.Current(); cur.ETag != next.ETag || !cur.Config.Strategies[0].Enabled {
		t.Fatal("the update was not persisted")
	}
}

func TestUpdateWriteFailureKeepsCurrentConfig(t *testing.T) {
	s := loadedStore(t)
	before, _ := s.Current()
	// Swap the data directory for a regular file: every write now fails, even as root.
	if err := os.RemoveAll(s.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Dir(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Update(anyETag, func(c *Config) error { c.RiskLimits.MaxPosition = 1; return nil }, nil)
	var ve *ValidationError
	if err == nil || errors.As(err, &ve) || errors.Is(err, ErrPreconditionFailed) {
		t.Fatalf("Update = %v, want an I/O error", err)
	}
	if cur, _ := s.Current(); cur.ETag != before.ETag {
		t.Fatal("a failed write changed the in-memory configuration")
	}
}

// TestFileAlwaysParseable reads config.toml continuously while writers replace it: with
// temp-file + rename, no reader may ever see a torn or empty file.
func TestFileAlwaysParseable(t *testing.T) {
	s := loadedStore(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error
	var reads int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(s.Path())
			if err == nil {
				_, err = Parse(data)
			}
			if err != nil {
				readErr = err
				return
			}
			reads++
		}
	}()
	var writers sync.WaitGroup
	for w := 0; w < 2; w++ {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := 0; i < 40; i++ {
				_, _, err := s.Update(anyETag, func(c *Config) error {
					c.Strategies[0].Parameters[fmt.Sprintf("p%d", i)] = float64(i)
					c.RiskLimits.MaxPosition = float64(i)
					return nil
				}, nil)
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	writers.Wait()
	time.Sleep(5 * time.Millisecond)
	close(stop)
	wg.Wait()
	if readErr != nil {
		t.Fatalf("a reader saw an unparseable config.toml after %d good reads: %v", reads, readErr)
	}
	if reads == 0 {
		t.Fatal("the reader never ran")
	}
}
