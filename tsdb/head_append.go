package tsdb

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"strings"
	"sync"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
)

// appendScratch holds the buffers one Append call reuses.
type appendScratch struct {
	key []byte
}

var scratchPool = sync.Pool{New: func() any { return &appendScratch{key: make([]byte, 0, 256)} }}

// Append stores a batch of series. Samples the store cannot take (out of
// order, too old, series limit, invalid labels) are reported in the result
// while the rest of the batch is stored. A non-nil error means the batch was
// not stored at all.
//
// Ordering and duplicates, per series:
//   - a sample newer than the newest stored sample is appended;
//   - a sample with the same timestamp as the newest replaces its value
//     (last write wins);
//   - an older sample within OutOfOrderWindow of the newest is stored and
//     replaces any sample with the same timestamp;
//   - an older sample beyond that window is rejected with ErrOutOfOrder, and
//     one in a sealed window with ErrTooOld.
//
// Appending a known series does not allocate: its id comes from the
// fastcache keyed by the series' canonical label key.
func (db *DB) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	var res model.AppendResult
	sc := scratchPool.Get().(*appendScratch)
	defer scratchPool.Put(sc)

	for i := range batch {
		ts := &batch[i]
		if len(ts.Samples) == 0 {
			continue
		}
		sc.key = model.AppendKey(sc.key[:0], ts.Labels)
		for {
			s, created, err := db.getOrCreate(sc.key, ts.Labels)
			if err != nil {
				res.Reject(i, -1, len(ts.Samples), err)
				db.m.rejected(err, len(ts.Samples))
				break
			}
			if created {
				res.NewSeries++
			}
			n, ok := db.appendSamples(s, ts.Samples, i, &res)
			if ok {
				res.Accepted += n
				break
			}
			// Retention removed the series between lookup and lock: retry.
		}
	}
	db.m.samplesAppended.Add(float64(res.Accepted))
	return res, nil
}

// appendSamples appends samples to s under its lock and returns how many it
// stored. It returns false, having stored nothing, when s was deleted.
func (db *DB) appendSamples(s *memSeries, samples []model.Sample, seriesIdx int, res *model.AppendResult) (int, bool) {
	accepted := 0
	s.mu.Lock()
	if s.deleted {
		s.mu.Unlock()
		return 0, false
	}
	sealedBefore := db.sealedBefore.Load() // read under s.mu; see sealLocked
	for j, smp := range samples {
		if err := db.appendLocked(s, smp, sealedBefore); err != nil {
			res.Reject(seriesIdx, j, 1, err)
			db.m.rejected(err, 1)
			continue
		}
		accepted++
	}
	s.mu.Unlock()
	return accepted, true
}

// appendLocked stores one sample; the caller holds s.mu.
func (db *DB) appendLocked(s *memSeries, smp model.Sample, sealedBefore int64) error {
	t := smp.T
	if t < sealedBefore {
		return fmt.Errorf("%w: timestamp %d is in a sealed window (samples must be at or after %d)", model.ErrTooOld, t, sealedBefore)
	}
	switch {
	case t > s.maxT:
		if s.hasPending {
			db.encodeLocked(s, s.pending)
		}
		s.pending, s.hasPending = smp, true
		s.maxT = t
	case s.hasPending && t == s.pending.T:
		s.pending.V = smp.V // last write wins
	default:
		oooLimit := s.maxT - db.opts.OutOfOrderWindow.Milliseconds()
		if t < oooLimit {
			return fmt.Errorf("%w: timestamp %d is older than the series' newest sample %d by more than the out-of-order window %v",
				model.ErrOutOfOrder, t, s.maxT, db.opts.OutOfOrderWindow)
		}
		s.ooo = insertSample(s.ooo, smp)
		db.m.oooSamples.Inc()
	}
	if t < s.minT {
		s.minT = t
	}
	return nil
}

// encodeLocked moves a sample into the series' head chunks, opening a new
// chunk when the window changes or the open chunk is full.
func (db *DB) encodeLocked(s *memSeries, smp model.Sample) {
	w := db.windowStart(smp.T)
	n := len(s.chunks)
	if n == 0 || s.chunks[n-1].window != w || s.chunks[n-1].c.NumSamples() >= db.opts.HeadChunkSamples {
		s.chunks = append(s.chunks, headChunk{window: w, c: chunkenc.NewXORChunk()})
		n++
	}
	s.chunks[n-1].c.Append(smp.T, smp.V)
}

// insertSample inserts smp into the sorted slice, replacing a sample with
// the same timestamp.
func insertSample(ss []model.Sample, smp model.Sample) []model.Sample {
	lo, hi := 0, len(ss)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ss[m].T < smp.T {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ss) && ss[lo].T == smp.T {
		ss[lo].V = smp.V
		return ss
	}
	ss = append(ss, model.Sample{})
	copy(ss[lo+1:], ss[lo:])
	ss[lo] = smp
	return ss
}

// getOrCreate returns the series with the given key, creating it when new.
func (db *DB) getOrCreate(key []byte, ls model.Labels) (*memSeries, bool, error) {
	var buf [4]byte
	if v := db.ids.Get(buf[:0], key); len(v) == 4 {
		if s := db.table.get(binary.LittleEndian.Uint32(v)); s != nil {
			return s, false, nil
		}
	}
	hash := maphash.Bytes(keySeed, key)
	st := db.stripes.stripe(hash)
	st.mu.RLock()
	s := st.getLocked(hash, key)
	st.mu.RUnlock()
	if s != nil {
		db.cacheID(key, s.id)
		return s, false, nil
	}
	if err := ls.Validate(); err != nil {
		return nil, false, fmt.Errorf("%w %s: %w", model.ErrInvalidSeries, ls, err)
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.getLocked(hash, key); s != nil {
		return s, false, nil
	}
	if max := db.opts.MaxSeries; max > 0 && db.numSeries.Load() >= int64(max) {
		return nil, false, fmt.Errorf("%w: the store holds %d series (max_series %d); new series %s rejected", model.ErrSeriesLimit, db.numSeries.Load(), max, ls)
	}
	s = db.createLocked(st, hash, db.nextID.Add(1), strings.Clone(string(key)))
	return s, true, nil
}

// createLocked registers a new series with a given id; the caller holds the
// stripe's lock. WAL replay calls it with ids from the log.
func (db *DB) createLocked(st *seriesStripe, hash uint64, id uint32, key string) *memSeries {
	s := newMemSeries(id, key)
	db.table.set(id, s)
	db.index.Add(id, s.labels())
	st.addLocked(hash, s)
	db.numSeries.Add(1)
	db.m.seriesCreated.Inc()
	db.cacheID([]byte(key), id)
	return s
}

func (db *DB) cacheID(key []byte, id uint32) {
	var v [4]byte
	binary.LittleEndian.PutUint32(v[:], id)
	db.ids.Set(key, v[:])
}
