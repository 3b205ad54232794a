package tsdb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
)

// A head snapshot (head.snap) holds every live series' key and unsealed
// samples — head chunks with their appender state, the pending sample and
// the out-of-order buffer — as of a WAL cut. Once it is durable, every WAL
// segment before the cut is deleted: each sample in them is either in a
// block file or in the snapshot. Start-up then loads the snapshot instead
// of replaying hours of WAL, and replays only the segments from the cut.
//
// A series' state is copied under its own lock while appends go on, so the
// snapshot may also hold samples logged after the cut; replaying those is
// harmless, because a sample written twice with the same timestamp and
// value stores once. Layout: FORMAT.md, "Head snapshot".
const (
	headSnapshotName  = "head.snap"
	headSnapshotMagic = "STRH"
)

// snapshotHeadLocked writes a head snapshot and truncates the WAL before
// it. The caller holds maintMu. Failures are logged and retried later.
func (db *DB) snapshotHeadLocked() {
	start := time.Now()
	seg, err := db.wal.Cut()
	if err != nil {
		db.m.checkpointFailures.Inc()
		db.logger.Error("head snapshot: cut wal segment; will retry", "err", err)
		return
	}
	// Series are only removed by retention, under maintMu, which the caller
	// holds: the count of series up to last stays exact while writing.
	last := db.nextID.Load()
	count := 0
	for range db.seriesUpTo(last) {
		count++
	}
	var n int
	size, err := db.writeFileAtomic(filepath.Join(db.dir, headSnapshotName), func(w *bufio.Writer) error {
		w.Write(ckptHeader(headSnapshotMagic, db.sealedBefore.Load(), int64(seg), uint32(count)))
		var (
			entry, payload []byte
			cs             chunkScratch
			err            error
		)
		for s := range db.seriesUpTo(last) {
			if s.id%dropPagesEvery == 0 {
				db.chunks.dropReadPages()
			}
			s.mu.Lock()
			payload, err = db.appendHeadState(payload[:0], s, &cs)
			s.mu.Unlock()
			if err != nil {
				return err
			}
			entry = appendEntry(entry[:0], s.id, payload)
			if _, err := w.Write(entry); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		db.m.checkpointFailures.Inc()
		db.logger.Error("head snapshot failed; will retry", "err", err)
		return
	}
	db.chunks.dropReadPages()
	db.ckpt.lastSnapshot = db.opts.Now()
	db.m.snapshotBytes.Set(float64(size))
	db.m.snapshotDuration.Observe(time.Since(start).Seconds())
	if err := db.wal.Truncate(seg); err != nil {
		db.logger.Error("truncate wal after head snapshot; will retry", "err", err)
	}
	db.logger.Info("head snapshot written", "series", n, "bytes", size, "wal_segment", seg, "duration", time.Since(start))
}

// appendHeadState encodes a series' key and head: uvarint key length, key,
// uvarint chunk count, per chunk (closed ones, then the open one) varint
// window start and the chunk state, a pending flag (0/1) with varint
// timestamp and 8-byte value, and uvarint out-of-order count with varint
// timestamp and 8-byte value each. The caller holds s.mu.
func (db *DB) appendHeadState(dst []byte, s *memSeries, cs *chunkScratch) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(s.key)))
	dst = append(dst, s.key...)
	n := int(s.nClosed)
	if s.head.NumSamples() > 0 {
		n++
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	if s.nClosed > 0 {
		var err error
		cs.closed, cs.rec, err = db.chunks.chunks(cs.closed[:0], s.closed, int(s.nClosed), math.MinInt64, cs.rec[:0])
		if err != nil {
			return dst, fmt.Errorf("read closed head chunks of series %d: %w", s.id, err)
		}
		for i := range cs.closed {
			dst = binary.AppendVarint(dst, cs.closed[i].window)
			dst = chunkenc.AppendXORChunkState(dst, &cs.closed[i].c)
		}
	}
	if s.head.NumSamples() > 0 {
		dst = binary.AppendVarint(dst, db.windowStart(s.head.MaxTime()))
		dst = chunkenc.AppendXORChunkState(dst, &s.head)
	}
	if s.hasPending {
		dst = append(dst, 1)
		dst = appendSample(dst, s.pending)
	} else {
		dst = append(dst, 0)
	}
	ooo := s.oooLocked()
	dst = binary.AppendUvarint(dst, uint64(len(ooo)))
	for _, o := range ooo {
		dst = appendSample(dst, o)
	}
	return dst, nil
}

func appendSample(dst []byte, smp model.Sample) []byte {
	dst = binary.AppendVarint(dst, smp.T)
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(smp.V))
}

func readSample(b []byte) (model.Sample, []byte, bool) {
	t, k := binary.Varint(b)
	if k <= 0 || len(b) < k+8 {
		return model.Sample{}, nil, false
	}
	return model.Sample{T: t, V: math.Float64frombits(binary.LittleEndian.Uint64(b[k:]))}, b[k+8:], true
}

// headState is one series' head as decoded from a snapshot.
type headState struct {
	key     []byte
	chunks  []headChunk
	pending *model.Sample
	ooo     []model.Sample
}

// headChunk is a head chunk of a snapshot and the start of its window.
type headChunk struct {
	window int64
	c      *chunkenc.XORChunk
}

var errBadHeadState = errors.New("malformed head state")

func decodeHeadState(b []byte) (headState, error) {
	var hs headState
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return hs, fmt.Errorf("%w: key", errBadHeadState)
	}
	hs.key, b = b[k:k+int(l)], b[k+int(l):]
	nc, k := binary.Uvarint(b)
	if k <= 0 || nc > uint64(len(b)) {
		return hs, fmt.Errorf("%w: chunk count", errBadHeadState)
	}
	b = b[k:]
	for range nc {
		w, k := binary.Varint(b)
		if k <= 0 {
			return hs, fmt.Errorf("%w: chunk window", errBadHeadState)
		}
		c, rest, err := chunkenc.ReadXORChunkState(b[k:])
		if err != nil {
			return hs, err
		}
		hs.chunks = append(hs.chunks, headChunk{window: w, c: c})
		b = rest
	}
	if len(b) < 1 {
		return hs, fmt.Errorf("%w: pending flag", errBadHeadState)
	}
	flag := b[0]
	b = b[1:]
	if flag == 1 {
		smp, rest, ok := readSample(b)
		if !ok {
			return hs, fmt.Errorf("%w: pending sample", errBadHeadState)
		}
		hs.pending, b = &smp, rest
	}
	no, k := binary.Uvarint(b)
	if k <= 0 || no > uint64(len(b)) {
		return hs, fmt.Errorf("%w: out-of-order count", errBadHeadState)
	}
	b = b[k:]
	for range no {
		smp, rest, ok := readSample(b)
		if !ok {
			return hs, fmt.Errorf("%w: out-of-order sample", errBadHeadState)
		}
		hs.ooo, b = append(hs.ooo, smp), rest
	}
	if len(b) != 0 {
		return hs, fmt.Errorf("%w: %d trailing bytes", errBadHeadState, len(b))
	}
	return hs, nil
}

// loadHeadSnapshot restores the series and heads of head.snap and returns
// the WAL segment to replay from (0 when there is no usable snapshot).
// Head data in windows sealed since the snapshot is skipped: block files
// hold it.
func (db *DB) loadHeadSnapshot() (int, uint32, error) {
	path := filepath.Join(db.dir, headSnapshotName)
	cf, err := readCkptFile(db.fs, path, headSnapshotMagic)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, 0, nil
	case errors.Is(err, errCorrupt):
		db.quarantine(path, err)
		return 0, 0, nil
	case err != nil:
		return 0, 0, err
	}
	sealedBefore := db.sealedBefore.Load()
	var maxID uint32
	for _, e := range cf.entries {
		hs, err := decodeHeadState(e.data)
		if err != nil {
			cf.damaged = fmt.Errorf("%w %s: series %d: %w", errCorrupt, path, e.id, err)
			break
		}
		s := db.replaySeries(e.id, hs.key)
		maxID = max(maxID, e.id)
		if s == nil {
			continue
		}
		s.mu.Lock()
		kept := slices.DeleteFunc(hs.chunks, func(c headChunk) bool {
			return c.window+db.opts.BlockDuration.Milliseconds() <= sealedBefore || c.c.NumSamples() == 0
		})
		for i, c := range kept {
			s.minT, s.maxT = min(s.minT, c.c.MinTime()), max(s.maxT, c.c.MaxTime())
			if i < len(kept)-1 {
				// All but the newest are closed: to the chunk log.
				s.closed = db.chunks.add(s.closed, c.window, c.c)
				s.nClosed++
			} else {
				s.head = *c.c
			}
		}
		if p := hs.pending; p != nil && p.T >= sealedBefore {
			s.pending, s.hasPending = *p, true
			s.minT, s.maxT = min(s.minT, p.T), max(s.maxT, p.T)
		}
		ooo := s.oooLocked()
		for _, o := range hs.ooo {
			if o.T >= sealedBefore {
				ooo = append(ooo, o)
				s.minT = min(s.minT, o.T)
			}
		}
		s.setOOOLocked(ooo)
		s.mu.Unlock()
	}
	if cf.damaged != nil {
		// The WAL before the snapshot's cut is gone, so what follows the
		// damage is lost; say so loudly and serve the rest.
		db.quarantine(path, cf.damaged)
	}
	return int(cf.b), maxID, nil
}
