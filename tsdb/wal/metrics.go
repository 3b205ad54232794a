package wal

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the WAL's self-metrics. They always exist so the code never
// checks for nil; they are only exported when a Registerer is given.
type metrics struct {
	bytesWritten   prometheus.Counter
	recordsWritten prometheus.Counter
	fsyncDuration  prometheus.Histogram
	fsyncs         prometheus.Counter
	segments       prometheus.Gauge
	corruptions    prometheus.Counter
	writeFailures  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		bytesWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_wal_bytes_written_total",
			Help: "Bytes written to WAL segments, including framing.",
		}),
		recordsWritten: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_wal_records_written_total",
			Help: "Records appended to the WAL.",
		}),
		fsyncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stratus_wal_fsync_duration_seconds",
			Help:    "Duration of WAL segment fsyncs.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}),
		fsyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_wal_fsyncs_total",
			Help: "WAL segment fsyncs, successful or not.",
		}),
		segments: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stratus_wal_segments",
			Help: "WAL segment files on disk.",
		}),
		corruptions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_wal_corruptions_total",
			Help: "Torn or corrupt WAL tails cut away when opening the WAL.",
		}),
		writeFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_wal_write_failures_total",
			Help: "Failed WAL writes, fsyncs and segment creations.",
		}),
	}
	if reg == nil {
		return m
	}
	// A WAL reopened in the same process registers again; reuse the
	// existing collectors so counters continue instead of failing Open.
	m.bytesWritten = register(reg, m.bytesWritten)
	m.recordsWritten = register(reg, m.recordsWritten)
	m.fsyncDuration = register(reg, m.fsyncDuration)
	m.fsyncs = register(reg, m.fsyncs)
	m.segments = register(reg, m.segments)
	m.corruptions = register(reg, m.corruptions)
	m.writeFailures = register(reg, m.writeFailures)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// Another collector owns the name with a different shape; keep
		// counting privately rather than fail the WAL over metrics.
	}
	return c
}
