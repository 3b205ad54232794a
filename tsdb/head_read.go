package tsdb

import (
	"context"
	"fmt"
	"slices"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
	"github.com/stratus-metrics/stratus/tsdb/index"
)

// Select returns the series that match all matchers and have samples in
// [mint, maxt] (milliseconds, both inclusive), sorted by labels. Their
// iterators yield only samples in that range, and decode only the blocks
// that overlap it. The set reads a consistent view of each series taken
// when its Iterator is called.
func (db *DB) Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	if len(ms) == 0 {
		return model.ErrSeriesSet(fmt.Errorf("select needs at least one matcher"))
	}
	ps := db.index.Select(ms...)
	series := make([]*memSeries, 0, len(ps))
	for i, id := range ps {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return model.ErrSeriesSet(err)
			}
		}
		s := db.table.get(id)
		if s == nil || !s.overlaps(mint, maxt) {
			continue
		}
		series = append(series, s)
	}
	out := make([]model.Series, len(series))
	for i, s := range series {
		out[i] = &selectedSeries{s: s, log: db.chunks, ls: s.labels(), mint: mint, maxt: maxt}
	}
	slices.SortFunc(out, func(a, b model.Series) int {
		return model.Compare(a.(*selectedSeries).ls, b.(*selectedSeries).ls)
	})
	db.m.selectSeries.Observe(float64(len(out)))
	return model.ListSeriesSet(out)
}

// overlaps reports whether the series holds samples in [mint, maxt].
func (s *memSeries) overlaps(mint, maxt int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.minT <= maxt && s.maxT >= mint
}

// LabelNames returns the sorted label names of series that match all
// matchers (every series when there are none) and have samples in
// [mint, maxt].
func (db *DB) LabelNames(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	ps, err := db.postingsInRange(ctx, mint, maxt, ms)
	if err != nil {
		return nil, err
	}
	return db.index.LabelNames(ps), nil
}

// LabelValues returns the sorted values of label name among series that
// match all matchers and have samples in [mint, maxt].
func (db *DB) LabelValues(ctx context.Context, name string, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	ps, err := db.postingsInRange(ctx, mint, maxt, ms)
	if err != nil {
		return nil, err
	}
	return db.index.LabelValues(name, ps), nil
}

// CountSeries returns how many series match all matchers (every series
// when ms is empty), whatever their time range. It reads only the index.
func (db *DB) CountSeries(ms ...*model.Matcher) int {
	if len(ms) == 0 {
		return db.NumSeries()
	}
	return len(db.index.Select(ms...))
}

func (db *DB) postingsInRange(ctx context.Context, mint, maxt int64, ms []*model.Matcher) (index.Postings, error) {
	var ps index.Postings
	if len(ms) == 0 {
		ps = db.index.AllPostings()
	} else {
		ps = db.index.Select(ms...)
	}
	out := make(index.Postings, 0, len(ps))
	for i, id := range ps {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if s := db.table.get(id); s != nil && s.overlaps(mint, maxt) {
			out = append(out, id)
		}
	}
	return out, nil
}

// selectedSeries is a series chosen by Select, restricted to a time range.
type selectedSeries struct {
	s          *memSeries
	log        *chunkLog // where s's closed head chunks are
	ls         model.Labels
	mint, maxt int64
}

func (ss *selectedSeries) Labels() model.Labels { return ss.ls }

// Iterator takes a snapshot of the series under its lock and decodes the
// samples in range into the iterator's buffer, reusing reuse's buffers when
// it is one of ours.
func (ss *selectedSeries) Iterator(reuse model.SampleIterator) model.SampleIterator {
	it, ok := reuse.(*seriesIterator)
	if !ok {
		it = &seriesIterator{}
	}
	it.err = nil
	it.buf = it.buf[:0]
	it.buf, it.err = ss.s.samplesInRange(it.buf, ss.log, &it.dec, &it.chunks, ss.mint, ss.maxt)
	it.SliceIterator.Reset(it.buf)
	return it
}

// seriesIterator iterates over samples decoded into a buffer it owns.
type seriesIterator struct {
	model.SliceIterator
	buf    []model.Sample
	dec    chunkenc.BlockIterator
	chunks chunkScratch
	err    error
}

// chunkScratch is what reading a series' head chunks reuses.
type chunkScratch struct {
	closed []closedChunk        // closed chunks, oldest first
	rec    []byte               // records copied out of the chunk log
	it     model.SampleIterator // reused over head chunks
}

func (it *seriesIterator) Next() bool {
	if it.err != nil {
		return false
	}
	return it.SliceIterator.Next()
}

func (it *seriesIterator) SeekTo(t int64) bool {
	if it.err != nil {
		return false
	}
	return it.SliceIterator.SeekTo(t)
}

func (it *seriesIterator) Err() error { return it.err }

// samplesInRange appends the series' samples in [mint, maxt] to dst in time
// order. It holds the series lock throughout, decoding straight into dst:
// blocks decode in microseconds, and a lock held that long costs a
// concurrent append less than copying the head out would cost every query.
// Closed head chunks are read from log in place.
func (s *memSeries) samplesInRange(dst []model.Sample, log *chunkLog, dec *chunkenc.BlockIterator, cs *chunkScratch, mint, maxt int64) ([]model.Sample, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := len(dst)
	for _, b := range s.blocks {
		if b.maxt < mint || b.mint > maxt {
			continue
		}
		err := dec.Reset(b.data)
		if err == nil {
			dst, err = dec.AppendRange(dst, mint, maxt)
		}
		if err != nil {
			return dst, fmt.Errorf("decode block [%d, %d] of series %d: %w", b.mint, b.maxt, s.id, err)
		}
	}
	if s.nClosed > 0 && s.maxT >= mint {
		var err error
		cs.closed, cs.rec, err = log.chunks(cs.closed[:0], s.closed, int(s.nClosed), mint, cs.rec[:0])
		for i := 0; i < len(cs.closed) && err == nil; i++ {
			dst, err = appendChunkRange(dst, &cs.closed[i].c, &cs.it, mint, maxt)
		}
		if err != nil {
			return dst, fmt.Errorf("read closed head chunks of series %d: %w", s.id, err)
		}
	}
	if s.head.NumSamples() > 0 {
		var err error
		if dst, err = appendChunkRange(dst, &s.head, &cs.it, mint, maxt); err != nil {
			return dst, fmt.Errorf("decode head chunk of series %d: %w", s.id, err)
		}
	}
	if s.hasPending && s.pending.T >= mint && s.pending.T <= maxt {
		dst = append(dst, s.pending)
	}
	ooo := s.oooLocked()
	lo, hi := 0, len(ooo)
	for lo < hi && ooo[lo].T < mint {
		lo++
	}
	for hi > lo && ooo[hi-1].T > maxt {
		hi--
	}
	if lo < hi {
		dst = append(dst[:start], mergeSamples(nil, dst[start:], ooo[lo:hi])...)
	}
	return dst, nil
}

// appendChunkRange appends the chunk's samples in [mint, maxt] to dst,
// reusing *reuse as the iterator.
func appendChunkRange(dst []model.Sample, c *chunkenc.XORChunk, reuse *model.SampleIterator, mint, maxt int64) ([]model.Sample, error) {
	if c.MaxTime() < mint || c.MinTime() > maxt {
		return dst, nil
	}
	it := c.Iterator(*reuse)
	*reuse = it
	for ok := it.SeekTo(mint); ok; ok = it.Next() {
		t, v := it.At()
		if t > maxt {
			break
		}
		dst = append(dst, model.Sample{T: t, V: v})
	}
	return dst, it.Err()
}

// mergeSamples merges two sorted sample slices into dst; on equal
// timestamps the sample from b (the later write) wins.
func mergeSamples(dst, a, b []model.Sample) []model.Sample {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].T < b[j].T:
			dst = append(dst, a[i])
			i++
		case a[i].T > b[j].T:
			dst = append(dst, b[j])
			j++
		default:
			dst = append(dst, b[j])
			i++
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}
