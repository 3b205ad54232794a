package tsdb

import (
	"context"
	"math"

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
		sc     sealScratch
		sealed int
	)
	// Reading every series' closed chunks is the cost of sealing a window;
	// when no closed chunk is of a window being sealed, skip it.
	sc.noClosed = !db.chunks.holdsBefore(boundary)
	for s := range db.seriesUpTo(db.nextID.Load()) {
		if s.id%4096 == 0 && ctx.Err() != nil {
			return
		}
		if s.id%dropPagesEvery == 0 && !sc.noClosed {
			db.chunks.dropReadPages()
		}
		s.mu.Lock()
		sealed += db.sealSeriesLocked(s, boundary, &sc)
		s.mu.Unlock()
	}
	// Every series is sealed up to boundary, so no series refers to a
	// closed head chunk of an earlier window any more.
	db.chunks.release(boundary)
	db.chunks.dropReadPages()
	db.m.blocksSealed.Add(float64(sealed))
	if sealed > 0 {
		db.logger.Debug("sealed windows", "before", boundary, "blocks", sealed)
	}
}

// sealScratch holds the buffers sealing reuses from series to series.
type sealScratch struct {
	samples  []model.Sample
	chunks   chunkScratch
	noClosed bool // no closed head chunk is of a window before the boundary
}

// sealSeriesLocked seals the series' samples older than boundary into
// blocks, one per window (more for a window with over MaxBlockSamples
// samples), and returns how many blocks it built.
func (db *DB) sealSeriesLocked(s *memSeries, boundary int64, sc *sealScratch) int {
	scratch := sc.samples[:0]
	defer func() { sc.samples = scratch[:0] }()
	nClosed, headSealed := 0, false
	if s.nClosed > 0 && !sc.noClosed {
		var err error
		cs := &sc.chunks
		cs.closed, cs.rec, err = db.chunks.chunks(cs.closed[:0], s.closed, int(s.nClosed), math.MinInt64, cs.rec[:0])
		for i := 0; i < len(cs.closed) && err == nil && cs.closed[i].window < boundary; i++ {
			scratch, err = appendChunkRange(scratch, &cs.closed[i].c, &cs.it, math.MinInt64, math.MaxInt64)
			nClosed++
		}
		if err != nil {
			// Only a damaged chunk file gets here. Its chunks cannot be
			// sealed; drop them rather than stop sealing.
			db.m.corruptions.Inc()
			db.logger.Error("closed head chunks unreadable; dropping them", "series_id", s.id, "chunks", s.nClosed, "err", err)
			scratch, nClosed = scratch[:0], int(s.nClosed)
		}
	}
	if s.head.NumSamples() > 0 && db.windowStart(s.head.MaxTime()) < boundary {
		var err error
		if scratch, err = appendChunkRange(scratch, &s.head, &sc.chunks.it, math.MinInt64, math.MaxInt64); err != nil {
			panic("BUG: open head chunk does not decode: " + err.Error())
		}
		headSealed = true
	}
	if s.hasPending && s.pending.T < boundary {
		scratch = append(scratch, s.pending)
		s.hasPending = false
	}
	ooo := s.oooLocked()
	nOOO := 0
	for nOOO < len(ooo) && ooo[nOOO].T < boundary {
		nOOO++
	}
	if nClosed > 0 {
		s.nClosed -= uint32(nClosed)
		if s.nClosed == 0 {
			s.closed = 0
		}
	}
	if headSealed {
		// The series may get no more samples: let the buffer go.
		s.head = chunkenc.XORChunk{}
		s.head.Reset()
	}
	if len(scratch) == 0 && nOOO == 0 {
		return 0
	}
	if nOOO > 0 {
		merged := mergeSamples(make([]model.Sample, 0, len(scratch)+nOOO), scratch, ooo[:nOOO])
		scratch = merged
		s.setOOOLocked(append(ooo[:0], ooo[nOOO:]...))
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
	return built
}
