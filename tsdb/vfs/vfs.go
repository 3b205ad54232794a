package vfs

import (
	"io"
	"io/fs"
)

// FS is the set of file-system operations the tsdb's durable components use.
//
// Paths are slash- or OS-separated paths as accepted by the os package.
// Errors for a missing file satisfy errors.Is(err, fs.ErrNotExist).
// Implementations are safe for concurrent use.
type FS interface {
	// Create creates name, or truncates it if it exists, and opens it for
	// reading and appending. The new directory entry is durable only after
	// SyncDir of the parent directory.
	Create(name string) (File, error)
	// OpenAppend opens an existing file for reading and appending.
	OpenAppend(name string) (File, error)
	// Open opens an existing file read-only.
	Open(name string) (File, error)
	// Rename atomically replaces newname with oldname. The change is
	// durable only after SyncDir of both parent directories.
	Rename(oldname, newname string) error
	// Remove removes a file or an empty directory. The removal is durable
	// only after SyncDir of the parent directory.
	Remove(name string) error
	// RemoveAll removes path and everything below it. It returns nil if
	// path does not exist.
	RemoveAll(path string) error
	// MkdirAll creates dir and any missing parents. New entries are durable
	// only after SyncDir of their parents.
	MkdirAll(dir string, perm fs.FileMode) error
	// List returns the names of the entries of dir, sorted.
	List(dir string) ([]string, error)
	// Stat describes the named file or directory.
	Stat(name string) (fs.FileInfo, error)
	// SyncDir makes the entries of dir (creates, renames, removes) durable.
	SyncDir(dir string) error
}

// File is an open file. A File is not safe for concurrent use except that
// Sync may run concurrently with Write on files returned by the os-backed FS
// and by MemFS (the WAL's group commit fsyncs while writers append).
//
// Files opened with Create or OpenAppend write only at the end of the file,
// as with O_APPEND.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	// Sync makes the file's contents durable (fsync).
	Sync() error
	// Stat describes the file; Size is its current length.
	Stat() (fs.FileInfo, error)
	// Truncate changes the file's length. The next Write of an appending
	// file lands at the new end.
	Truncate(size int64) error
}

// Op names an FS or File operation, for failure injection.
type Op uint8

// The operations InjectFS can fail.
const (
	OpCreate Op = iota + 1
	OpOpenAppend
	OpOpen
	OpRename
	OpRemove
	OpRemoveAll
	OpMkdirAll
	OpList
	OpStat
	OpSyncDir
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpClose
)

var opNames = [...]string{
	OpCreate:     "create",
	OpOpenAppend: "open-append",
	OpOpen:       "open",
	OpRename:     "rename",
	OpRemove:     "remove",
	OpRemoveAll:  "remove-all",
	OpMkdirAll:   "mkdir-all",
	OpList:       "list",
	OpStat:       "stat",
	OpSyncDir:    "sync-dir",
	OpRead:       "read",
	OpWrite:      "write",
	OpSync:       "sync",
	OpTruncate:   "truncate",
	OpClose:      "close",
}

// String returns the operation's lower-case name, as used in errors.
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "unknown-op"
}
