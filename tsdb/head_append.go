package tsdb

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"sync"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
)

// appendScratch holds the buffers one Append call reuses.
type appendScratch struct {
	key     []byte
	labels  []model.Label // a series' labels after AppendOptions.Relabel
	series  seriesRecord
	samples samplesRecord
	unmark  []*memSeries // series whose definition this call logs
	recs    [][]byte     // the records handed to one WAL Log call
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
//
// With a WAL, the accepted samples (and the definitions of series not yet
// logged) are written to it before Append returns, per the sync policy.
// If that fails, Append returns the error: the batch is not acknowledged.
// Its samples may already be visible to queries; a client's retry stores
// the same samples again, which is harmless because equal timestamps
// replace each other.
func (db *DB) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	return db.appendBatch(batch, model.AppendOptions{})
}

// AppendRefs is Append for callers that remember where their series are,
// such as an ingest connection whose sender sends the same series request
// after request. refs has one entry per series of batch: zero, or a
// reference this DB set for the same labels in an earlier AppendRefs. A
// non-zero reference is used instead of looking the labels up (their key
// is not even built), so the caller must be sure that it names these
// labels. AppendRefs sets refs[i] for every series it stored samples of,
// for the caller's next batch; a reference whose series retention has
// removed is looked up again.
func (db *DB) AppendRefs(batch []model.TimeSeries, refs []uint64) (model.AppendResult, error) {
	return db.AppendWith(batch, model.AppendOptions{Refs: refs})
}

// AppendWith is Append with options: references as in AppendRefs,
// admission control for new series, and a label rewrite applied only to
// series looked up by labels (see model.AppendOptions). A tenant's scope
// uses all three: it admits new series against the tenant's quota and
// adds the tenant label, and the series it has references for skip both
// the rewrite and the lookup.
//
// Admit is called at most once per new series, with the stripe of the
// series locked; series that already exist never reach it.
func (db *DB) AppendWith(batch []model.TimeSeries, o model.AppendOptions) (model.AppendResult, error) {
	if o.Refs != nil && len(o.Refs) != len(batch) {
		return model.AppendResult{}, fmt.Errorf("append refs: %d references for %d series", len(o.Refs), len(batch))
	}
	return db.appendBatch(batch, o)
}

// appendBatch is Append, AppendRefs and AppendWith.
func (db *DB) appendBatch(batch []model.TimeSeries, o model.AppendOptions) (model.AppendResult, error) {
	var res model.AppendResult
	sc := scratchPool.Get().(*appendScratch)
	defer scratchPool.Put(sc)
	logging := db.wal != nil
	if logging {
		sc.series.reset()
		sc.samples.reset()
		sc.unmark = sc.unmark[:0]
	}
	var maxT int64 = math.MinInt64

	refs := o.Refs
	for i := range batch {
		ts := &batch[i]
		if len(ts.Samples) == 0 {
			continue
		}
		var s *memSeries
		if refs != nil && refs[i] != 0 && refs[i] <= math.MaxUint32 {
			s = db.table.get(uint32(refs[i]))
		}
		ls, keyBuilt := ts.Labels, false
		for {
			if s == nil {
				if !keyBuilt {
					if o.Relabel != nil {
						sc.labels = o.Relabel(sc.labels[:0], ts.Labels)
						ls = sc.labels
					}
					sc.key = model.AppendKey(sc.key[:0], ls)
					keyBuilt = true
				}
				var (
					created bool
					err     error
				)
				s, created, err = db.getOrCreate(sc.key, ls, o.Admit)
				if err != nil {
					res.Reject(i, -1, len(ts.Samples), err)
					db.m.rejected(err, len(ts.Samples))
					if refs != nil {
						refs[i] = 0
					}
					break
				}
				if created {
					res.NewSeries++
				}
			}
			var rec *samplesRecord
			if logging {
				if !s.logged.Load() {
					sc.series.add(s.id, s.key)
					sc.unmark = append(sc.unmark, s)
				}
				rec = &sc.samples
			}
			n, t, ok := db.appendSamples(s, ts.Samples, i, &res, rec)
			if ok {
				res.Accepted += n
				maxT = max(maxT, t)
				if refs != nil {
					refs[i] = uint64(s.id)
				}
				break
			}
			// Retention removed the series between lookup and lock: retry.
			s = nil
		}
	}
	// The rewritten labels alias the caller's strings: do not keep them
	// alive in the pool.
	clear(sc.labels[:cap(sc.labels)])
	if logging && (!sc.series.empty() || !sc.samples.empty()) {
		if err := db.logBatch(sc, maxT); err != nil {
			return res, err
		}
	}
	db.m.samplesAppended.Add(float64(res.Accepted))
	return res, nil
}

// appendSamples appends samples to s under its lock, adding the accepted
// ones to rec when it is not nil, and returns how many it stored and the
// newest timestamp among them. It returns false, having stored nothing,
// when s was deleted.
func (db *DB) appendSamples(s *memSeries, samples []model.Sample, seriesIdx int, res *model.AppendResult, rec *samplesRecord) (int, int64, bool) {
	accepted := 0
	var maxT int64 = math.MinInt64
	s.mu.Lock()
	if s.deleted {
		s.mu.Unlock()
		return 0, maxT, false
	}
	if rec != nil {
		rec.begin(s.id)
	}
	sealedBefore := db.sealedBefore.Load() // read under s.mu; see sealLocked
	for j, smp := range samples {
		if err := db.appendLocked(s, smp, sealedBefore, false); err != nil {
			res.Reject(seriesIdx, j, 1, err)
			db.m.rejected(err, 1)
			continue
		}
		if rec != nil {
			rec.add(smp.T, smp.V)
		}
		maxT = max(maxT, smp.T)
		accepted++
	}
	if rec != nil {
		rec.end()
	}
	s.mu.Unlock()
	return accepted, maxT, true
}

// appendLocked stores one sample; the caller holds s.mu. Replay of the WAL
// passes replaying, which lifts the out-of-order window: every sample in
// the log was acknowledged, in whatever order concurrent writers logged it.
func (db *DB) appendLocked(s *memSeries, smp model.Sample, sealedBefore int64, replaying bool) error {
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
		if t < oooLimit && !replaying {
			return fmt.Errorf("%w: timestamp %d is older than the series' newest sample %d by more than the out-of-order window %v",
				model.ErrOutOfOrder, t, s.maxT, db.opts.OutOfOrderWindow)
		}
		s.setOOOLocked(insertSample(s.oooLocked(), smp))
		db.m.oooSamples.Inc()
	}
	if t < s.minT {
		s.minT = t
	}
	return nil
}

// encodeLocked moves a sample into the series' open head chunk, closing
// the chunk first when the sample's window is a later one or the chunk is
// full.
func (db *DB) encodeLocked(s *memSeries, smp model.Sample) {
	if n := s.head.NumSamples(); n > 0 {
		w := db.windowStart(s.head.MaxTime())
		if n >= db.opts.HeadChunkSamples || smp.T >= w+db.opts.BlockDuration.Milliseconds() {
			db.closeHeadLocked(s, w)
		}
	}
	s.head.Append(smp.T, smp.V)
}

// closeHeadLocked moves the open head chunk, of window w, to the chunk log
// and starts an empty one. The new chunk does not keep the old buffer: a
// buffer grown from empty holds on average about half a full chunk,
// where a kept one would always hold a full one (at 100k series, 12-16 MiB
// less RSS for 3-10% more CPU in the allocations and collections).
func (db *DB) closeHeadLocked(s *memSeries, w int64) {
	s.closed = db.chunks.add(s.closed, w, &s.head)
	s.nClosed++
	s.head = chunkenc.XORChunk{}
	s.head.Reset()
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
//
// The fastcache maps the key's 64-bit hash (the stripes' hash) to the
// series id, and a hit is confirmed against the series' own key. Keying it
// by the full key made a hit need no confirmation, but the cache held a
// copy of every key (~10 MiB of resident memory at 100k series, against
// ~2 MiB now), and the confirmation costs about what the cache's own key
// comparison did. Callers with references (AppendRefs) skip this lookup.
func (db *DB) getOrCreate(key []byte, ls model.Labels, admit func(model.Labels) error) (*memSeries, bool, error) {
	hash := maphash.Bytes(keySeed, key)
	var buf [4]byte
	hk := idsKey(hash)
	if v := db.ids.Get(buf[:0], hk[:]); len(v) == 4 {
		if s := db.table.get(binary.LittleEndian.Uint32(v)); s != nil && s.key == string(key) {
			return s, false, nil
		}
	}
	st := db.stripes.stripe(hash)
	st.mu.RLock()
	s := st.getLocked(hash, key)
	st.mu.RUnlock()
	if s != nil {
		db.cacheID(hash, s.id)
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
	if admit != nil {
		if err := admit(ls); err != nil {
			return nil, false, err
		}
	}
	s = db.createLocked(st, hash, db.nextID.Add(1), strings.Clone(string(key)), nil)
	db.cacheID(hash, s.id)
	return s, true, nil
}

// createLocked registers a new series with a given id; the caller holds the
// stripe's lock. WAL replay calls it with ids from the log. ls, when not
// nil, must be the labels decoded from key (aliasing it), since the index
// keeps them; nil decodes them here.
func (db *DB) createLocked(st *seriesStripe, hash uint64, id uint32, key string, ls model.Labels) *memSeries {
	s := newMemSeries(id, key)
	if ls == nil {
		ls = s.labels()
	}
	db.table.set(id, s)
	db.index.Add(id, ls)
	st.addLocked(hash, s)
	db.numSeries.Add(1)
	db.m.seriesCreated.Inc()
	return s
}

func (db *DB) cacheID(hash uint64, id uint32) {
	var v [4]byte
	binary.LittleEndian.PutUint32(v[:], id)
	hk := idsKey(hash)
	db.ids.Set(hk[:], v[:])
}

// idsKey is the fastcache key of a series key's hash.
func idsKey(hash uint64) (k [8]byte) {
	binary.LittleEndian.PutUint64(k[:], hash)
	return k
}
