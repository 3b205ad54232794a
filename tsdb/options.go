package tsdb

import (
	"errors"
	"fmt"
	"time"

	"github.com/stratus-metrics/stratus/tsdb/vfs"
	"github.com/stratus-metrics/stratus/tsdb/wal"
)

// Options configures a DB. Start from DefaultOptions; cmd/ maps flags and
// the configuration file onto it.
type Options struct {
	// BlockDuration is the time window a sealed block covers. Windows are
	// aligned to multiples of it since the Unix epoch.
	BlockDuration time.Duration `yaml:"block_duration"`
	// Retention is how long samples are kept; whole blocks older than it
	// are dropped.
	Retention time.Duration `yaml:"retention"`
	// OutOfOrderWindow is how far behind a series' newest sample a sample
	// may arrive and still be stored. Older samples are rejected with
	// model.ErrOutOfOrder. A window is sealed (and then read-only) once the
	// wall clock is past its end by this much.
	OutOfOrderWindow time.Duration `yaml:"out_of_order_window"`
	// MaxSeries caps the number of series held; 0 means no limit. A sample
	// of a new series beyond the cap is rejected with model.ErrSeriesLimit.
	MaxSeries int `yaml:"max_series"`
	// SeriesCacheBytes sizes the fastcache that maps series keys to ids on
	// the append path.
	SeriesCacheBytes int `yaml:"series_cache_bytes"`
	// HeadChunkSamples caps the samples in a series' open head chunk, the
	// only one kept in the Go heap: a full chunk is closed and moves to the
	// head chunk files (see head_chunks.go). Smaller chunks hold less
	// memory per series; larger ones make reading the head cheaper (fewer
	// chunks to visit per series).
	HeadChunkSamples int `yaml:"head_chunk_samples"`
	// MaintenanceInterval is how often the background loop seals windows
	// and applies retention.
	MaintenanceInterval time.Duration `yaml:"maintenance_interval"`

	// HeadSnapshotInterval is how often the unsealed head is written to
	// head.snap, after which the WAL before it is deleted; start-up loads
	// the snapshot and replays only the WAL since. A graceful shutdown
	// writes one too. 0 disables head snapshots: start-up then replays the
	// WAL since the last sealed window.
	HeadSnapshotInterval time.Duration `yaml:"head_snapshot_interval"`

	// WAL configures the write-ahead log of a DB opened with a directory.
	WAL WALOptions `yaml:"wal"`

	// Now returns the current time; tests inject a fake clock.
	Now func() time.Time `yaml:"-"`
	// FS is the file system under the data directory; tests inject one
	// that fails or crashes on demand. Nil means the OS.
	FS vfs.FS `yaml:"-"`
}

// WALOptions configure the write-ahead log.
type WALOptions struct {
	// Sync is the sync policy: "always" (fsync before acknowledging, with
	// group commit), "interval" (fsync every SyncInterval; a process crash
	// loses nothing acknowledged, power loss at most one interval) or
	// "none" (the OS decides; a process crash still loses nothing).
	Sync string `yaml:"sync"`
	// SyncInterval is the fsync period of the "interval" policy.
	SyncInterval time.Duration `yaml:"sync_interval"`
	// SegmentSize bounds one WAL segment file.
	SegmentSize int64 `yaml:"segment_size"`
	// Disabled turns the WAL off: acknowledged samples since the last
	// checkpoint are lost on restart. For benchmarks and throwaway setups.
	Disabled bool `yaml:"disabled"`
}

// syncPolicy maps the configured name to the wal package's policy.
func (o WALOptions) syncPolicy() (wal.SyncPolicy, error) {
	switch o.Sync {
	case "", "interval":
		return wal.SyncInterval, nil
	case "always":
		return wal.SyncAlways, nil
	case "none":
		return wal.SyncNone, nil
	}
	return 0, fmt.Errorf("wal.sync %q: must be always, interval or none", o.Sync)
}

// DefaultOptions returns the defaults documented in the README.
func DefaultOptions() Options {
	return Options{
		BlockDuration:        2 * time.Hour,
		Retention:            15 * 24 * time.Hour,
		OutOfOrderWindow:     10 * time.Minute,
		SeriesCacheBytes:     32 << 20,
		HeadChunkSamples:     32,
		MaintenanceInterval:  30 * time.Second,
		HeadSnapshotInterval: 10 * time.Minute,
		WAL: WALOptions{
			Sync:         "interval",
			SyncInterval: time.Second,
			SegmentSize:  wal.DefaultSegmentSize,
		},
		Now: time.Now,
	}
}

// Validate reports the first option that is out of range.
func (o *Options) Validate() error {
	var errs []error
	if o.BlockDuration < time.Minute || o.BlockDuration%time.Millisecond != 0 {
		errs = append(errs, fmt.Errorf("block_duration %v: must be at least 1m and whole milliseconds", o.BlockDuration))
	}
	if o.Retention < o.BlockDuration {
		errs = append(errs, fmt.Errorf("retention %v: must be at least block_duration (%v)", o.Retention, o.BlockDuration))
	}
	if o.OutOfOrderWindow < 0 || o.OutOfOrderWindow > o.BlockDuration {
		errs = append(errs, fmt.Errorf("out_of_order_window %v: must be between 0 and block_duration (%v)", o.OutOfOrderWindow, o.BlockDuration))
	}
	if o.MaxSeries < 0 {
		errs = append(errs, fmt.Errorf("max_series %d: must not be negative", o.MaxSeries))
	}
	if o.SeriesCacheBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("series_cache_bytes %d: must be at least 1 MiB", o.SeriesCacheBytes))
	}
	if o.HeadChunkSamples < 16 || o.HeadChunkSamples > 1<<16 {
		errs = append(errs, fmt.Errorf("head_chunk_samples %d: must be between 16 and 65536", o.HeadChunkSamples))
	}
	if o.HeadSnapshotInterval < 0 {
		errs = append(errs, fmt.Errorf("head_snapshot_interval %v: must not be negative", o.HeadSnapshotInterval))
	}
	if o.MaintenanceInterval <= 0 {
		errs = append(errs, fmt.Errorf("maintenance_interval %v: must be positive", o.MaintenanceInterval))
	}
	if _, err := o.WAL.syncPolicy(); err != nil {
		errs = append(errs, err)
	}
	if o.WAL.SyncInterval <= 0 {
		errs = append(errs, fmt.Errorf("wal.sync_interval %v: must be positive", o.WAL.SyncInterval))
	}
	if o.WAL.SegmentSize < 1<<20 || o.WAL.SegmentSize > wal.MaxSegmentSize {
		errs = append(errs, fmt.Errorf("wal.segment_size %d: must be between 1 MiB and %d", o.WAL.SegmentSize, wal.MaxSegmentSize))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return errors.Join(errs...)
}
