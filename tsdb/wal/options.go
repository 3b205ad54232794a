package wal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SyncPolicy says when Log makes records durable against power loss. Every
// policy hands records to the kernel with write(2) before Log returns, so a
// process crash (kill -9, panic, OOM kill) never loses an acknowledged record.
type SyncPolicy uint8

const (
	// SyncInterval (the default) fsyncs in the background every
	// Options.SyncInterval. Power loss may lose records acknowledged within
	// the last interval, never earlier ones.
	SyncInterval SyncPolicy = iota
	// SyncAlways fsyncs before Log returns. Concurrent callers share fsyncs
	// (group commit). Power loss loses no acknowledged record.
	SyncAlways
	// SyncNone never fsyncs except when a segment is closed (roll, Cut,
	// Close) or Sync is called. Power loss may lose anything not yet in a
	// closed segment.
	SyncNone
)

// String returns the policy's name as used in configuration.
func (p SyncPolicy) String() string {
	switch p {
	case SyncInterval:
		return "interval"
	case SyncAlways:
		return "always"
	case SyncNone:
		return "none"
	}
	return fmt.Sprintf("SyncPolicy(%d)", uint8(p))
}

// Defaults and bounds for Options.
const (
	// DefaultSegmentSize bounds a segment file; 128 MiB keeps the file
	// count low while letting Truncate free space in useful steps.
	DefaultSegmentSize = 128 << 20
	// MinSegmentSize is the smallest SegmentSize accepted; tests use small
	// segments to exercise rolling.
	MinSegmentSize = 64
	// MaxSegmentSize keeps offsets and record lengths within 32 bits.
	MaxSegmentSize = 1 << 31
	// DefaultSyncInterval is how often SyncInterval fsyncs.
	DefaultSyncInterval = time.Second
)

// Options configure a WAL. The zero value is valid and means the defaults.
type Options struct {
	// SegmentSize is the size a segment may reach before Log rolls to a new
	// one. A record never spans segments, so a record whose framed size
	// exceeds SegmentSize minus the 8-byte segment header is rejected.
	// Zero means DefaultSegmentSize.
	SegmentSize int64
	// SyncPolicy says when records become durable against power loss.
	SyncPolicy SyncPolicy
	// SyncInterval is the background fsync period under SyncInterval.
	// Zero means DefaultSyncInterval.
	SyncInterval time.Duration
	// DisableCompression stores every payload as is. By default a payload
	// is snappy-compressed when that makes it smaller.
	DisableCompression bool
	// Logger receives repair and failure events. Nil discards them.
	Logger *slog.Logger
	// Registerer receives the WAL's self-metrics. Nil skips registration.
	Registerer prometheus.Registerer
}

// withDefaults fills zero fields with their defaults.
func (o Options) withDefaults() Options {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Validate reports options that cannot work. Zero values are valid: they
// mean the defaults.
func (o Options) Validate() error {
	var errs []error
	if o.SegmentSize != 0 && (o.SegmentSize < MinSegmentSize || o.SegmentSize > MaxSegmentSize) {
		errs = append(errs, fmt.Errorf("segment size %d outside [%d, %d]", o.SegmentSize, MinSegmentSize, MaxSegmentSize))
	}
	if o.SyncPolicy > SyncNone {
		errs = append(errs, fmt.Errorf("unknown sync policy %d", o.SyncPolicy))
	}
	if o.SyncInterval < 0 {
		errs = append(errs, fmt.Errorf("negative sync interval %s", o.SyncInterval))
	}
	return errors.Join(errs...)
}
