package ui

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/stratus-metrics/stratus/model"
)

// Appender stores samples. *tsdb.DB satisfies it. The callee owns batch
// only for the duration of the call; it must be safe for concurrent use.
type Appender interface {
	Append(batch []model.TimeSeries) (model.AppendResult, error)
}

// selfScrape appends the registry's metrics to storage every
// ScrapeInterval until ctx is done, as a scrape of job="stratus" would.
// Stratus does not scrape targets, and without this its own ingest rate
// and series count could not be charted with PromQL.
func (u *UI) selfScrape(ctx context.Context) {
	t := time.NewTicker(u.opts.ScrapeInterval)
	defer t.Stop()
	for {
		u.scrapeOnce()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scrapeOnce gathers and appends once; it is a no-op while storage is
// not open. Errors are logged at debug level: a missed self-scrape only
// leaves a gap in the server's own charts.
func (u *UI) scrapeOnce() {
	st := u.opts.Storage()
	if st == nil {
		return
	}
	mfs, err := u.opts.Gatherer.Gather()
	if err != nil && len(mfs) == 0 {
		u.logger.Debug("self-scrape: gather failed", "err", err)
		return
	}
	batch := familiesToSeries(mfs, u.opts.Now().UnixMilli(), "stratus", u.opts.Instance)
	if res, err := st.Append(batch); err != nil {
		u.logger.Debug("self-scrape: append failed", "err", err)
	} else if res.Rejected > 0 {
		u.logger.Debug("self-scrape: samples rejected", "rejected", res.Rejected, "first", res.Rejections[0].Error())
	}
}

// familiesToSeries converts gathered metric families into series at ts,
// the way Prometheus' scrape flattens them: histograms into _bucket{le},
// _sum and _count; summaries into {quantile}, _sum and _count.
func familiesToSeries(mfs []*dto.MetricFamily, ts int64, job, instance string) []model.TimeSeries {
	var out []model.TimeSeries
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			base := make([]string, 0, 2*len(m.GetLabel())+6)
			base = append(base, "job", job)
			if instance != "" {
				base = append(base, "instance", instance)
			}
			for _, lp := range m.GetLabel() {
				base = append(base, lp.GetName(), lp.GetValue())
			}
			add := func(metric string, v float64, extra ...string) {
				ss := append(append([]string{model.MetricName, metric}, base...), extra...)
				out = append(out, model.TimeSeries{Labels: model.FromStrings(ss...), Samples: []model.Sample{{T: ts, V: v}}})
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(name, m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add(name, m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add(name, m.GetUntyped().GetValue())
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					add(name, q.GetValue(), "quantile", formatFloat(q.GetQuantile()))
				}
				add(name+"_sum", s.GetSampleSum())
				add(name+"_count", float64(s.GetSampleCount()))
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				infSeen := false
				for _, b := range h.GetBucket() {
					if math.IsInf(b.GetUpperBound(), 1) {
						infSeen = true
					}
					add(name+"_bucket", float64(b.GetCumulativeCount()), "le", formatFloat(b.GetUpperBound()))
				}
				if !infSeen {
					add(name+"_bucket", float64(h.GetSampleCount()), "le", "+Inf")
				}
				add(name+"_sum", h.GetSampleSum())
				add(name+"_count", float64(h.GetSampleCount()))
			}
		}
	}
	return out
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// Compile-time check that a Registry can be passed as Gatherer.
var _ prometheus.Gatherer = (*prometheus.Registry)(nil)
