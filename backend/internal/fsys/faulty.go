package fsys

import (
	"io/fs"
	"sync"
)

// Op names one file-system operation that Faulty can fail.
type Op string

// The operations Faulty intercepts.
const (
	OpOpen       Op = "open"
	OpCreateTemp Op = "create-temp"
	OpWrite      Op = "write"
	OpSync       Op = "sync"
	OpClose      Op = "close"
	OpRename     Op = "rename"
	OpRemove     Op = "remove"
	OpSyncDir    Op = "sync-dir"
)

// Faulty wraps an FS and fails the operations Fail returns an error for; path is the file
// the operation acts on (for Write, Sync and Close: the open file's name). It is for tests,
// and safe for concurrent use.
type Faulty struct {
	FS FS

	mu   sync.Mutex
	fail func(op Op, path string) error
}

// NewFaulty returns a Faulty over base that fails nothing until SetFail is called.
func NewFaulty(base FS) *Faulty { return &Faulty{FS: base} }

// SetFail replaces the rule; nil fails nothing.
func (f *Faulty) SetFail(fail func(op Op, path string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fail
}

func (f *Faulty) check(op Op, path string) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail == nil {
		return nil
	}
	return fail(op, path)
}

func (f *Faulty) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if err := f.check(OpOpen, name); err != nil {
		return nil, &fs.PathError{Op: string(OpOpen), Path: name, Err: err}
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

func (f *Faulty) CreateTemp(dir, pattern string) (File, error) {
	if err := f.check(OpCreateTemp, dir); err != nil {
		return nil, &fs.PathError{Op: string(OpCreateTemp), Path: dir, Err: err}
	}
	file, err := f.FS.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

func (f *Faulty) Rename(oldpath, newpath string) error {
	if err := f.check(OpRename, newpath); err != nil {
		return &fs.PathError{Op: string(OpRename), Path: newpath, Err: err}
	}
	return f.FS.Rename(oldpath, newpath)
}

func (f *Faulty) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return &fs.PathError{Op: string(OpRemove), Path: name, Err: err}
	}
	return f.FS.Remove(name)
}

func (f *Faulty) SyncDir(dir string) error {
	if err := f.check(OpSyncDir, dir); err != nil {
		return &fs.PathError{Op: string(OpSyncDir), Path: dir, Err: err}
	}
	return f.FS.SyncDir(dir)
}

type faultyFile struct {
	File
	fs *Faulty
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.Name()); err != nil {
		return 0, &fs.PathError{Op: string(OpWrite), Path: f.Name(), Err: err}
	}
	return f.File.Write(p)
}

func (f *faultyFile) Sync() error {
	if err := f.fs.check(OpSync, f.Name()); err != nil {
		return &fs.PathError{Op: string(OpSync), Path: f.Name(), Err: err}
	}
	return f.File.Sync()
}

func (f *faultyFile) Close() error {
	if err := f.fs.check(OpClose, f.Name()); err != nil {
		_ = f.File.Close()
		return &fs.PathError{Op: string(OpClose), Path: f.Name(), Err: err}
	}
	return f.File.Close()
}
