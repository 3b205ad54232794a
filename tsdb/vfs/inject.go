package vfs

import (
	"io/fs"
)

// InjectFS wraps an FS and fails the operations its inject function chooses.
// It exists so tests can drive durable code through disk-full, read-only and
// fsync-failure paths that are hard to provoke on a real disk.
//
// Before each operation InjectFS calls inject(op, path); a non-nil result is
// returned as a *fs.PathError wrapping it (so errors.Is(err, syscall.ENOSPC)
// holds) and the operation does not happen, with one exception: a failed
// OpWrite first writes the first half of the buffer, because a real write(2)
// that runs out of space can be short, and callers must cope with a torn
// tail.
type InjectFS struct {
	fs     FS
	inject func(op Op, path string) error
}

// NewInjectFS returns an FS that runs inject before every operation on fs
// and on the files it opens. inject must be safe for concurrent use.
func NewInjectFS(fs FS, inject func(op Op, path string) error) *InjectFS {
	return &InjectFS{fs: fs, inject: inject}
}

func (i *InjectFS) check(op Op, path string) error {
	if err := i.inject(op, path); err != nil {
		return &fs.PathError{Op: op.String(), Path: path, Err: err}
	}
	return nil
}

// Create implements FS.
func (i *InjectFS) Create(name string) (File, error) {
	if err := i.check(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := i.fs.Create(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{f: f, fs: i, name: name}, nil
}

// OpenAppend implements FS.
func (i *InjectFS) OpenAppend(name string) (File, error) {
	if err := i.check(OpOpenAppend, name); err != nil {
		return nil, err
	}
	f, err := i.fs.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{f: f, fs: i, name: name}, nil
}

// Open implements FS.
func (i *InjectFS) Open(name string) (File, error) {
	if err := i.check(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := i.fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &injectFile{f: f, fs: i, name: name}, nil
}

// Rename implements FS.
func (i *InjectFS) Rename(oldname, newname string) error {
	if err := i.check(OpRename, oldname); err != nil {
		return err
	}
	return i.fs.Rename(oldname, newname)
}

// Remove implements FS.
func (i *InjectFS) Remove(name string) error {
	if err := i.check(OpRemove, name); err != nil {
		return err
	}
	return i.fs.Remove(name)
}

// RemoveAll implements FS.
func (i *InjectFS) RemoveAll(path string) error {
	if err := i.check(OpRemoveAll, path); err != nil {
		return err
	}
	return i.fs.RemoveAll(path)
}

// MkdirAll implements FS.
func (i *InjectFS) MkdirAll(dir string, perm fs.FileMode) error {
	if err := i.check(OpMkdirAll, dir); err != nil {
		return err
	}
	return i.fs.MkdirAll(dir, perm)
}

// List implements FS.
func (i *InjectFS) List(dir string) ([]string, error) {
	if err := i.check(OpList, dir); err != nil {
		return nil, err
	}
	return i.fs.List(dir)
}

// Stat implements FS.
func (i *InjectFS) Stat(name string) (fs.FileInfo, error) {
	if err := i.check(OpStat, name); err != nil {
		return nil, err
	}
	return i.fs.Stat(name)
}

// SyncDir implements FS.
func (i *InjectFS) SyncDir(dir string) error {
	if err := i.check(OpSyncDir, dir); err != nil {
		return err
	}
	return i.fs.SyncDir(dir)
}

// injectFile applies its InjectFS's inject function to file operations.
type injectFile struct {
	f    File
	fs   *InjectFS
	name string
}

func (f *injectFile) Read(p []byte) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *injectFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

// Write writes half of p before failing, to model a short write(2).
func (f *injectFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		n, _ := f.f.Write(p[:len(p)/2])
		return n, err
	}
	return f.f.Write(p)
}

func (f *injectFile) Sync() error {
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *injectFile) Stat() (fs.FileInfo, error) {
	if err := f.fs.check(OpStat, f.name); err != nil {
		return nil, err
	}
	return f.f.Stat()
}

func (f *injectFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

// Close always closes the underlying file, even when it reports an injected
// error, so tests do not leak descriptors.
func (f *injectFile) Close() error {
	err := f.fs.check(OpClose, f.name)
	if cerr := f.f.Close(); cerr != nil {
		return cerr
	}
	return err
}
