// Package wal is the tsdb's write-ahead log: an append-only sequence of
// opaque records, framed and checksummed, in a directory of bounded segment
// files. The tsdb encodes series and sample records; this package only
// frames, stores, syncs and replays them. The byte layout is in FORMAT.md.
//
// # Data flow
//
// Ingest calls [WAL.Log] with encoded records before appending to the head
// and before acknowledging the client. Log frames each record (CRC32C,
// flags, length; snappy when it shrinks the payload), writes the batch to
// the current segment with one write(2), rolls to a new segment when the
// next record would not fit (a record never spans segments), and then waits
// as long as the [SyncPolicy] requires. After a checkpoint the tsdb calls
// [WAL.Cut] and, once the checkpoint is durable, [WAL.Truncate] to drop the
// segments it covers. On start the tsdb replays with a [Reader] from the
// first segment the checkpoint does not cover, then opens the WAL with
// [Open], which repairs a torn tail of the last segment.
//
// # What each sync policy promises
//
// A process crash (kill -9, panic, OOM kill) loses no acknowledged record
// under any policy: Log returns only after the bytes were handed to the
// kernel with write(2), never while they sit in a user-space buffer.
// Power loss (or a kernel crash) is different:
//
//   - [SyncAlways]: Log returns after fsync. Power loss loses no
//     acknowledged record. Concurrent Log calls share fsyncs (group commit),
//     so throughput grows with the number of writers.
//   - [SyncInterval] (default): a background goroutine fsyncs every
//     Options.SyncInterval (1s), and early once 1 MiB is unsynced (Log
//     waits for an fsync if 64 MiB pile up, e.g. on a stalled disk). Power
//     loss may lose records acknowledged within the last interval; what
//     survives is always a prefix of what was logged.
//   - [SyncNone]: fsync only when a segment is closed (roll, Cut, Close) or
//     on [WAL.Sync]. Power loss may lose everything in the open segment.
//
// [WAL.Sync] is an explicit sync point under every policy.
//
// # Failures
//
// If a write fails (ENOSPC, EROFS, EIO), Log returns an error naming the
// segment and the failed operation, and the partial record is truncated
// away so replay never sees it. If an fsync fails, the segment is never
// trusted again: on Linux the kernel may have dropped the unwritable pages
// and a retried fsync can falsely succeed. Log continues in a new segment;
// under SyncInterval the acknowledged-but-unsynced records are rewritten
// there from an in-memory copy first. Until a new segment can be created,
// Log fails; once the disk recovers, Log succeeds again without a restart.
// See sync.go for why rewriting was chosen over failing until reopened.
//
// # Damage on disk
//
// [Open] cuts a torn or corrupt tail of the last segment at the last good
// record, logs how many bytes it dropped and counts it in
// stratus_wal_corruptions_total. A [Reader] ends cleanly at damage in the
// last segment and skips to the next segment after damage in an earlier
// one, reporting both through [Reader.Corruptions]. Neither panics on any
// disk contents (fuzzed).
//
// # Concurrency and ownership
//
// A WAL is safe for concurrent use. It owns one goroutine (the SyncInterval
// background syncer), started by Open and stopped by Close. A Reader is for
// one goroutine. Log does not retain the caller's slices; Reader.Record is
// valid until the next Next.
package wal
