package wal

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

var (
	// ErrClosed is returned by operations on a closed WAL.
	ErrClosed = errors.New("wal closed")
	// ErrRecordTooLarge is returned by Log for a record above MaxRecordSize
	// or one whose framed size does not fit in an empty segment.
	ErrRecordTooLarge = errors.New("wal record too large")
)

// kickPendingBytes is how many unsynced bytes SyncInterval lets pile up
// before it fsyncs early. It bounds the memory held for rewriting after a
// failed fsync and the data at risk at power loss under heavy load.
const kickPendingBytes = 1 << 20

// pendingKeepBytes is the capacity of pending kept from one sync to the
// next. A slow fsync lets pending grow past it; once syncs have drained
// the excess, the buffer is given back instead of being held for good (a
// 4 MB buffer held for the life of the process at 100k series).
const pendingKeepBytes = 2 * kickPendingBytes

// maxPendingBytes is where SyncInterval stops letting Log run ahead of the
// disk: a Log that finds this much unsynced waits for an fsync, as under
// SyncAlways. It bounds the rescue copy when fsyncs stall.
const maxPendingBytes = 64 << 20

// WAL is an append-only log of opaque records in a directory of segments.
// Its methods are safe for concurrent use.
type WAL struct {
	fs   vfs.FS
	dir  string
	opts Options
	log  *slog.Logger
	m    *metrics

	// dropped is what Open cut from the last segment's tail; set once.
	dropped int64

	mu   sync.Mutex // guards every field below except where noted
	cond *sync.Cond // on mu; broadcast when a group fsync ends
	// seg is the segment Log appends to; nil while broken (after a failure
	// that could not yet be recovered from) and after Close.
	seg *segment
	// orphan (SyncInterval only) is a segment whose fsync failed; its
	// unsynced tail lives in pending until rewritten into a new segment.
	orphan *segment
	// broken is why seg is nil; the next Log retries recovery first.
	broken      error
	first, last int // segment indices on disk, first..last
	closed      bool

	buf     []byte // encoded records of the Log in progress
	bounds  []int  // end offset in buf of each encoded record
	scratch []byte // snappy output

	// pending (SyncInterval only) holds seg's bytes from seg.synced to
	// seg.size: acknowledged but not yet fsynced, kept so a failed fsync
	// can rewrite them instead of trusting the kernel's page cache.
	pending []byte

	writtenSeq uint64    // incremented by every successful write
	waiters    []*waiter // callers waiting for an fsync, ascending seq
	syncing    bool      // a group fsync leader is running

	// fileMu is held around every fsync and close of a segment file, so a
	// roll or failure cannot close a file a group-commit leader is
	// fsyncing without mu. Lock order: mu, then fileMu.
	fileMu sync.Mutex

	kick chan struct{} // asks the background syncer to sync now
	stop chan struct{} // closed by Close to stop the background syncer
	done chan struct{} // closed when the background syncer has returned
}

// segment is an open segment file.
type segment struct {
	index int
	name  string
	f     vfs.File
	size  int64 // bytes written; guarded by WAL.mu
	// synced is how much of the file is known durable; guarded by WAL.mu.
	synced int64
	// syncErr is sticky: once an fsync of this file failed, Linux may have
	// dropped dirty pages and later fsyncs can falsely succeed, so the
	// segment is never trusted again. Guarded by WAL.fileMu.
	syncErr error
}

// waiter is a caller waiting until everything written up to seq is durable.
type waiter struct {
	seq  uint64
	done bool
	err  error
}

// Open opens the WAL in dir, creating the directory if needed.
//
// It repairs the last segment: a torn or corrupt tail (what a crash during a
// write leaves) is cut at the last good record, the dropped byte count is
// logged and counted in stratus_wal_corruptions_total, and appending resumes
// there. Earlier segments are left for the Reader, which reports and skips
// damage in them. Open never panics on disk contents.
func Open(fsys vfs.FS, dir string, opts Options) (*WAL, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	opts = opts.withDefaults()
	w := &WAL{
		fs:   fsys,
		dir:  dir,
		opts: opts,
		log:  opts.Logger.With("component", "wal", "dir", dir),
		m:    newMetrics(opts.Registerer),
	}
	w.cond = sync.NewCond(&w.mu)
	// The directory's own entry must survive power loss too, or a synced
	// segment could vanish with it.
	if err := vfs.MkdirAllSynced(fsys, dir, 0o755); err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	segs, err := listSegments(fsys, dir)
	if err != nil {
		return nil, err
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if len(segs) == 0 {
		w.first = 1
		if err := w.openSegmentLocked(1, nil); err != nil {
			return nil, fmt.Errorf("open wal %s: %w", dir, err)
		}
	} else {
		w.first, w.last = segs[0], segs[len(segs)-1]
		if err := w.resumeLocked(); err != nil {
			return nil, fmt.Errorf("open wal %s: %w", dir, err)
		}
	}
	if opts.SyncPolicy == SyncInterval {
		w.kick = make(chan struct{}, 1)
		w.stop = make(chan struct{})
		w.done = make(chan struct{})
		go w.run()
	}
	return w, nil
}

// resumeLocked repairs the last segment and makes it (or a fresh segment,
// if it is full) the one Log appends to.
func (w *WAL) resumeLocked() error {
	name := w.segmentPath(w.last)
	size, validEnd, reason, err := scanSegment(w.fs, name)
	if err != nil {
		return err
	}
	f, err := w.fs.OpenAppend(name)
	if err != nil {
		return fmt.Errorf("open wal segment %s: %w", name, err)
	}
	if validEnd < size || validEnd < segmentHeaderSize {
		if validEnd < size {
			w.dropped = size - validEnd
			w.m.corruptions.Inc()
			w.log.Warn("truncating torn or corrupt wal tail",
				"segment", name, "offset", validEnd, "dropped_bytes", w.dropped, "reason", reason)
		}
		if err := w.truncateTail(f, name, validEnd); err != nil {
			_ = f.Close()
			return err
		}
		size = max(validEnd, segmentHeaderSize)
	}
	s := &segment{index: w.last, name: name, f: f, size: size, synced: size}
	w.seg = s
	w.updateSegmentsGauge()
	if size >= w.opts.SegmentSize-recordHeaderSize {
		return w.rollLocked()
	}
	return nil
}

// truncateTail cuts a segment to validEnd, rewriting the header if even it
// was torn, and fsyncs the result so the repair itself survives power loss.
func (w *WAL) truncateTail(f vfs.File, name string, validEnd int64) error {
	if err := f.Truncate(validEnd); err != nil {
		return fmt.Errorf("truncate wal segment %s to %d: %w", name, validEnd, err)
	}
	if validEnd < segmentHeaderSize {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("truncate wal segment %s: %w", name, err)
		}
		if _, err := f.Write(appendSegmentHeader(nil)); err != nil {
			return fmt.Errorf("rewrite wal segment header %s: %w", name, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync repaired wal segment %s: %w", name, err)
	}
	return nil
}

func (w *WAL) segmentPath(i int) string {
	return filepath.Join(w.dir, segmentName(i))
}

func (w *WAL) updateSegmentsGauge() {
	w.m.segments.Set(float64(w.last - w.first + 1))
}

// DroppedBytes returns how many bytes Open cut from a torn or corrupt tail
// of the last segment (zero after a clean shutdown).
func (w *WAL) DroppedBytes() int64 { return w.dropped }

// Dir returns the WAL's directory.
func (w *WAL) Dir() string { return w.dir }

// Log appends recs, in order, and returns once they are as durable as the
// sync policy promises: written to the kernel under every policy, and also
// fsynced under SyncAlways. The WAL does not keep recs after Log returns.
//
// On error the records are not acknowledged. A partially written record is
// cut away; the exception is a Log whose records span a segment roll, where
// records before the roll may have been logged. After an fsync failure,
// records of failed calls may or may not be replayed (their outcome is
// unknown, as with any failed commit). Later calls succeed once the cause
// (a full or read-only disk) goes away.
func (w *WAL) Log(recs ...[]byte) error {
	if len(recs) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.encodeLocked(recs); err != nil {
		return err
	}
	if err := w.ensureSegmentLocked(); err != nil {
		return err
	}
	if err := w.writeEncodedLocked(); err != nil {
		return err
	}
	w.m.recordsWritten.Add(float64(len(recs)))
	switch w.opts.SyncPolicy {
	case SyncAlways:
		wt := &waiter{seq: w.writtenSeq}
		w.waiters = append(w.waiters, wt)
		return w.waitLocked(wt)
	case SyncInterval:
		if len(w.pending) >= maxPendingBytes {
			wt := &waiter{seq: w.writtenSeq}
			w.waiters = append(w.waiters, wt)
			return w.waitLocked(wt)
		}
		if len(w.pending) >= kickPendingBytes {
			select {
			case w.kick <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// encodeLocked frames recs into w.buf, recording where each ends.
func (w *WAL) encodeLocked(recs [][]byte) error {
	w.buf, w.bounds = w.buf[:0], w.bounds[:0]
	maxFramed := w.opts.SegmentSize - segmentHeaderSize
	for i, r := range recs {
		if len(r) > MaxRecordSize {
			return fmt.Errorf("log record %d of %d bytes: %w", i, len(r), ErrRecordTooLarge)
		}
		start := len(w.buf)
		w.buf, w.scratch = appendRecord(w.buf, r, !w.opts.DisableCompression, w.scratch)
		if n := int64(len(w.buf) - start); n > maxFramed {
			return fmt.Errorf("log record %d framed to %d bytes, segment holds %d: %w", i, n, maxFramed, ErrRecordTooLarge)
		}
		w.bounds = append(w.bounds, len(w.buf))
	}
	return nil
}

// writeEncodedLocked writes w.buf to the current segment, rolling to a new
// segment before any record that would not fit. Records that fit are
// written with one write(2).
func (w *WAL) writeEncodedLocked() error {
	start := 0 // start of the unwritten part of w.buf
	for j, end := range w.bounds {
		recStart := 0
		if j > 0 {
			recStart = w.bounds[j-1]
		}
		if w.seg.size+int64(end-start) <= w.opts.SegmentSize {
			continue
		}
		if recStart > start {
			if err := w.writeLocked(w.buf[start:recStart]); err != nil {
				return err
			}
			start = recStart
		}
		if w.seg.size > segmentHeaderSize {
			if err := w.rollLocked(); err != nil {
				return err
			}
		}
	}
	return w.writeLocked(w.buf[start:])
}

// writeLocked appends p to the current segment. On failure it cuts the
// segment back to its length before the write, so a torn record never
// precedes later records; if even that fails, the segment is abandoned.
func (w *WAL) writeLocked(p []byte) error {
	seg := w.seg
	_, err := seg.f.Write(p)
	if err == nil {
		seg.size += int64(len(p))
		w.writtenSeq++
		w.m.bytesWritten.Add(float64(len(p)))
		if w.opts.SyncPolicy == SyncInterval {
			w.pending = append(w.pending, p...)
		}
		return nil
	}
	w.m.writeFailures.Inc()
	werr := fmt.Errorf("write wal segment %s: %w", seg.name, err)
	if terr := seg.f.Truncate(seg.size); terr != nil {
		w.failLocked(fmt.Errorf("truncate torn wal segment %s: %w", seg.name, terr))
	}
	return werr
}

// ensureSegmentLocked makes sure there is a segment to append to,
// retrying recovery from an earlier failure.
func (w *WAL) ensureSegmentLocked() error {
	if w.seg != nil {
		return nil
	}
	if w.closed {
		return ErrClosed
	}
	return w.reopenLocked()
}

// Cut closes the current segment (fsyncing it) and starts a new one, so that
// everything logged so far lies in segments before the returned index. The
// tsdb cuts before writing a checkpoint.
func (w *WAL) Cut() (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	if err := w.ensureSegmentLocked(); err != nil {
		return 0, err
	}
	if err := w.rollLocked(); err != nil {
		return 0, err
	}
	return w.seg.index, nil
}

// rollLocked fsyncs and closes the current segment and opens the next.
func (w *WAL) rollLocked() error {
	seg := w.seg
	w.fileMu.Lock()
	err := w.syncFileMuLocked(seg)
	if err == nil {
		if cerr := seg.f.Close(); cerr != nil {
			w.log.Warn("closing synced wal segment failed", "segment", seg.name, "err", cerr)
		}
	}
	w.fileMu.Unlock()
	if err != nil {
		// failLocked starts a new segment if it can, which is what a roll
		// wanted anyway. The caller still fails: under SyncAlways its
		// records before the roll were cut away with the segment's tail.
		w.failLocked(err)
		return err
	}
	seg.synced = seg.size
	w.pending = w.pending[:0]
	w.trimPendingLocked()
	w.resolveLocked(w.writtenSeq, nil)
	w.seg = nil
	return w.openSegmentLocked(w.last+1, nil)
}

// trimPendingLocked replaces an oversized pending buffer, once syncs have
// drained it to at most half of pendingKeepBytes, by one of
// pendingKeepBytes, so a peak costs memory only while it lasts.
func (w *WAL) trimPendingLocked() {
	if cap(w.pending) > pendingKeepBytes && len(w.pending) <= pendingKeepBytes/2 {
		w.pending = append(make([]byte, 0, pendingKeepBytes), w.pending...)
	}
}

// openSegmentLocked creates segment index, writes its header and prefill
// (records rescued from a failed segment), fsyncs it and makes its
// directory entry durable. Syncing the header up front, once per segment,
// keeps two invariants simple: every segment on disk has a durable header,
// and pending always equals the bytes from seg.synced to seg.size. On
// failure the WAL is left broken.
func (w *WAL) openSegmentLocked(index int, prefill []byte) error {
	name := w.segmentPath(index)
	fail := func(err error) error {
		w.m.writeFailures.Inc()
		w.seg = nil
		w.broken = err
		return err
	}
	f, err := w.fs.Create(name)
	if err != nil {
		return fail(fmt.Errorf("create wal segment %s: %w", name, err))
	}
	cleanup := func(err error) error {
		_ = f.Close()
		// Best effort: a leftover file is harmless, because the retry
		// recreates the same index and Open repairs a torn last segment.
		_ = w.fs.Remove(name)
		return fail(err)
	}
	buf := appendSegmentHeader(make([]byte, 0, segmentHeaderSize+len(prefill)))
	buf = append(buf, prefill...)
	if _, err := f.Write(buf); err != nil {
		return cleanup(fmt.Errorf("write wal segment %s: %w", name, err))
	}
	s := &segment{index: index, name: name, f: f, size: int64(len(buf))}
	w.fileMu.Lock()
	err = w.syncFileMuLocked(s)
	w.fileMu.Unlock()
	if err != nil {
		return cleanup(err)
	}
	s.synced = s.size
	if err := w.fs.SyncDir(w.dir); err != nil {
		return cleanup(fmt.Errorf("sync wal dir %s: %w", w.dir, err))
	}
	w.seg, w.broken = s, nil
	w.last = index
	w.updateSegmentsGauge()
	return nil
}

// Segments returns the indices of the first and last segment on disk.
func (w *WAL) Segments() (first, last int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, 0, ErrClosed
	}
	return w.first, w.last, nil
}

// Truncate removes the segments with index below before. The tsdb calls it
// once a checkpoint covers them. The current segment is never removed.
func (w *WAL) Truncate(before int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	before = min(before, w.last)
	if before <= w.first {
		return nil
	}
	// Ascending order keeps the remaining segments contiguous even if we
	// crash halfway.
	for i := w.first; i < before; i++ {
		name := w.segmentPath(i)
		if err := w.fs.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove wal segment %s: %w", name, err)
		}
		w.first = i + 1
		w.updateSegmentsGauge()
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fmt.Errorf("sync wal dir %s: %w", w.dir, err)
	}
	return nil
}

// Close makes everything logged durable, stops the background syncer and
// closes the files. Log calls after Close return ErrClosed.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	if w.stop != nil {
		close(w.stop)
		<-w.done
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	var err error
	if w.seg == nil && w.orphan != nil {
		// Rescue acknowledged records held since a failed fsync.
		err = w.reopenLocked()
	}
	if w.seg != nil {
		wt := &waiter{seq: w.writtenSeq}
		w.waiters = append(w.waiters, wt)
		err = w.waitLocked(wt)
	}
	for w.syncing {
		w.cond.Wait()
	}
	w.fileMu.Lock()
	for _, s := range []*segment{w.seg, w.orphan} {
		if s == nil {
			continue
		}
		if cerr := s.f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close wal segment %s: %w", s.name, cerr)
		}
	}
	w.fileMu.Unlock()
	w.seg, w.orphan = nil, nil
	w.resolveAllLocked(ErrClosed)
	return err
}
