package wal

import (
	"errors"
	"fmt"
	"time"
)

// This file holds the durability machinery: group commit, the background
// syncer, and recovery from failed writes and fsyncs.
//
// Group commit is leader/follower. A caller that needs its writes durable
// registers a waiter and, if no fsync is running, becomes the leader: it
// notes how far the log has been written, releases mu (so other writers keep
// appending with write(2)) and fsyncs. Callers arriving meanwhile wait; when
// the fsync ends, the waiters it covered return and one of the rest leads the
// next fsync, which covers all of them at once. With 8 writers, one fsync
// serves up to 8 Log calls.
//
// Failed fsync. On Linux a failed fsync may have dropped the dirty pages it
// could not write, marking them clean, and a second fsync then reports
// success for data that is not on disk. So a segment whose fsync failed is
// never trusted again (segment.syncErr is sticky) and Log moves to a new
// segment. What happens to the unsynced tail depends on what was promised:
//   - SyncAlways acknowledged nothing past the last good fsync, so the tail
//     is cut away and its waiting callers get the error.
//   - SyncInterval acknowledged the tail (to survive a process crash), so it
//     keeps those bytes in memory (pending) and rewrites them into the new
//     segment, fsyncs that, and only then cuts the old tail away. A crash in
//     between can replay those records twice; it never loses them.
//   - SyncNone promised nothing past a process crash; the tail stays as the
//     kernel left it.
//
// We chose rewriting over "fail until reopened" because a WAL that stays
// failed turns a transient ENOSPC into an ingest outage that needs a restart.

// waitLocked blocks until wt is resolved, leading group fsyncs as needed.
func (w *WAL) waitLocked(wt *waiter) error {
	for !wt.done {
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.leadSyncLocked()
	}
	return wt.err
}

// leadSyncLocked runs one group fsync of the current segment without
// holding mu during the fsync, then resolves the waiters it covered.
func (w *WAL) leadSyncLocked() {
	seg := w.seg
	if seg == nil {
		err := w.broken
		if err == nil {
			err = ErrClosed
		}
		w.resolveAllLocked(err)
		return
	}
	target, off := w.writtenSeq, seg.size
	w.syncing = true
	w.fileMu.Lock()
	w.mu.Unlock()
	err := w.syncFileMuLocked(seg)
	w.fileMu.Unlock()
	w.mu.Lock()
	w.syncing = false
	defer w.cond.Broadcast()

	if seg != w.seg {
		// A roll, failure or Close took the segment over while we synced;
		// it resolved every waiter we covered.
		return
	}
	if err != nil {
		w.failLocked(err)
		return
	}
	if off > seg.synced {
		if w.opts.SyncPolicy == SyncInterval {
			if int64(len(w.pending)) != seg.size-seg.synced {
				panic(fmt.Sprintf("BUG: wal pending holds %d bytes, segment has %d unsynced", len(w.pending), seg.size-seg.synced))
			}
			n := copy(w.pending, w.pending[off-seg.synced:])
			w.pending = w.pending[:n]
			w.trimPendingLocked()
		}
		seg.synced = off
	}
	w.resolveLocked(target, nil)
}

// syncFileMuLocked fsyncs seg's file; fileMu must be held. Once an fsync of
// a segment failed, it keeps failing (see the file comment).
func (w *WAL) syncFileMuLocked(seg *segment) error {
	if seg.syncErr != nil {
		return seg.syncErr
	}
	start := time.Now()
	err := seg.f.Sync()
	w.m.fsyncDuration.Observe(time.Since(start).Seconds())
	w.m.fsyncs.Inc()
	if err != nil {
		w.m.writeFailures.Inc()
		seg.syncErr = fmt.Errorf("sync wal segment %s: %w", seg.name, err)
	}
	return seg.syncErr
}

// resolveLocked completes the waiters with seq <= upTo.
func (w *WAL) resolveLocked(upTo uint64, err error) {
	i := 0
	for ; i < len(w.waiters) && w.waiters[i].seq <= upTo; i++ {
		w.waiters[i].done, w.waiters[i].err = true, err
		w.waiters[i] = nil
	}
	if i > 0 {
		n := copy(w.waiters, w.waiters[i:])
		clear(w.waiters[n:])
		w.waiters = w.waiters[:n]
	}
	w.cond.Broadcast()
}

// resolveAllLocked completes every waiter with err.
func (w *WAL) resolveAllLocked(err error) {
	for _, wt := range w.waiters {
		wt.done, wt.err = true, err
	}
	clear(w.waiters)
	w.waiters = w.waiters[:0]
	w.cond.Broadcast()
}

// failLocked abandons the current segment after a failed fsync (or a torn
// write that could not be cut away) and tries to continue in a new one.
// Every waiter is resolved: with the error under SyncAlways and SyncNone,
// with the outcome of the rewrite under SyncInterval.
func (w *WAL) failLocked(cause error) {
	seg := w.seg
	w.seg, w.broken = nil, cause
	if seg != nil {
		w.fileMu.Lock()
		switch w.opts.SyncPolicy {
		case SyncAlways:
			// Nothing past seg.synced was acknowledged; cut it so failed
			// calls are (as far as we can) not replayed.
			if err := seg.f.Truncate(seg.synced); err != nil {
				w.log.Warn("cutting unsynced wal tail failed; failed records may be replayed",
					"segment", seg.name, "err", err)
			}
			_ = seg.f.Close()
		case SyncInterval:
			w.orphan = seg
		default:
			_ = seg.f.Close()
		}
		w.fileMu.Unlock()
	}
	if w.opts.SyncPolicy == SyncAlways {
		w.resolveAllLocked(cause)
	}
	err := w.reopenLocked()
	w.log.Error("wal segment failed; continuing in a new segment", "cause", cause, "recovery_err", err)
	switch {
	case w.opts.SyncPolicy == SyncInterval && err == nil:
		w.resolveAllLocked(nil) // pending data is durable in the new segment
	case err != nil:
		w.resolveAllLocked(errors.Join(cause, err))
	default:
		w.resolveAllLocked(cause)
	}
}

// reopenLocked starts a new segment after a failure. Under SyncInterval it
// first rewrites the acknowledged-but-unsynced bytes of the failed segment
// and fsyncs them, then cuts them from the failed segment.
func (w *WAL) reopenLocked() error {
	var prefill []byte
	if w.orphan != nil {
		prefill = w.pending
	}
	if err := w.openSegmentLocked(w.last+1, prefill); err != nil {
		return fmt.Errorf("recover wal after failure: %w", err)
	}
	if o := w.orphan; o != nil {
		err := o.f.Truncate(o.synced)
		if err == nil {
			err = o.f.Sync()
		}
		if err != nil {
			w.log.Warn("cutting rewritten wal tail failed; its records may be replayed twice",
				"segment", o.name, "err", err)
		}
		_ = o.f.Close()
		w.orphan = nil
	}
	w.pending = w.pending[:0]
	w.trimPendingLocked()
	return nil
}

// Sync makes everything logged so far durable (fsync), whatever the policy.
// Tests and the tsdb use it as an explicit sync point.
func (w *WAL) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.ensureSegmentLocked(); err != nil {
		return err
	}
	if w.seg.synced == w.seg.size && !w.syncing {
		return nil
	}
	wt := &waiter{seq: w.writtenSeq}
	w.waiters = append(w.waiters, wt)
	return w.waitLocked(wt)
}

// run is the background syncer of SyncInterval. The WAL owns it: Open starts
// it and Close stops it and waits for it.
func (w *WAL) run() {
	defer close(w.done)
	t := time.NewTicker(w.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		case <-w.kick:
		}
		if err := w.Sync(); err != nil && !errors.Is(err, ErrClosed) {
			// Nobody to return it to: log it. Log calls see the failure
			// themselves if the WAL could not recover.
			w.log.Warn("background wal sync failed", "err", err)
		}
	}
}
