// Package atomicfile replaces files so that a reader, or a process restarted after a crash,
// sees either the old content or the new content, never a torn or empty file.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"traderadmin/backend/internal/fsys"
)

// ErrNotDurable marks a Write whose rename succeeded but whose directory fsync failed: the
// new content is in place and is what a restarted process reads, but it may not survive a
// power loss. Callers must treat the write as done, not as failed.
var ErrNotDurable = errors.New("written, but the directory fsync failed")

// tempPrefix marks the temporary files Write creates next to the target; RemoveStale finds
// the ones a killed process left behind by it.
const tempPrefix = ".tmp-"

// Write atomically replaces path with data: it writes a temporary file in the same directory
// (rename is only atomic within one file system), fsyncs it, renames it over path and then
// fsyncs the directory so that the rename itself survives a power loss.
func Write(path string, data []byte, perm os.FileMode) error {
	return WriteFS(fsys.OS, path, data, perm)
}

// WriteFS is Write through the file system fsy. An error wrapping ErrNotDurable means the
// new content is in place; any other error means path was not replaced.
func WriteFS(fsy fsys.FS, path string, data []byte, perm fs.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := fsy.CreateTemp(dir, tempPrefix+base+"-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = fsy.Remove(tmpName)
		}
	}()
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmpName, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err = fsy.Rename(tmpName, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmpName, path, err)
	}
	if serr := fsy.SyncDir(dir); serr != nil {
		// The new content is in place; only its durability across power loss is in doubt.
		// (err stays nil: the temporary file no longer exists to be removed.)
		return fmt.Errorf("%w: fsync directory %s: %w", ErrNotDurable, dir, serr)
	}
	return nil
}

// SyncDir fsyncs a directory so that entries created, renamed or removed in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// RemoveStale deletes temporary files that Write left next to path when the process was
// killed between creating and renaming them. It returns the names it removed.
func RemoveStale(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasPrefix(e.Name(), tempPrefix+base+"-") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !os.IsNotExist(err) {
				return removed, err
			}
			removed = append(removed, e.Name())
		}
	}
	return removed, nil
}
