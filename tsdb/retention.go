package tsdb

import (
	"context"
	"hash/maphash"
	"math"

	"github.com/stratus-metrics/stratus/tsdb/index"
)

// retainLocked drops blocks whose newest sample is older than cutoff, and
// series left with no samples at all. The caller holds maintMu.
func (db *DB) retainLocked(ctx context.Context, cutoff int64) {
	var (
		dead    index.Postings
		dropped int
		cs      chunkScratch
	)
	for s := range db.seriesUpTo(db.nextID.Load()) {
		if s.id%4096 == 0 && ctx.Err() != nil {
			break
		}
		s.mu.Lock()
		n := 0
		for n < len(s.blocks) && s.blocks[n].maxt < cutoff {
			db.m.blockBytes.Sub(float64(len(s.blocks[n].data)))
			n++
		}
		if n > 0 {
			s.blocks = append([]sealedBlock(nil), s.blocks[n:]...)
			dropped += n
			s.minT = math.MaxInt64
			if len(s.blocks) > 0 {
				s.minT = s.blocks[0].mint
			} else {
				s.minT = min(s.minT, db.headMinTimeLocked(s, &cs))
				if ooo := s.oooLocked(); len(ooo) > 0 {
					s.minT = min(s.minT, ooo[0].T)
				}
				if s.hasPending {
					s.minT = min(s.minT, s.pending.T)
				}
			}
		}
		if s.emptyLocked() {
			dead = append(dead, s.id)
		}
		s.mu.Unlock()
	}
	removed := dead[:0]
	for _, id := range dead {
		if db.deleteSeries(id) {
			removed = append(removed, id)
		}
	}
	dead = removed
	if len(dead) > 0 {
		db.index.Delete(dead)
	}
	db.m.blocksDropped.Add(float64(dropped))
	if dropped > 0 || len(dead) > 0 {
		db.logger.Info("retention applied", "cutoff", cutoff, "blocks_dropped", dropped, "series_dropped", len(dead))
	}
}

// headMinTimeLocked returns the time of the series' oldest sample in head
// chunks, closed or open, or math.MaxInt64 when it has none. The caller
// holds s.mu.
func (db *DB) headMinTimeLocked(s *memSeries, cs *chunkScratch) int64 {
	if s.nClosed > 0 {
		var err error
		cs.closed, cs.rec, err = db.chunks.chunks(cs.closed[:0], s.closed, int(s.nClosed), math.MinInt64, cs.rec[:0])
		if err == nil && len(cs.closed) > 0 {
			return cs.closed[0].c.MinTime()
		}
		db.logger.Error("closed head chunks unreadable", "series_id", s.id, "err", err)
	}
	if s.head.NumSamples() > 0 {
		return s.head.MinTime()
	}
	return math.MaxInt64
}

// deleteSeries removes a series that is still empty from every lookup
// structure but the index, which the caller updates in one batch, and
// reports whether it did. The series is marked deleted under its lock, so
// an append that found it just before sees the mark and looks the series
// up again instead of writing into an unreachable series.
func (db *DB) deleteSeries(id uint32) bool {
	s := db.table.get(id)
	if s == nil {
		return false
	}
	key := []byte(s.key)
	hash := maphash.Bytes(keySeed, key)
	st := db.stripes.stripe(hash)
	st.mu.Lock()
	s.mu.Lock()
	if !s.emptyLocked() {
		s.mu.Unlock()
		st.mu.Unlock()
		return false
	}
	s.deleted = true
	st.deleteLocked(hash, s)
	db.table.set(id, nil)
	hk := idsKey(hash)
	db.ids.Del(hk[:])
	s.mu.Unlock()
	st.mu.Unlock()
	db.numSeries.Add(-1)
	db.m.seriesRemoved.Inc()
	return true
}
