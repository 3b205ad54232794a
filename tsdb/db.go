package tsdb

import (
	"context"
	"fmt"
	"hash/maphash"
	"iter"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/fastcache"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-metrics/stratus/tsdb/index"
	"github.com/stratus-metrics/stratus/tsdb/vfs"
	"github.com/stratus-metrics/stratus/tsdb/wal"
)

// DB is the time-series store. It is safe for concurrent use: appends and
// queries may run from many goroutines at once.
type DB struct {
	opts   Options
	logger *slog.Logger
	m      *metrics

	ids     *fastcache.Cache // series key -> 4-byte series id
	stripes seriesStripes    // series key -> series (authoritative)
	table   seriesTable      // series id -> series
	index   *index.MemIndex  // label -> postings
	chunks  *chunkLog        // closed head chunks

	nextID    atomic.Uint32 // last id handed out
	numSeries atomic.Int64

	// sealedBefore is the start of the oldest open window: every window
	// ending at or before it is sealed, and samples older than it are
	// rejected with model.ErrTooOld.
	sealedBefore atomic.Int64

	maintMu sync.Mutex // serialises seal, checkpoint and retention passes

	// Durability; all nil or zero for an in-memory DB (dir == "").
	dir string
	fs  vfs.FS
	wal *wal.WAL
	// maxLoggedT is the newest sample timestamp handed to the WAL; a cut
	// records it so that segments can be dropped once sealed windows
	// cover every sample in them.
	maxLoggedT atomic.Int64
	ckpt       checkpointState // guarded by maintMu

	stop chan struct{}
	done chan struct{}
}

var keySeed = maphash.MakeSeed()

// Open opens the DB kept in dir, or an in-memory DB when dir is "". With a
// directory it loads the checkpoint files, replays the write-ahead log and
// from then on logs every append before acknowledging it. It then starts the
// background maintenance loop (sealing, checkpoints, retention); Close stops
// it.
func Open(dir string, opts Options, reg prometheus.Registerer, logger *slog.Logger) (*DB, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("invalid tsdb options: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{
		opts:   opts,
		logger: logger,
		ids:    fastcache.New(opts.SeriesCacheBytes),
		index:  index.New(),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	db.sealedBefore.Store(math.MinInt64)
	db.maxLoggedT.Store(math.MinInt64)
	// Closed head chunks go to files when the data directory is on the
	// operating system's file system, and to heap slabs otherwise.
	chunkDir := ""
	if dir != "" && (opts.FS == nil || opts.FS == vfs.Default) {
		chunkDir = filepath.Join(dir, chunkLogDirName)
	}
	chunks, err := newChunkLog(chunkDir, logger.With("component", "head_chunks"))
	if err != nil {
		return nil, err
	}
	db.chunks = chunks
	db.m = newMetrics(db, reg)
	if dir != "" {
		if err := db.openDurable(dir, reg); err != nil {
			db.chunks.close()
			return nil, err
		}
	}
	go db.run()
	return db, nil
}

// Close stops background work, writes a head snapshot, closes the WAL
// (syncing it) and releases memory. It is safe to call once; the DB must not be used afterwards.
func (db *DB) Close() error {
	close(db.stop)
	<-db.done
	var err error
	if db.wal != nil && db.opts.HeadSnapshotInterval > 0 {
		// A snapshot now makes the next start load the head instead of
		// replaying the WAL.
		db.maintMu.Lock()
		db.snapshotHeadLocked()
		db.maintMu.Unlock()
		if cerr := db.wal.Close(); cerr != nil {
			err = fmt.Errorf("close wal: %w", cerr)
		}
	}
	db.chunks.close()
	db.ids.Reset()
	return err
}

func (db *DB) run() {
	defer close(db.done)
	t := time.NewTicker(db.opts.MaintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			db.Maintain(context.Background())
		}
	}
}

// Maintain seals every window that has closed by the DB's clock and drops
// data past retention. The background loop calls it periodically; tests and
// benchmarks call it to make sealing happen now.
func (db *DB) Maintain(ctx context.Context) {
	db.maintMu.Lock()
	defer db.maintMu.Unlock()
	now := db.opts.Now().UnixMilli()
	db.sealLocked(ctx, now-db.opts.OutOfOrderWindow.Milliseconds())
	cutoff := now - db.opts.Retention.Milliseconds()
	db.retainLocked(ctx, cutoff)
	if db.dir != "" {
		db.checkpointLocked(cutoff)
		if db.wal != nil && db.opts.HeadSnapshotInterval > 0 && db.opts.Now().Sub(db.ckpt.lastSnapshot) >= db.opts.HeadSnapshotInterval {
			db.snapshotHeadLocked()
		}
	}
}

// windowStart returns the start of the block window holding t.
func (db *DB) windowStart(t int64) int64 {
	d := db.opts.BlockDuration.Milliseconds()
	w := t - t%d
	if t%d < 0 {
		w -= d
	}
	return w
}

// seriesUpTo yields every live series with an id up to last, in id order.
// Maintenance passes walk the store with it; series created meanwhile (ids
// above last) are left for the next pass.
func (db *DB) seriesUpTo(last uint32) iter.Seq[*memSeries] {
	return func(yield func(*memSeries) bool) {
		for id := uint32(1); id <= last; id++ {
			if s := db.table.get(id); s != nil && !yield(s) {
				return
			}
		}
	}
}

// NumSeries returns the number of series held.
func (db *DB) NumSeries() int { return int(db.numSeries.Load()) }

// Stats returns the index's cardinality: series and label-pair counts and
// the topN metric names, label names and pairs by series, for the
// cardinality explorer.
func (db *DB) Stats(topN int) index.Stats { return db.index.Stats(topN) }
