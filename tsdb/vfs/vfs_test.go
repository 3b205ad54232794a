package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestConformance runs one suite against every FS, so MemFS keeps behaving
// like the real thing where the WAL depends on it.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   func(t *testing.T) (FS, string)
	}{
		{"os", func(t *testing.T) (FS, string) { return Default, t.TempDir() }},
		{"mem", func(t *testing.T) (FS, string) { return NewMemFS(), "/root/dir" }},
		{"inject-nop", func(t *testing.T) (FS, string) {
			return NewInjectFS(NewMemFS(), func(Op, string) error { return nil }), "rel"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, dir := tc.fs(t)
			testConformance(t, fsys, dir)
		})
	}
}

func testConformance(t *testing.T, fsys FS, dir string) {
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(MkdirAllSynced(fsys, filepath.Join(dir, "sub"), 0o755))
	must(fsys.MkdirAll(filepath.Join(dir, "sub"), 0o755)) // idempotent
	a := filepath.Join(dir, "a")

	f, err := fsys.Create(a)
	must(err)
	_, err = f.Write([]byte("hello "))
	must(err)
	_, err = f.Write([]byte("world"))
	must(err)
	must(f.Sync())
	// Truncate, then Write lands at the new end (append semantics).
	must(f.Truncate(5))
	_, err = f.Write([]byte("!"))
	must(err)
	fi, err := f.Stat()
	must(err)
	if fi.Size() != 6 {
		t.Fatalf("size = %d, want 6", fi.Size())
	}
	buf := make([]byte, 3)
	n, err := f.ReadAt(buf, 3)
	if n != 3 || string(buf) != "lo!" {
		t.Fatalf("ReadAt = %d %q %v", n, buf, err)
	}
	must(f.Close())

	f, err = fsys.OpenAppend(a)
	must(err)
	_, err = f.Write([]byte("?"))
	must(err)
	must(f.Close())

	f, err = fsys.Open(a)
	must(err)
	got, err := io.ReadAll(f)
	must(err)
	if string(got) != "hello!?" {
		t.Fatalf("contents = %q", got)
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Fatal("Write to a read-only file succeeded")
	}
	must(f.Close())

	b := filepath.Join(dir, "b")
	must(fsys.Rename(a, b))
	if _, err := fsys.Stat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of renamed-away file: %v", err)
	}
	names, err := fsys.List(dir)
	must(err)
	if !slices.Equal(names, []string{"b", "sub"}) {
		t.Fatalf("List = %v", names)
	}
	must(fsys.SyncDir(dir))
	if _, err := fsys.Open(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open missing: %v", err)
	}
	must(fsys.Remove(b))
	must(fsys.RemoveAll(filepath.Join(dir, "sub")))
	must(fsys.RemoveAll(filepath.Join(dir, "never-existed")))
	names, err = fsys.List(dir)
	must(err)
	if len(names) != 0 {
		t.Fatalf("List after removes = %v", names)
	}
}

func writeFile(t *testing.T, fsys FS, name, data string, sync bool) {
	t.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func contents(t *testing.T, fsys FS, name string) (string, bool) {
	t.Helper()
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func TestMemFSCrash(t *testing.T) {
	m := NewMemFS()
	if err := MkdirAllSynced(m, "d", 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, m, "d/synced", "durable", true)
	writeFile(t, m, "d/unsynced-data", "lost", false)
	if err := m.SyncDir("d"); err != nil {
		t.Fatal(err)
	}
	// Appended but unsynced bytes are lost; synced ones stay.
	f, err := m.OpenAppend("d/synced")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("+tail")); err != nil {
		t.Fatal(err)
	}

	// A rename is durable only after SyncDir: before it, the old name holds.
	writeFile(t, m, "d/tmp", "renamed", true)
	if err := m.SyncDir("d"); err != nil {
		t.Fatal(err)
	}
	if err := m.Rename("d/tmp", "d/final"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, m, "d/unsynced-entry", "lost too", true) // data synced, entry not

	c := m.CrashClone()
	for name, want := range map[string]string{
		"d/synced": "durable", "d/unsynced-data": "", "d/tmp": "renamed",
	} {
		if got, ok := contents(t, c, name); !ok || got != want {
			t.Errorf("%s after crash = %q, %v; want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"d/unsynced-entry", "d/final"} {
		if _, ok := contents(t, c, name); ok {
			t.Errorf("%s survived the crash without a SyncDir", name)
		}
	}

	// Torn: a prefix of the unsynced tail, never more, never reordered.
	seen := map[string]bool{}
	for seed := uint64(0); seed < 50; seed++ {
		got, _ := contents(t, m.CrashCloneTorn(rand.New(rand.NewPCG(seed, 0))), "d/synced")
		if !bytes.HasPrefix([]byte("durable+tail"), []byte(got)) || len(got) < len("durable") {
			t.Fatalf("torn contents %q", got)
		}
		seen[got] = true
	}
	if len(seen) < 3 {
		t.Fatalf("torn clones show only %v", seen)
	}
	_ = f.Close()

	// After SyncDir the rename is durable; the crashed clone is usable.
	if err := m.SyncDir("d"); err != nil {
		t.Fatal(err)
	}
	c = m.CrashClone()
	if got, _ := contents(t, c, "d/final"); got != "renamed" {
		t.Fatalf("d/final after SyncDir and crash = %q", got)
	}
	writeFile(t, c, "d/new", "x", true)
}

func TestMemFSTruncateSynced(t *testing.T) {
	m := NewMemFS()
	writeFile(t, m, "f", "0123456789", true)
	if err := m.SyncDir("/"); err != nil {
		t.Fatal(err)
	}
	f, _ := m.OpenAppend("f")
	if err := f.Truncate(4); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	// Not yet synced: the crash keeps the old contents.
	if got, _ := contents(t, m.CrashCloneTorn(rand.New(rand.NewPCG(1, 1))), "f"); got != "0123456789" {
		t.Fatalf("crash before sync = %q", got)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got, _ := contents(t, m.CrashClone(), "f"); got != "0123ab" {
		t.Fatalf("crash after sync = %q", got)
	}
	_ = f.Close()
}

func TestInjectFS(t *testing.T) {
	var fail Op
	m := NewMemFS()
	fsys := NewInjectFS(m, func(op Op, _ string) error {
		if op == fail {
			return syscall.ENOSPC
		}
		return nil
	})
	f, err := fsys.Create("f")
	if err != nil {
		t.Fatal(err)
	}
	fail = OpWrite
	n, err := f.Write([]byte("abcdef"))
	if !errors.Is(err, syscall.ENOSPC) || n != 3 {
		t.Fatalf("Write = %d, %v; want a short write of 3 and ENOSPC", n, err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != "write" || pe.Path != "f" {
		t.Fatalf("error %v is not a PathError naming the op and file", err)
	}
	fail = OpSync
	if err := f.Sync(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Sync = %v", err)
	}
	fail = OpRename
	if err := fsys.Rename("f", "g"); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Rename = %v", err)
	}
	fail = 0
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := contents(t, m, "f"); got != "abc" {
		t.Fatalf("contents = %q", got)
	}
	if OpSyncDir.String() != "sync-dir" || Op(200).String() != "unknown-op" {
		t.Fatal("Op.String")
	}
}
