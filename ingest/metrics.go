package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Formats, the values of the format label of the self-metrics.
const (
	formatRemoteWrite   = "prometheus_remote_write"
	formatRemoteWriteV2 = "prometheus_remote_write_v2"
	formatAtlas         = "atlas"
	formatText          = "prometheus_text"
	formatInflux        = "influx"
	formatOTLP          = "otlp"
)

// Rejection reasons, the values of the reason label of
// stratus_ingest_samples_rejected_total. They are few and fixed so that the
// label stays low-cardinality.
const (
	reasonParse         = "parse_error"       // the row did not decode
	reasonInvalidLabels = "invalid_labels"    // names, values, duplicates, metric name
	reasonLimit         = "limit"             // label count/length, series per request
	reasonTooOld        = "too_old"           // before the timestamp window, or the store's
	reasonTooNew        = "too_far_in_future" // after the timestamp window
	reasonUnsupported   = "unsupported"       // native histograms, string fields, delta temporality
	reasonOutOfOrder    = "out_of_order"      // from the store
	reasonSeriesLimit   = "series_limit"      // from the store: active-series limit
	reasonRateLimited   = "rate_limited"      // from the store: ingest rate quota
	reasonInvalidSeries = "invalid_series"    // from the store
	reasonStorage       = "storage_error"     // Append failed as a whole
	reasonOther         = "other"             // store rejections not detailed in AppendResult
)

// metrics are the self-metrics of the ingest handlers.
type metrics struct {
	requests *prometheus.CounterVec
	received *prometheus.CounterVec
	accepted *prometheus.CounterVec
	rejected *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_ingest_requests_total",
			Help: "Ingest requests by format and HTTP status code.",
		}, []string{"format", "code"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_ingest_samples_received_total",
			Help: "Samples decoded from ingest requests (a row that did not decode counts as one).",
		}, []string{"format"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_ingest_samples_accepted_total",
			Help: "Samples stored by the appender.",
		}, []string{"format"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_ingest_samples_rejected_total",
			Help: "Samples rejected by validation or by the store, by reason.",
		}, []string{"format", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stratus_ingest_request_duration_seconds",
			Help:    "Time to read, decode, validate and store an ingest request.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"format"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.received, m.accepted, m.rejected, m.duration)
	}
	return m
}

// observe records one finished request.
func (m *metrics) observe(r *request, code int, seconds float64) {
	m.requests.WithLabelValues(r.format, strconv.Itoa(code)).Inc()
	m.received.WithLabelValues(r.format).Add(float64(r.received))
	m.accepted.WithLabelValues(r.format).Add(float64(r.accepted))
	for reason, n := range r.rejectedBy {
		if n > 0 {
			m.rejected.WithLabelValues(r.format, reason).Add(float64(n))
		}
	}
	m.duration.WithLabelValues(r.format).Observe(seconds)
}
