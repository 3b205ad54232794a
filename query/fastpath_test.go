package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query/querytest"
)

// The fast paths (streamed aggregations, incremental rate windows, the
// series-wise one-to-one binary operation, reading decoded samples in
// place) must give exactly what the general step-by-step evaluation gives:
// the same series in the same order, the same values to the last bit and
// the same errors. The differential test compares with Prometheus within a
// tolerance; this compares bits.

// fastPathData is the differential data set plus series that stress the
// fast paths: counters that tie (topk and bottomk must break ties as the
// general path does), a counter with many resets, series with NaN
// values, and metadata labels that collide once __name__ is dropped.
func fastPathData() []model.TimeSeries {
	data := querytest.Data(1)
	sample := func(n int, f func(i int) float64) []model.Sample {
		s := make([]model.Sample, n)
		for i := range s {
			s[i] = model.Sample{T: int64(i) * 15_000, V: f(i)}
		}
		return s
	}
	n := int(querytest.DataEnd / 15_000)
	for i := range 6 {
		data = append(data, model.TimeSeries{
			Labels:  model.FromStrings(model.MetricName, "tie_total", "job", fmt.Sprint("j", i%2), "instance", fmt.Sprint(i)),
			Samples: sample(n, func(k int) float64 { return float64(k * (1 + i%3)) }),
		})
	}
	data = append(data, model.TimeSeries{
		Labels:  model.FromStrings(model.MetricName, "tie_total", "job", "j0", "instance", "resets"),
		Samples: sample(n, func(k int) float64 { return float64(k%7) * 3 }),
	})
	data = append(data, model.TimeSeries{
		Labels: model.FromStrings(model.MetricName, "tie_total", "job", "j1", "instance", "nan"),
		Samples: sample(n, func(k int) float64 {
			if k%11 == 3 {
				return math.NaN()
			}
			return float64(k)
		}),
	})
	for _, unit := range []string{"seconds", "bytes"} {
		data = append(data, model.TimeSeries{
			Labels:  model.FromStrings(model.MetricName, "typed_total", "__unit__", unit, "job", "x"),
			Samples: sample(n, func(k int) float64 { return float64(k) }),
		})
	}
	return data
}

func fastPathExpressions() []string {
	exprs := querytest.Expressions()
	for _, q := range querytest.BenchQueries {
		exprs = append(exprs, q.Expr)
	}
	return append(exprs,
		`topk(3, rate(tie_total[5m]))`,
		`bottomk(3, rate(tie_total[5m]))`,
		`topk by (job) (2, increase(tie_total[2m]))`,
		`bottomk without (instance) (1, delta(tie_total[3m]))`,
		`topk(1, last_over_time(tie_total[1m]))`,
		`topk(scalar(count(tie_total)) - 5, rate(tie_total[1m] offset 1m))`,
		`topk(2, rate(tie_total[5m] @ 3600))`,
		`topk(2, rate(typed_total[5m]))`,
		`sum(rate(typed_total[5m]))`,
		`sum by (job) (rate(tie_total[5m])) / on (job) sum by (job) (rate(tie_total[1m]))`,
		`sum by (job) (rate(tie_total[5m])) > bool on (job) sum by (job) (rate(tie_total[1m]))`,
		`rate(tie_total[5m]) >= ignoring (instance) rate(tie_total{instance="1"}[5m])`,
		`rate(tie_total[5m]) == on (instance) rate(tie_total[1m])`,
		`tie_total != on (instance) tie_total offset 1m`,
		`tie_total / on (job) tie_total`,
		`rate(tie_total[5m]) - rate(tie_total[5m] offset 5m)`,
		`rate(typed_total[5m]) / typed_total`,
		`increase(tie_total[137s]) * on (instance, job) delta(tie_total[1m])`,
		// The order of a subquery's series decides ties in topk: a binary
		// operation's series must come in the general path's order.
		`topk(2, max_over_time((tie_total / on (instance) (tie_total > 300))[10m:1m]))`,
		`bottomk(2, last_over_time((tie_total > bool on (instance) (tie_total > 200))[10m:1m]))`,
	)
}

func TestFastPathsMatchGeneralPath(t *testing.T) {
	q := querytest.NewMemQuerier(fastPathData()...)
	testFastPaths(t, q, DefaultEngineOptions(), fastPathExpressions())
}

// Limits and storage errors must surface as on one goroutine, even when
// workers read ahead.
func TestFastPathsFailAsGeneralPath(t *testing.T) {
	data := fastPathData()
	exprs := []string{
		`sum by (job) (rate(http_requests_total[5m]))`,
		`topk(3, rate(tie_total[5m]))`,
		`rate(tie_total[5m])`,
		`sum by (job) (rate(tie_total[5m])) / on (job) sum by (job) (rate(tie_total[1m]))`,
		`max_over_time(sum(rate(tie_total[1m]))[10m:1m])`,
	}
	for _, c := range []struct {
		name string
		q    Querier
		opts func(*EngineOptions)
	}{
		{"max samples", querytest.NewMemQuerier(data...), func(o *EngineOptions) { o.MaxSamples = 3000 }},
		{"max series", querytest.NewMemQuerier(data...), func(o *EngineOptions) { o.MaxSeries = 5 }},
		{"read error", failingQuerier{querytest.NewMemQuerier(data...), "resets"}, func(*EngineOptions) {}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := DefaultEngineOptions()
			c.opts(&opts)
			testFastPaths(t, c.q, opts, exprs)
		})
	}
}

// failingQuerier fails reading the series whose instance label is fail.
type failingQuerier struct {
	Querier
	fail string
}

func (q failingQuerier) Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	set := q.Querier.Select(ctx, mint, maxt, ms...)
	var out []model.Series
	for set.Next() {
		s := set.At()
		if s.Labels().Get("instance") == q.fail {
			s = failingSeries{s}
		}
		out = append(out, s)
	}
	if set.Err() != nil {
		return set
	}
	return model.ListSeriesSet(out)
}

type failingSeries struct{ model.Series }

func (s failingSeries) Iterator(model.SampleIterator) model.SampleIterator { return failingIterator{} }

type failingIterator struct{}

func (failingIterator) Next() bool           { return false }
func (failingIterator) SeekTo(int64) bool    { return false }
func (failingIterator) At() (int64, float64) { return 0, 0 }
func (failingIterator) Err() error           { return errors.New("disk on fire") }

// testFastPaths evaluates exprs with the fast paths, in parallel (in many
// small chunks) and on one goroutine, and with the general path, and
// requires the same results and errors.
func testFastPaths(t *testing.T, q Querier, opts EngineOptions, exprs []string) {
	opts.Parallelism = 3
	parallel := NewEngine(q, opts)
	parallel.chunkSeries = 2 // many chunks even for the small data set
	opts.Parallelism = 1
	sequential := NewEngine(q, opts)
	general := NewEngine(q, opts)
	general.noFastPaths = true
	ctx := context.Background()
	type run struct {
		name    string
		isRange bool
		eval    func(ng *Engine, expr string) (*Result, error)
	}
	runs := []run{{"range", true, func(ng *Engine, expr string) (*Result, error) {
		return ng.Range(ctx, expr, time.UnixMilli(querytest.RangeStart), time.UnixMilli(querytest.RangeEnd), time.Duration(querytest.RangeStep)*time.Millisecond)
	}}, {"range at an odd step", true, func(ng *Engine, expr string) (*Result, error) {
		return ng.Range(ctx, expr, time.UnixMilli(querytest.RangeStart+1234), time.UnixMilli(querytest.DataEnd), 37*time.Second)
	}}}
	for _, ts := range querytest.InstantTimes {
		runs = append(runs, run{fmt.Sprintf("instant at %dms", ts), false, func(ng *Engine, expr string) (*Result, error) {
			return ng.Instant(ctx, expr, time.UnixMilli(ts))
		}})
	}
	compared, failed := 0, 0
	for _, expr := range exprs {
		for _, r := range runs {
			if r.isRange && !isInstantVectorOrScalar(expr) {
				continue
			}
			want, wantErr := r.eval(general, expr)
			if wantErr != nil {
				failed++
			}
			for _, fast := range []struct {
				name string
				ng   *Engine
			}{{"parallel", parallel}, {"sequential", sequential}} {
				got, gotErr := r.eval(fast.ng, expr)
				if err := sameResult(got, gotErr, want, wantErr); err != nil {
					t.Errorf("%s, %s: %s fast path differs from the general path: %v", expr, r.name, fast.name, err)
				}
				if got != nil {
					// Later queries reuse its arrays: a result that kept
					// one would show up as a difference.
					got.Close()
				}
			}
			compared++
		}
	}
	t.Logf("%d evaluations compared, %d of them errors", compared, failed)
}

func isInstantVectorOrScalar(expr string) bool {
	e, err := ParseExpr(expr)
	if err != nil {
		return true // both report the error
	}
	t := e.Type()
	return t == "vector" || t == "scalar"
}

func sameResult(got *Result, gotErr error, want *Result, wantErr error) error {
	if gotErr != nil || wantErr != nil {
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			return fmt.Errorf("error %v, want %v", gotErr, wantErr)
		}
		return nil
	}
	sameFloat := func(a, b float64) bool {
		return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
	}
	switch w := want.Value.(type) {
	case Matrix:
		g, ok := got.Value.(Matrix)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %d series (%T), want %d", len(g), got.Value, len(w))
		}
		for i := range w {
			if !model.Equal(g[i].Metric, w[i].Metric) {
				return fmt.Errorf("series %d is %s, want %s", i, g[i].Metric, w[i].Metric)
			}
			if len(g[i].Floats) != len(w[i].Floats) {
				return fmt.Errorf("%s: %d points, want %d", w[i].Metric, len(g[i].Floats), len(w[i].Floats))
			}
			for j, p := range w[i].Floats {
				if q := g[i].Floats[j]; q.T != p.T || !sameFloat(q.F, p.F) {
					return fmt.Errorf("%s: point %d is %v@%d, want %v@%d", w[i].Metric, j, q.F, q.T, p.F, p.T)
				}
			}
		}
	case Vector:
		g, ok := got.Value.(Vector)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("got %d samples (%T), want %d", len(g), got.Value, len(w))
		}
		for i, s := range w {
			if !model.Equal(g[i].Metric, s.Metric) || g[i].T != s.T || !sameFloat(g[i].F, s.F) {
				return fmt.Errorf("sample %d is %s %v@%d, want %s %v@%d", i, g[i].Metric, g[i].F, g[i].T, s.Metric, s.F, s.T)
			}
		}
	default:
		if fmt.Sprint(got.Value) != fmt.Sprint(want.Value) {
			return fmt.Errorf("got %v, want %v", got.Value, want.Value)
		}
	}
	if got.Stats.Series != want.Stats.Series || got.Stats.Samples != want.Stats.Samples {
		return fmt.Errorf("stats: %d series, %d samples; want %d, %d", got.Stats.Series, got.Stats.Samples, want.Stats.Series, want.Stats.Samples)
	}
	return nil
}

// A query that times out while workers read series reports the timeout
// and leaves no worker behind.
func TestParallelQueryTimesOut(t *testing.T) {
	var data []model.TimeSeries
	for i := range 200 {
		data = append(data, model.TimeSeries{
			Labels:  model.FromStrings(model.MetricName, "slow_total", "instance", fmt.Sprint(i)),
			Samples: []model.Sample{{T: 0, V: 1}, {T: 60_000, V: 2}},
		})
	}
	opts := DefaultEngineOptions()
	opts.Parallelism = 4
	opts.Timeout = 30 * time.Millisecond
	ng := NewEngine(slowQuerier{querytest.NewMemQuerier(data...)}, opts)
	ng.chunkSeries = 3
	before := runtime.NumGoroutine()
	_, err := ng.Range(context.Background(), `sum(rate(slow_total[5m]))`, time.UnixMilli(0), time.UnixMilli(600_000), time.Minute)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", err)
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the query, %d before", runtime.NumGoroutine(), before)
		}
	}
}

// slowQuerier takes a millisecond to read each series.
type slowQuerier struct{ Querier }

func (q slowQuerier) Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	set := q.Querier.Select(ctx, mint, maxt, ms...)
	var out []model.Series
	for set.Next() {
		out = append(out, slowSeries{set.At()})
	}
	return model.ListSeriesSet(out)
}

type slowSeries struct{ model.Series }

func (s slowSeries) Iterator(it model.SampleIterator) model.SampleIterator {
	time.Sleep(time.Millisecond)
	return s.Series.Iterator(it)
}

// ratePoints' cached extrapolation gives extrapolate's bits, including
// near the counter's zero clamp, where its shortcut must not decide.
func TestExtrapolationMatchesExtrapolate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200_000 {
		n := 1 + rng.IntN(40)
		interval := int64(1 + rng.IntN(30_000))
		sampled := interval * int64(n)
		window := sampled + int64(rng.IntN(int(2*interval+1)))
		toStart := int64(1 + rng.IntN(int(window-sampled+1)))
		toEnd := window - sampled - toStart
		if toEnd < 0 {
			toEnd = 0
		}
		rangeEnd := int64(rng.IntN(1 << 40))
		rangeStart := rangeEnd - toEnd - sampled - toStart
		first := FPoint{T: rangeStart + toStart}
		last := FPoint{T: rangeEnd - toEnd}
		result := rng.Float64() * 1000
		switch i % 4 {
		case 0: // a counter far from zero
			first.F = result * float64(1+rng.IntN(1000))
		case 1: // near the clamp's boundary
			first.F = result * (float64(toStart) / float64(sampled)) * (1 + (rng.Float64()-0.5)*1e-5)
		case 2:
			first.F = rng.Float64() * result
		case 3:
			result, first.F = -result, rng.Float64()*100
		}
		for _, kind := range []struct{ isCounter, isRate bool }{{true, true}, {true, false}, {false, false}} {
			want := extrapolate(result, first, last, n, rangeStart, rangeEnd, window, kind.isCounter, kind.isRate)
			x := newExtrapolation(toStart, toEnd, sampled, n, window, kind.isRate)
			if got := x.apply(result, first.F, window, kind.isCounter, kind.isRate); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("window %d ms, first %d ms in, %d intervals of %d ms, change %v from %v, %+v: got %v, want %v",
					window, toStart, n, interval, result, first.F, kind, got, want)
			}
		}
	}
}
