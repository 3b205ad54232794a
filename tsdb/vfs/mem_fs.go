package vfs

import (
	"bytes"
	"io"
	"io/fs"
	"math/rand/v2"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MemFS is an in-memory FS that can simulate a crash (power loss).
//
// It tracks durability the way a POSIX file system promises it, not the way
// a forgiving one (ext4 with data=ordered) happens to behave: a file's
// contents are durable up to its last File.Sync, and a directory's entries
// (creates, renames, removes, mkdirs) are durable as of its last SyncDir.
// CrashClone returns a new MemFS holding only the durable state, which is
// what tests open after a simulated power loss.
//
// One mutex guards the whole tree; MemFS is a test tool, not a fast path.
type MemFS struct {
	mu   sync.Mutex // guards every memNode reachable from root and open memFiles
	root *memNode
}

// memNode is an inode: a file or a directory. Renames move the same node to
// a new name, so an unsynced rename leaves the old name pointing at it in the
// durable view, as on a real disk.
type memNode struct {
	isDir bool

	// Files.
	data   []byte // current contents, as reads see them
	synced []byte // contents as of the last Sync; never aliases data
	// prefixOK says data[:len(synced)] == synced, so a Sync only needs to
	// copy the appended tail and a torn crash can keep a prefix of it.
	prefixOK bool

	// Directories.
	children       map[string]*memNode // current entries
	syncedChildren map[string]*memNode // entries as of the last SyncDir
}

func newDirNode() *memNode {
	return &memNode{isDir: true, children: map[string]*memNode{}, syncedChildren: map[string]*memNode{}}
}

// NewMemFS returns an empty in-memory FS whose root directory exists.
func NewMemFS() *MemFS {
	return &MemFS{root: newDirNode()}
}

// split cleans name into path components below the root. "/", "." and ""
// all name the root.
func split(name string) []string {
	p := path.Clean("/" + filepath.ToSlash(name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// lookupLocked returns the node at the given components.
func (m *MemFS) lookupLocked(op, name string, parts []string) (*memNode, error) {
	n := m.root
	for _, p := range parts {
		if !n.isDir {
			return nil, &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
		}
		c, ok := n.children[p]
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		n = c
	}
	return n, nil
}

// parentLocked returns the directory holding name and name's base.
func (m *MemFS) parentLocked(op, name string) (*memNode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	dir, err := m.lookupLocked(op, name, parts[:len(parts)-1])
	if err != nil {
		return nil, "", err
	}
	if !dir.isDir {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
	}
	return dir, parts[len(parts)-1], nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parentLocked("create", name)
	if err != nil {
		return nil, err
	}
	n, ok := dir.children[base]
	switch {
	case ok && n.isDir:
		return nil, &fs.PathError{Op: "create", Path: name, Err: syscall.EISDIR}
	case ok:
		// O_TRUNC is not durable until the file is synced.
		n.data = nil
		n.prefixOK = len(n.synced) == 0
	default:
		n = &memNode{prefixOK: true}
		dir.children[base] = n
	}
	return &memFile{fs: m, n: n, name: name, write: true}, nil
}

func (m *MemFS) openLocked(op, name string) (*memNode, error) {
	n, err := m.lookupLocked(op, name, split(name))
	if err != nil {
		return nil, err
	}
	if n.isDir {
		return nil, &fs.PathError{Op: op, Path: name, Err: syscall.EISDIR}
	}
	return n, nil
}

// OpenAppend implements FS.
func (m *MemFS) OpenAppend(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.openLocked("open", name)
	if err != nil {
		return nil, err
	}
	return &memFile{fs: m, n: n, name: name, write: true}, nil
}

// Open implements FS.
func (m *MemFS) Open(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.openLocked("open", name)
	if err != nil {
		return nil, err
	}
	return &memFile{fs: m, n: n, name: name}, nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	odir, obase, err := m.parentLocked("rename", oldname)
	if err != nil {
		return err
	}
	n, ok := odir.children[obase]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	ndir, nbase, err := m.parentLocked("rename", newname)
	if err != nil {
		return err
	}
	if t, ok := ndir.children[nbase]; ok && t.isDir != n.isDir {
		return &fs.PathError{Op: "rename", Path: newname, Err: syscall.EEXIST}
	}
	delete(odir.children, obase)
	ndir.children[nbase] = n
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parentLocked("remove", name)
	if err != nil {
		return err
	}
	n, ok := dir.children[base]
	if !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.isDir && len(n.children) > 0 {
		return &fs.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
	}
	delete(dir.children, base)
	return nil
}

// RemoveAll implements FS.
func (m *MemFS) RemoveAll(p string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := split(p)
	if len(parts) == 0 {
		m.root.children = map[string]*memNode{}
		return nil
	}
	dir, err := m.lookupLocked("removeall", p, parts[:len(parts)-1])
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return err
	}
	if dir.isDir {
		delete(dir.children, parts[len(parts)-1])
	}
	return nil
}

func isNotExist(err error) bool {
	pe, ok := err.(*fs.PathError)
	return ok && pe.Err == fs.ErrNotExist
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string, _ fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.root
	for _, p := range split(dir) {
		c, ok := n.children[p]
		if !ok {
			c = newDirNode()
			n.children[p] = c
		} else if !c.isDir {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		n = c
	}
	return nil
}

// List implements FS.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookupLocked("readdir", dir, split(dir))
	if err != nil {
		return nil, err
	}
	if !n.isDir {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: syscall.ENOTDIR}
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// Stat implements FS.
func (m *MemFS) Stat(name string) (fs.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := split(name)
	n, err := m.lookupLocked("stat", name, parts)
	if err != nil {
		return nil, err
	}
	base := "/"
	if len(parts) > 0 {
		base = parts[len(parts)-1]
	}
	return n.infoLocked(base), nil
}

// SyncDir implements FS: it snapshots dir's entries as the durable ones.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookupLocked("syncdir", dir, split(dir))
	if err != nil {
		return err
	}
	if !n.isDir {
		return &fs.PathError{Op: "syncdir", Path: dir, Err: syscall.ENOTDIR}
	}
	n.syncedChildren = make(map[string]*memNode, len(n.children))
	for k, v := range n.children {
		n.syncedChildren[k] = v
	}
	return nil
}

// CrashClone returns a new MemFS holding only what would survive power loss
// right now: synced file contents under synced directory entries. The
// receiver is unchanged and may keep being used (it models the process that
// was running, which a test usually abandons).
func (m *MemFS) CrashClone() *MemFS {
	return m.crashClone(nil)
}

// CrashCloneTorn is CrashClone, except that each file whose unsynced bytes
// were appended after its synced contents keeps a random prefix (possibly
// empty, possibly all) of those bytes, as a torn write at power loss would.
// The rng is injected so a failing test can be replayed exactly.
func (m *MemFS) CrashCloneTorn(rng *rand.Rand) *MemFS {
	return m.crashClone(rng)
}

func (m *MemFS) crashClone(rng *rand.Rand) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[*memNode]*memNode{}
	var clone func(n *memNode) *memNode
	clone = func(n *memNode) *memNode {
		if c, ok := seen[n]; ok {
			return c
		}
		var c *memNode
		if n.isDir {
			c = newDirNode()
			seen[n] = c
			for name, child := range n.syncedChildren {
				cc := clone(child)
				c.children[name] = cc
				c.syncedChildren[name] = cc
			}
			return c
		}
		data := bytes.Clone(n.synced)
		if rng != nil && n.prefixOK && len(n.data) > len(n.synced) {
			extra := rng.IntN(len(n.data) - len(n.synced) + 1)
			data = append(data, n.data[len(n.synced):len(n.synced)+extra]...)
		}
		c = &memNode{data: data, synced: bytes.Clone(data), prefixOK: true}
		seen[n] = c
		return c
	}
	root := clone(m.root)
	return &MemFS{root: root}
}

func (n *memNode) infoLocked(name string) memInfo {
	if n.isDir {
		return memInfo{name: name, dir: true}
	}
	return memInfo{name: name, size: int64(len(n.data))}
}

// memInfo implements fs.FileInfo.
type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }

// memFile is an open MemFS file. Reads use their own offset; writes always
// append, as with O_APPEND.
type memFile struct {
	fs     *MemFS
	n      *memNode
	name   string
	write  bool
	off    int64 // read offset; guarded by fs.mu
	closed bool  // guarded by fs.mu
}

func (f *memFile) checkLocked(op string, write bool) error {
	if f.closed {
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if write && !f.write {
		return &fs.PathError{Op: op, Path: f.name, Err: syscall.EBADF}
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("read", false); err != nil {
		return 0, err
	}
	if f.off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[f.off:])
	f.off += int64(n)
	return n, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("write", true); err != nil {
		return 0, err
	}
	f.n.data = append(f.n.data, p...)
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("sync", false); err != nil {
		return err
	}
	n := f.n
	if n.prefixOK {
		n.synced = append(n.synced, n.data[len(n.synced):]...)
	} else {
		n.synced = bytes.Clone(n.data)
		n.prefixOK = true
	}
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("stat", false); err != nil {
		return nil, err
	}
	return f.n.infoLocked(path.Base(filepath.ToSlash(f.name))), nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	n := f.n
	if size <= int64(len(n.data)) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	if size < int64(len(n.synced)) {
		n.prefixOK = false
	}
	return nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}
