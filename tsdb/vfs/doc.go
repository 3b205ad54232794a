// Package vfs is the small file-system interface that the durable parts of
// the tsdb (the write-ahead log today, checkpoint writing later) are written
// against, so that their crash behaviour can be tested without real crashes.
//
// The package owns three things:
//
//   - The [FS] and [File] interfaces: exactly the operations the WAL and the
//     checkpointer need (create, append, read, rename, remove, list, stat,
//     truncate, fsync of a file and of a directory), and nothing else.
//   - [Default] (also [OS]), backed by the os package. Its SyncDir opens the
//     directory and fsyncs it, which is what makes a create, rename or remove
//     durable on Linux.
//   - [MemFS], an in-memory FS that records what has been made durable, in the
//     spirit of pebble's vfs/mem_fs.go: file contents become durable on
//     [File.Sync], directory entries (creates, renames, removes) only on
//     [FS.SyncDir] of their parent. [MemFS.CrashClone] returns the state a
//     machine would see after power loss; [MemFS.CrashCloneTorn] additionally
//     keeps a random prefix of each file's unsynced appended bytes, as a torn
//     write would.
//   - [InjectFS], a wrapper that fails chosen operations with chosen errors
//     (syscall.ENOSPC, syscall.EROFS, ...), so tests can drive the WAL
//     through its failure paths.
//
// Data flows one way: the WAL calls FS methods; nothing in this package calls
// back. Files opened for writing always append (O_APPEND), so after a
// Truncate the next Write continues at the new end; the WAL relies on that to
// cut a partially written record away.
package vfs
