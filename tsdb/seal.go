package tsdb

import (
	"context"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
)

// sealLocked seals every window that ends at or before the window holding
// cutoff: the samples of those windows move from head chunks, the pending
// sample and the out-of-order buffer into one compact block per window, and
// later samples for them are rejected. The caller holds maintMu.
//
// The new boundary is published before any series is sealed, and appends
// read it under the series lock, so an append either lands before its
// series is sealed (and is included) or sees the new boundary (and is
// rejected): no sample is left behind in a sealed window.
func (db *DB) sealLocked(ctx context.Context, cutoff int64) {
	boundary := db.windowStart(cutoff)
	if boundary <= db.sealedBefore.Load() {
		return
	}
	db.sealedBefore.Store(boundary)
	var (
		scratch []model.Sample
		sealed  int
	)
	for s := range db.seriesUpTo(db.nextID.Load()) {
		if s.id%4096 == 0 && ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		var n int
		scratch, n = db.sealSeriesLocked(s, boundary, scratch)
		s.mu.Unlock()
		sealed += n
	}
	db.m.blocksSealed.Add(float64(sealed))
	if sealed > 0 {
		db.logger.Debug("sealed windows", "before", boundary, "blocks", sealed)
	}
}

// sealSeriesLocked seals the series' samples older than boundary into
// blocks, one per window (more for a window with over MaxBlockSamples
// samples), and returns how many blocks it built. scratch is
// a reusable buffer, returned for the next call.
func (db *DB) sealSeriesLocked(s *memSeries, boundary int64, scratch []model.Sample) ([]model.Sample, int) {
	scratch = scratch[:0]
	nChunks := 0
	for _, c := range s.chunks {
		if c.window >= boundary {
			break
		}
		it := c.c.Iterator(nil)
		for it.Next() {
			t, v := it.At()
			scratch = append(scratch, model.Sample{T: t, V: v})
		}
		nChunks++
	}
	if s.hasPending && s.pending.T < boundary {
		scratch = append(scratch, s.pending)
		s.hasPending = false
	}
	nOOO := 0
	for nOOO < len(s.ooo) && s.ooo[nOOO].T < boundary {
		nOOO++
	}
	if len(scratch) == 0 && nOOO == 0 {
		return scratch, 0
	}
	if nOOO > 0 {
		merged := mergeSamples(make([]model.Sample, 0, len(scratch)+nOOO), scratch, s.ooo[:nOOO])
		scratch = merged
		s.ooo = append(s.ooo[:0], s.ooo[nOOO:]...)
		if len(s.ooo) == 0 {
			s.ooo = nil
		}
	}
	s.chunks = append(s.chunks[:0], s.chunks[nChunks:]...)
	if len(s.chunks) == 0 {
		s.chunks = nil
	}

	built := 0
	for start := 0; start < len(scratch); {
		w := db.windowStart(scratch[start].T)
		// A block holds one window, and at most MaxBlockSamples: a series
		// sampled faster than that per window gets several blocks.
		end := start + 1
		for end < len(scratch) && end-start < chunkenc.MaxBlockSamples && db.windowStart(scratch[end].T) == w {
			end++
		}
		data, err := chunkenc.AppendBlock(nil, scratch[start:end])
		if err != nil {
			// Samples here are sorted and unique by construction.
			panic("BUG: seal window: " + err.Error())
		}
		s.blocks = append(s.blocks, sealedBlock{mint: scratch[start].T, maxt: scratch[end-1].T, data: data})
		db.m.blockBytes.Add(float64(len(data)))
		db.m.blockSamples.Add(float64(end - start))
		built++
		start = end
	}
	return scratch, built
}
