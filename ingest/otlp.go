package ingest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/stratus-metrics/stratus/model"
)

// gRPC status codes used in OTLP/HTTP error bodies (google.rpc.Status).
const (
	grpcInvalidArgument   = 3
	grpcResourceExhausted = 8
	grpcUnavailable       = 14
)

// serveOTLP handles POST /v1/metrics: OTLP/HTTP with a protobuf
// (application/x-protobuf) or JSON (application/json) body, optionally
// gzip (or zstd) encoded. See otlpToSeries for how metrics become series.
//
// Answers per the OTLP/HTTP spec, in the request's encoding: 200 with an
// empty ExportMetricsServiceResponse when everything was stored; 200 with
// partial_success (rejected_data_points, error_message) when some points
// were rejected; 400 with a google.rpc.Status when nothing could be stored
// or the body does not decode; 413/415 for the body; 429 and 503 (both
// retried by OTLP exporters) when the store is full or failing.
func (h *Handler) serveOTLP(w http.ResponseWriter, hr *http.Request, r *request) int {
	mt, _ := mediaType(hr)
	isJSON := mt == "application/json"
	if !isJSON && mt != "application/x-protobuf" && mt != "" {
		return writeOTLPStatus(w, false, http.StatusUnsupportedMediaType, grpcInvalidArgument,
			fmt.Sprintf("unsupported Content-Type %q; OTLP/HTTP sends application/x-protobuf or application/json", hr.Header.Get("Content-Type")))
	}
	body, herr := r.readBody(hr, encIdentity|encGzip|encZstd, encIdentity)
	if herr != nil {
		return writeOTLPStatus(w, isJSON, herr.status, grpcInvalidArgument, herr.msg)
	}
	var rms []otlpResourceMetrics
	var err error
	if isJSON {
		rms, err = decodeOTLPJSON(body)
	} else {
		rms, err = decodeOTLPProto(body)
	}
	if err != nil {
		return writeOTLPStatus(w, isJSON, http.StatusBadRequest, grpcInvalidArgument, fmt.Sprintf("decode OTLP metrics request: %v", err))
	}
	r.otlpToSeries(rms)
	r.flush()
	switch r.outcome() {
	case outcomeOK:
		return writeOTLPSuccess(w, isJSON, 0, "")
	case outcomePartial:
		return writeOTLPSuccess(w, isJSON, r.rejected, r.summary())
	case outcomeRejected:
		return writeOTLPStatus(w, isJSON, http.StatusBadRequest, grpcInvalidArgument, fmt.Sprintf("no data points stored, %d rejected:\n%s", r.rejected, r.summary()))
	case outcomeSeriesLimit:
		return writeOTLPStatus(w, isJSON, http.StatusTooManyRequests, grpcResourceExhausted, r.seriesLimitMessage())
	}
	return writeOTLPStatus(w, isJSON, http.StatusServiceUnavailable, grpcUnavailable, r.storageMessage())
}

// writeOTLPSuccess writes an ExportMetricsServiceResponse, with
// partial_success when points were rejected.
func writeOTLPSuccess(w http.ResponseWriter, isJSON bool, rejected int, msg string) int {
	if isJSON {
		body := map[string]any{}
		if rejected > 0 {
			body["partialSuccess"] = map[string]any{"rejectedDataPoints": strconv.Itoa(rejected), "errorMessage": msg}
		}
		return writeJSON(w, http.StatusOK, body)
	}
	var b []byte
	if rejected > 0 {
		var ps []byte
		ps = protowire.AppendTag(ps, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, uint64(rejected))
		ps = protowire.AppendTag(ps, 2, protowire.BytesType)
		ps = protowire.AppendString(ps, msg)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, ps)
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return http.StatusOK
}

// writeOTLPStatus writes a google.rpc.Status error body.
func writeOTLPStatus(w http.ResponseWriter, isJSON bool, status, code int, msg string) int {
	if isJSON {
		return writeJSON(w, status, map[string]any{"code": code, "message": msg})
	}
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(code))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendString(b, msg)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(status)
	w.Write(b)
	return status
}

// otlpToSeries translates OTLP metrics into series, the way Prometheus'
// OTLP receiver does by default:
//
//   - service.name (prefixed by service.namespace and "/" when set) becomes
//     job, service.instance.id becomes instance; the attributes listed in
//     OTLPConfig.PromoteResourceAttributes are copied onto every series;
//     all other resource attributes go to one target_info series per
//     resource (value 1, with job and instance), to be joined in queries.
//   - Names are escaped (characters outside [a-zA-Z0-9_:] become _) and get
//     unit suffixes (_seconds, _bytes, _per_second, _ratio for gauges of
//     unit 1) and _total for monotonic sums, unless OTLPConfig.KeepNames.
//   - Gauges and cumulative sums are one series per point; cumulative
//     explicit-bucket histograms become _bucket{le}, _sum and _count;
//     summaries become {quantile}, _sum and _count. A point flagged
//     no_recorded_value is stored as the staleness marker.
//   - Delta temporality is rejected with a message: converting it needs
//     state across requests, which the OpenTelemetry Collector's
//     deltatocumulative processor keeps. Exponential histograms are
//     rejected as native histograms are.
func (r *request) otlpToSeries(rms []otlpResourceMetrics) {
	cfg := &r.h.cfg.OTLP
	row := 0
	for _, rm := range rms {
		job, instance := otlpJobInstance(rm.resource)
		var latest uint64
		for mi := range rm.metrics {
			m := &rm.metrics[mi]
			row++
			if r.stopDecoding {
				return
			}
			if err := otlpSupported(m); err != nil {
				r.rejectRow(row, max(len(m.points), 1), reasonUnsupported, fmt.Errorf("metric %s: %v", quoteTrunc(m.name), err))
				continue
			}
			name := m.name
			if !cfg.KeepNames {
				name = otlpMetricName(m)
			}
			for pi := range m.points {
				p := &m.points[pi]
				latest = max(latest, p.timeNano)
				r.otlpPoint(row, name, m.kind, p, rm.resource, job, instance)
			}
		}
		if !cfg.DisableTargetInfo && (job != "" || instance != "") {
			r.otlpTargetInfo(row, rm.resource, job, instance, latest)
		}
	}
}

func otlpSupported(m *otlpMetric) error {
	switch m.kind {
	case otlpNone:
		return errors.New("has no gauge, sum, histogram or summary data")
	case otlpExpHistogram:
		return errors.New("exponential histograms are not supported; configure the exporter for explicit-bucket histograms")
	case otlpSum, otlpHistogram:
		if m.temporality == otlpDelta {
			return errors.New("delta temporality is not supported; export cumulative temporality (or run the OpenTelemetry Collector's deltatocumulative processor)")
		}
		if m.temporality != otlpCumulative {
			return fmt.Errorf("aggregation temporality %d is not cumulative", m.temporality)
		}
	}
	return nil
}

// otlpJobInstance derives job and instance from resource attributes.
func otlpJobInstance(attrs []otlpAttr) (job, instance string) {
	var ns string
	for _, a := range attrs {
		switch a.key {
		case "service.name":
			job = a.value
		case "service.namespace":
			ns = a.value
		case "service.instance.id":
			instance = a.value
		}
	}
	if ns != "" && job != "" {
		job = ns + "/" + job
	}
	return job, instance
}

// otlpIdentifying are the resource attributes that become job and
// instance and so are not repeated on target_info.
var otlpIdentifying = []string{"service.name", "service.namespace", "service.instance.id"}

// otlpPoint turns one data point into its series.
func (r *request) otlpPoint(row int, name string, kind otlpKind, p *otlpPoint, res []otlpAttr, job, instance string) {
	t := r.nowMs
	if p.timeNano != 0 {
		t = int64(p.timeNano / 1e6)
	}
	stale := p.flags&otlpNoRecordedValue != 0
	emit := func(suffix, extraName, extraValue string, v float64) {
		r.startSeries()
		r.otlpLabels(p.attrs, res, job, instance)
		if extraName != "" {
			r.setLabel(extraName, extraValue)
		}
		r.setLabel(model.MetricName, r.concat(name, suffix, ""))
		if stale {
			v = model.StaleNaN()
		}
		r.addSample(t, v)
		r.finishSeries(row)
	}
	switch kind {
	case otlpGauge, otlpSum:
		emit("", "", "", p.value)
	case otlpHistogram:
		if len(p.buckets) != 0 && len(p.buckets) != len(p.bounds)+1 {
			r.rejectRow(row, 1, reasonParse, fmt.Errorf("metric %s: histogram point has %d bucket counts for %d bounds, want bounds+1", quoteTrunc(name), len(p.buckets), len(p.bounds)))
			return
		}
		if len(p.buckets) > 0 {
			var cum uint64
			for i, b := range p.bounds {
				cum += p.buckets[i]
				emit("_bucket", "le", formatLe(b), float64(cum))
			}
			emit("_bucket", "le", "+Inf", float64(p.count))
		}
		if p.hasSum {
			emit("_sum", "", "", p.sum)
		}
		emit("_count", "", "", float64(p.count))
	case otlpSummary:
		for _, q := range p.quantiles {
			emit("", "quantile", formatLe(q.q), q.v)
		}
		emit("_sum", "", "", p.sum)
		emit("_count", "", "", float64(p.count))
	}
}

// otlpLabels adds a point's labels: its attributes, the promoted resource
// attributes it does not already have, then job and instance.
func (r *request) otlpLabels(attrs, res []otlpAttr, job, instance string) {
	cfg := &r.h.cfg.OTLP
	for _, a := range attrs {
		r.mergeLabel(r.otlpLabelName(a.key), a.value)
	}
	for _, a := range res {
		if slices.Contains(cfg.PromoteResourceAttributes, a.key) {
			name := r.otlpLabelName(a.key)
			if !model.Labels(r.labels[r.labelStart:]).Has(name) {
				r.addLabel(name, a.value)
			}
		}
	}
	if job != "" {
		r.setLabel("job", job)
	}
	if instance != "" {
		r.setLabel("instance", instance)
	}
}

// otlpTargetInfo emits target_info for a resource, carrying the resource
// attributes that are neither job/instance nor promoted.
func (r *request) otlpTargetInfo(row int, res []otlpAttr, job, instance string, latest uint64) {
	cfg := &r.h.cfg.OTLP
	r.startSeries()
	n := 0
	for _, a := range res {
		if slices.Contains(otlpIdentifying, a.key) || slices.Contains(cfg.PromoteResourceAttributes, a.key) {
			continue
		}
		r.mergeLabel(r.otlpLabelName(a.key), a.value)
		n++
	}
	if n == 0 {
		r.abortSeries()
		return
	}
	r.setLabel("job", job)
	r.setLabel("instance", instance)
	r.setLabel(model.MetricName, "target_info")
	t := r.nowMs
	if latest != 0 {
		t = int64(latest / 1e6)
	}
	r.addSample(t, 1)
	r.finishSeries(row)
}

// mergeLabel adds a label to the series being built; when two attributes
// map to the same label name (a.b and a_b) their values are joined with
// ";", as Prometheus does, rather than one silently winning.
func (r *request) mergeLabel(name, value string) {
	for i := r.labelStart; i < len(r.labels); i++ {
		if r.labels[i].Name == name {
			r.labels[i].Value += ";" + value
			return
		}
	}
	r.addLabel(name, value)
}

func (r *request) otlpLabelName(key string) string {
	if r.h.cfg.OTLP.KeepNames {
		return key
	}
	return otlpEscapeLabel(key)
}

// formatLe renders a bucket bound or quantile as Prometheus does.
func formatLe(f float64) string {
	return strconv.FormatFloat(f, 'f', -1, 64)
}
