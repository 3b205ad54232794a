package querytest

import (
	"cmp"
	"context"
	"slices"

	"github.com/stratus-metrics/stratus/model"
)

// MemQuerier is an in-memory query.Querier over a fixed set of series, for
// the tests of the engines and APIs that read through that interface. It
// honours the interface's contract: matchers with Prometheus's semantics,
// both time bounds inclusive, series sorted by labels, label lists sorted
// and unique, and a cancelled context reported by Select.
type MemQuerier struct {
	series map[string]*model.TimeSeries // by canonical label key
}

// NewMemQuerier returns a querier holding the given series.
func NewMemQuerier(series ...model.TimeSeries) *MemQuerier {
	m := &MemQuerier{series: map[string]*model.TimeSeries{}}
	for _, ts := range series {
		m.Add(ts.Labels, ts.Samples...)
	}
	return m
}

// Add appends samples to the series with labels ls, keeping its samples in
// time order.
func (m *MemQuerier) Add(ls model.Labels, samples ...model.Sample) {
	k := ls.Bytes()
	ts, ok := m.series[k]
	if !ok {
		ts = &model.TimeSeries{Labels: ls}
		m.series[k] = ts
	}
	ts.Samples = append(ts.Samples, samples...)
	slices.SortStableFunc(ts.Samples, func(a, b model.Sample) int { return cmp.Compare(a.T, b.T) })
}

type memSeries struct{ ts model.TimeSeries }

func (s memSeries) Labels() model.Labels { return s.ts.Labels }
func (s memSeries) Iterator(model.SampleIterator) model.SampleIterator {
	return model.NewSliceIterator(s.ts.Samples)
}

// matching returns the series matching ms that have samples in
// [mint, maxt], restricted to those samples, sorted by labels.
func (m *MemQuerier) matching(mint, maxt int64, ms []*model.Matcher) []model.TimeSeries {
	var out []model.TimeSeries
	for _, ts := range m.series {
		if !slices.ContainsFunc(ms, func(mt *model.Matcher) bool { return !mt.Matches(ts.Labels.Get(mt.Name)) }) {
			var in []model.Sample
			for _, s := range ts.Samples {
				if s.T >= mint && s.T <= maxt {
					in = append(in, s)
				}
			}
			if len(in) > 0 {
				out = append(out, model.TimeSeries{Labels: ts.Labels, Samples: in})
			}
		}
	}
	slices.SortFunc(out, func(a, b model.TimeSeries) int { return model.Compare(a.Labels, b.Labels) })
	return out
}

// Select implements query.Querier.
func (m *MemQuerier) Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	if err := ctx.Err(); err != nil {
		return model.ErrSeriesSet(err)
	}
	var out []model.Series
	for _, ts := range m.matching(mint, maxt, ms) {
		out = append(out, memSeries{ts})
	}
	return model.ListSeriesSet(out)
}

// LabelNames implements query.Querier.
func (m *MemQuerier) LabelNames(_ context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	var names []string
	for _, ts := range m.matching(mint, maxt, ms) {
		for _, l := range ts.Labels {
			names = append(names, l.Name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// LabelValues implements query.Querier.
func (m *MemQuerier) LabelValues(_ context.Context, name string, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	var vals []string
	for _, ts := range m.matching(mint, maxt, ms) {
		if v := ts.Labels.Get(name); v != "" {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return slices.Compact(vals), nil
}
