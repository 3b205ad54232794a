package stacklang_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

// memQuerier is an in-memory query.Querier over a fixed list of series.
type memQuerier struct{ series []model.TimeSeries }

type memSeries struct{ ts model.TimeSeries }

func (s memSeries) Labels() model.Labels { return s.ts.Labels }
func (s memSeries) Iterator(model.SampleIterator) model.SampleIterator {
	return model.NewSliceIterator(s.ts.Samples)
}

func (q *memQuerier) matching(mint, maxt int64, ms []*model.Matcher) []model.TimeSeries {
	var out []model.TimeSeries
	for _, ts := range q.series {
		ok := true
		for _, m := range ms {
			if !m.Matches(ts.Labels.Get(m.Name)) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
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
	slices.SortFunc(out, func(a, b model.TimeSeries) int { return model.Compare(a.Labels, b.Labels) })
	return out
}

func (q *memQuerier) Select(_ context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	var ss []model.Series
	for _, ts := range q.matching(mint, maxt, ms) {
		ss = append(ss, memSeries{ts})
	}
	return model.ListSeriesSet(ss)
}

func (q *memQuerier) LabelNames(_ context.Context, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	set := map[string]bool{}
	for _, ts := range q.matching(mint, maxt, ms) {
		for _, l := range ts.Labels {
			set[l.Name] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

func (q *memQuerier) LabelValues(_ context.Context, name string, mint, maxt int64, ms ...*model.Matcher) ([]string, error) {
	set := map[string]bool{}
	for _, ts := range q.matching(mint, maxt, ms) {
		if v := ts.Labels.Get(name); v != "" {
			set[v] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out, nil
}

const minute = int64(60_000)

// series builds a series with one sample per minute from 0 with the
// given values (NaN entries are left out).
func series(vals []float64, kv ...string) model.TimeSeries {
	ts := model.TimeSeries{Labels: model.FromStrings(kv...)}
	for i, v := range vals {
		if v != v {
			continue
		}
		ts.Samples = append(ts.Samples, model.Sample{T: int64(i) * minute, V: v})
	}
	return ts
}

func newEngine(ss ...model.TimeSeries) *stacklang.Engine {
	return stacklang.NewEngine(query.NewEngine(&memQuerier{series: ss}, query.DefaultEngineOptions()))
}

// eval parses and evaluates expr over n one-minute steps from 0.
func eval(t *testing.T, e *stacklang.Engine, expr string, n int) *stacklang.Result {
	t.Helper()
	p, err := stacklang.Parse(expr)
	if err != nil {
		t.Fatalf("parse %q: %v", expr, err)
	}
	r, err := e.Eval(context.Background(), p, 0, minute, n)
	if err != nil {
		t.Fatalf("eval %q: %v", expr, err)
	}
	return r
}
