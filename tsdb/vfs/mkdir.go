package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// MkdirAllSynced is MkdirAll whose result survives power loss: it fsyncs the
// parent of every directory it creates, from the deepest up. A new directory
// entry is as volatile as a new file's, so a WAL synced inside a directory
// whose own entry was never synced can vanish with it.
func MkdirAllSynced(fsys FS, dir string, perm fs.FileMode) error {
	dir = filepath.Clean(dir)
	// Find the directories that do not exist yet, deepest first.
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := fsys.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("stat %s: %w", d, err)
		}
		created = append(created, d)
		if p := filepath.Dir(d); p == d {
			break
		}
	}
	if len(created) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create dir %s: %w", dir, err)
	}
	for _, d := range created {
		if err := fsys.SyncDir(filepath.Dir(d)); err != nil {
			return fmt.Errorf("sync parent of %s: %w", d, err)
		}
	}
	return nil
}
