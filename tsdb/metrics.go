package tsdb

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-metrics/stratus/model"
)

// metrics are the DB's self-metrics, named stratus_tsdb_*.
type metrics struct {
	seriesCreated   prometheus.Counter
	seriesRemoved   prometheus.Counter
	samplesAppended prometheus.Counter
	samplesRejected *prometheus.CounterVec
	oooSamples      prometheus.Counter
	blocksSealed    prometheus.Counter
	blocksDropped   prometheus.Counter
	blockBytes      prometheus.Gauge
	blockSamples    prometheus.Counter
	selectSeries    prometheus.Histogram

	walFailures        prometheus.Counter
	corruptions        prometheus.Counter
	replayDuration     prometheus.Gauge
	checkpointDuration prometheus.Histogram
	checkpointBytes    prometheus.Gauge
	checkpointFailures prometheus.Counter
	snapshotBytes      prometheus.Gauge
	snapshotDuration   prometheus.Histogram
}

func newMetrics(db *DB, reg prometheus.Registerer) *metrics {
	m := &metrics{
		seriesCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_series_created_total", Help: "Series created in the head.",
		}),
		seriesRemoved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_series_removed_total", Help: "Series removed by retention.",
		}),
		samplesAppended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_samples_appended_total", Help: "Samples stored.",
		}),
		samplesRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_tsdb_samples_rejected_total", Help: "Samples rejected, by reason.",
		}, []string{"reason"}),
		oooSamples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_out_of_order_samples_total", Help: "Samples stored out of order within the out-of-order window.",
		}),
		blocksSealed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_blocks_sealed_total", Help: "Blocks sealed from head chunks.",
		}),
		blocksDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_blocks_dropped_total", Help: "Blocks dropped by retention.",
		}),
		blockBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stratus_tsdb_block_bytes", Help: "Encoded bytes held in sealed blocks.",
		}),
		blockSamples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_block_samples_sealed_total", Help: "Samples written into sealed blocks.",
		}),
		selectSeries: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stratus_tsdb_select_series", Help: "Series returned per Select.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}),
		walFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_wal_log_failures_total", Help: "Appends not acknowledged because the WAL write failed.",
		}),
		corruptions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_corruptions_total", Help: "Corrupt checkpoint files, WAL records or series definitions found.",
		}),
		replayDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stratus_tsdb_replay_duration_seconds", Help: "Time the last start took to load checkpoints and replay the WAL.",
		}),
		checkpointDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stratus_tsdb_checkpoint_duration_seconds", Help: "Time to write a checkpoint.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 8),
		}),
		checkpointBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stratus_tsdb_checkpoint_bytes", Help: "Bytes written by the last checkpoint.",
		}),
		checkpointFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_tsdb_checkpoint_failures_total", Help: "Checkpoints that failed and will be retried.",
		}),
		snapshotBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stratus_tsdb_head_snapshot_bytes", Help: "Size of the last head snapshot.",
		}),
		snapshotDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "stratus_tsdb_head_snapshot_duration_seconds", Help: "Time to write a head snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 8),
		}),
	}
	for _, r := range []string{"out_of_order", "too_old", "series_limit", "invalid"} {
		m.samplesRejected.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.seriesCreated, m.seriesRemoved, m.samplesAppended, m.samplesRejected,
			m.oooSamples, m.blocksSealed, m.blocksDropped, m.blockBytes, m.blockSamples, m.selectSeries,
			m.walFailures, m.corruptions, m.replayDuration, m.checkpointDuration, m.checkpointBytes, m.checkpointFailures,
			m.snapshotBytes, m.snapshotDuration,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "stratus_tsdb_head_series", Help: "Series held in memory.",
			}, func() float64 { return float64(db.numSeries.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "stratus_tsdb_head_closed_chunk_bytes", Help: "Bytes of closed head chunks held in head chunk files or, without them, in memory.",
			}, func() float64 { return float64(db.chunks.bytes.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "stratus_tsdb_head_chunk_file_failures_total", Help: "Head chunk file operations that failed; closed head chunks then stay in memory.",
			}, func() float64 { return float64(db.chunks.failures.Load()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "stratus_tsdb_sealed_before_timestamp_seconds", Help: "Samples older than this are in sealed windows and rejected.",
			}, func() float64 { return float64(db.sealedBefore.Load()) / 1000 }),
		)
	}
	return m
}

// rejected counts n rejected samples by the reason err carries.
func (m *metrics) rejected(err error, n int) {
	reason := "invalid"
	switch {
	case errors.Is(err, model.ErrOutOfOrder):
		reason = "out_of_order"
	case errors.Is(err, model.ErrTooOld):
		reason = "too_old"
	case errors.Is(err, model.ErrSeriesLimit):
		reason = "series_limit"
	}
	m.samplesRejected.WithLabelValues(reason).Add(float64(n))
}
