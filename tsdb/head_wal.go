package tsdb

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/vfs"
	"github.com/stratus-metrics/stratus/tsdb/wal"
)

// logBatch writes an append's records to the WAL and waits until they are
// durable per the sync policy.
func (db *DB) logBatch(sc *appendScratch, maxT int64) error {
	recs := sc.recs[:0]
	if !sc.series.empty() {
		recs = append(recs, sc.series.buf)
	}
	if !sc.samples.empty() {
		recs = append(recs, sc.samples.buf)
	}
	sc.recs = recs
	// Raise the high-water mark before logging: a WAL cut that follows the
	// Log must see every timestamp in the segments it closes.
	for cur := db.maxLoggedT.Load(); maxT > cur && !db.maxLoggedT.CompareAndSwap(cur, maxT); cur = db.maxLoggedT.Load() {
	}
	if err := db.wal.Log(recs...); err != nil {
		db.m.walFailures.Inc()
		return fmt.Errorf("write-ahead log: %w", err)
	}
	for _, s := range sc.unmark {
		s.logged.Store(true)
	}
	return nil
}

// openDurable loads the checkpoint, replays the WAL and opens it for
// appending.
func (db *DB) openDurable(dir string, reg prometheus.Registerer) error {
	db.dir = dir
	db.fs = db.opts.FS
	if db.fs == nil {
		db.fs = vfs.OS()
	}
	for _, d := range []string{dir, filepath.Join(dir, blocksDirName), filepath.Join(dir, walDirName)} {
		if err := vfs.MkdirAllSynced(db.fs, d, 0o755); err != nil {
			return fmt.Errorf("create data directory %s: %w", d, err)
		}
	}
	start := time.Now()
	lc, err := db.loadCheckpoint()
	if err != nil {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	db.sealedBefore.Store(lc.sealedBefore)
	db.ckpt.persistedBefore = lc.sealedBefore
	db.logger.Info("checkpoint loaded", "series", db.NumSeries(), "sealed_before", lc.sealedBefore, "duration", time.Since(start))

	var (
		st      replayStats
		fromSeg int
		snapMax uint32
	)
	if !db.opts.WAL.Disabled {
		policy, _ := db.opts.WAL.syncPolicy() // validated
		w, err := wal.Open(db.fs, filepath.Join(dir, walDirName), wal.Options{
			SegmentSize:  db.opts.WAL.SegmentSize,
			SyncPolicy:   policy,
			SyncInterval: db.opts.WAL.SyncInterval,
			Logger:       db.logger.With("component", "wal"),
			Registerer:   reg,
		})
		if err != nil {
			return fmt.Errorf("open wal: %w", err)
		}
		if fromSeg, snapMax, err = db.loadHeadSnapshot(); err != nil {
			w.Close()
			return fmt.Errorf("load head snapshot: %w", err)
		}
		db.logger.Info("head snapshot loaded", "series", db.NumSeries(), "replay_from_segment", fromSeg, "duration", time.Since(start))
		if st, err = db.replayWAL(lc.damaged, fromSeg); err != nil {
			w.Close()
			return fmt.Errorf("replay wal: %w", err)
		}
		db.wal = w
	}

	if len(st.resealed) > 0 {
		// Samples of damaged windows came back from the WAL into the head:
		// seal them again, and have the next checkpoint rewrite those
		// windows' files.
		var sc sealScratch
		for s := range st.resealed {
			s.mu.Lock()
			db.sealSeriesLocked(s, lc.sealedBefore, &sc)
			s.mu.Unlock()
		}
		for w := range lc.damaged {
			db.ckpt.persistedBefore = min(db.ckpt.persistedBefore, w)
		}
		db.logger.Warn("restored damaged windows from the wal", "series", len(st.resealed))
	}

	maxID := max(lc.maxID, st.maxID, snapMax)
	orphans := 0
	for _, b := range lc.blocks {
		s := db.table.get(b.id)
		if s == nil {
			orphans++
			continue
		}
		s.mu.Lock()
		s.blocks = append(s.blocks, b.sealedBlock)
		if n := len(s.blocks); n > 1 && s.blocks[n-2].mint > b.mint {
			slices.SortFunc(s.blocks, func(a, b sealedBlock) int { return cmp.Compare(a.mint, b.mint) })
		}
		s.minT = min(s.minT, b.mint)
		s.maxT = max(s.maxT, b.maxt)
		s.mu.Unlock()
	}
	lc.blocks = nil
	if orphans > 0 {
		db.m.corruptions.Inc()
		db.logger.Error("blocks of unknown series dropped (their series definitions were lost)", "blocks", orphans)
	}
	db.nextID.Store(maxID)
	db.ckpt.lastSnapshot = db.opts.Now()
	elapsed := time.Since(start)
	db.m.replayDuration.Set(elapsed.Seconds())
	db.logger.Info("storage opened",
		"series", db.NumSeries(), "wal_records", st.records, "wal_samples", st.samples,
		"wal_mb", fmt.Sprintf("%.1f", float64(st.bytes)/1e6),
		"samples_skipped_sealed", st.skipped, "samples_lost_unknown_series", st.lost,
		"duration", elapsed, "replay_mb_per_s", fmt.Sprintf("%.1f", float64(st.bytes)/1e6/max(elapsed.Seconds(), 1e-9)))
	return nil
}

type replayStats struct {
	records, samples, skipped, lost, bytes int64
	maxID                                  uint32
	resealed                               map[*memSeries]bool // got samples of damaged windows
}

// replayWAL applies every record of the WAL to the head. Samples may refer
// to a series whose definition a concurrent writer logged later; they wait
// in pending until it appears. Samples in sealed windows are skipped, except
// in damaged windows for series whose block was not recovered from the file.
func (db *DB) replayWAL(damaged map[int64]map[uint32]bool, fromSeg int) (replayStats, error) {
	st := replayStats{resealed: map[*memSeries]bool{}}
	r, err := wal.NewReader(db.fs, filepath.Join(db.dir, walDirName), fromSeg)
	if err != nil {
		return st, err
	}
	defer r.Close()
	pending := map[uint32][]model.Sample{}
	sealedBefore := db.sealedBefore.Load()
	var buf []model.Sample
	lastLog := time.Now()
	apply := func(s *memSeries, samples []model.Sample) {
		s.mu.Lock()
		for _, smp := range samples {
			floor := sealedBefore
			if smp.T < sealedBefore {
				loaded, ok := damaged[db.windowStart(smp.T)]
				if !ok || loaded[s.id] {
					st.skipped++ // already in a block file
					continue
				}
				floor = math.MinInt64
				st.resealed[s] = true
			}
			if err := db.appendLocked(s, smp, floor, true); err != nil {
				st.lost++
				continue
			}
			st.samples++
		}
		s.mu.Unlock()
	}
	for r.Next() {
		rec := r.Record()
		st.records++
		st.bytes += int64(len(rec))
		if len(rec) == 0 {
			continue
		}
		switch rec[0] {
		case recSeries:
			err = decodeSeriesRecord(rec[1:], func(id uint32, key []byte) error {
				s := db.replaySeries(id, key)
				st.maxID = max(st.maxID, id)
				if p, ok := pending[id]; ok && s != nil {
					apply(s, p)
					delete(pending, id)
				}
				return nil
			})
		case recSamples:
			buf, err = decodeSamplesRecord(rec[1:], buf, func(id uint32, samples []model.Sample) {
				var maxT int64 = math.MinInt64
				for _, smp := range samples {
					maxT = max(maxT, smp.T)
				}
				if maxT > db.maxLoggedT.Load() {
					db.maxLoggedT.Store(maxT)
				}
				if s := db.table.get(id); s != nil {
					apply(s, samples)
				} else {
					pending[id] = append(pending[id], samples...)
				}
			})
		default:
			err = fmt.Errorf("%w: unknown type %d", errBadRecord, rec[0])
		}
		if err != nil {
			// The WAL's CRC matched, so this is a bug or a foreign file;
			// skip the record rather than refuse to start.
			db.m.corruptions.Inc()
			db.logger.Error("skipping undecodable wal record", "segment", r.Segment(), "err", err)
		}
		if time.Since(lastLog) > 5*time.Second {
			db.logger.Info("replaying wal", "segment", r.Segment(), "records", st.records, "samples", st.samples)
			lastLog = time.Now()
		}
	}
	if err := r.Err(); err != nil {
		return st, err
	}
	for _, c := range r.Corruptions() {
		db.m.corruptions.Inc()
		db.logger.Error("wal corruption found during replay", "corruption", c.String())
	}
	for id, p := range pending {
		st.lost += int64(len(p))
		db.logger.Error("wal samples refer to a series never defined; dropped", "series_id", id, "samples", len(p))
	}
	return st, nil
}

// replaySeries creates the series with the given id and key from a
// checkpoint or WAL record, unless it exists. It returns nil when the id is
// already taken by another key (a corrupt record).
func (db *DB) replaySeries(id uint32, key []byte) *memSeries {
	if s := db.table.get(id); s != nil {
		if s.key != string(key) {
			db.m.corruptions.Inc()
			db.logger.Error("series id reused by a different key; keeping the first", "series_id", id)
			return nil
		}
		return s
	}
	keyStr := string(key)
	ls, err := model.KeyString(nil, keyStr)
	if err != nil {
		db.m.corruptions.Inc()
		db.logger.Error("undecodable series key", "series_id", id, "err", err)
		return nil
	}
	hash := maphash.Bytes(keySeed, key)
	st := db.stripes.stripe(hash)
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.getLocked(hash, key); s != nil {
		return s // the same series under another id: keep the first
	}
	// The id cache fills on first use: start-up does not pay for it.
	s := db.createLocked(st, hash, id, keyStr, ls)
	s.logged.Store(true)
	return s
}
