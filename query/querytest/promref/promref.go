// Package promref evaluates the differential test's expressions with
// Prometheus' own engine over Prometheus' own TSDB: the reference every
// Stratus differential test compares against, whether it runs our engine
// in-process (query's tests) or the real binary over HTTP (cmd/stratus).
//
// It imports Prometheus' promql and tsdb packages, so only tests and
// benchmarks may import it; TestBinaryExcludesPeerEngines keeps it out of
// the binary.
package promref

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query/querytest"
)

// NewEngine returns Prometheus' engine configured like Stratus' defaults
// (query.DefaultEngineOptions): 5m lookback, 1m default subquery step, @
// and negative offsets enabled, the experimental functions parsed.
func NewEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               50_000_000,
		Timeout:                  time.Minute,
		LookbackDelta:            5 * time.Minute,
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		Parser:                   parser.NewParser(parser.Options{EnableExperimentalFunctions: true}),
	})
}

// Load appends data to a fresh Prometheus TSDB that lives as long as the
// test. Staleness markers are appended as the stale NaN they are.
func Load(t testing.TB, data []model.TimeSeries) storage.Storage {
	t.Helper()
	st := teststorage.New(t)
	app := st.Appender(context.Background())
	for _, ts := range data {
		b := labels.NewScratchBuilder(len(ts.Labels))
		for _, l := range ts.Labels {
			b.Add(l.Name, l.Value)
		}
		ls := b.Labels()
		var ref storage.SeriesRef
		for _, s := range ts.Samples {
			var err error
			if ref, err = app.Append(ref, ls, s.T, s.V); err != nil {
				t.Fatalf("prometheus append %s at %d: %v", ls, s.T, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("prometheus commit: %v", err)
	}
	return st
}

// Instant evaluates expr at ts (milliseconds) and returns the result in
// querytest's engine-neutral shape. An expression Prometheus cannot parse
// is an error of the test, not a result.
func Instant(ctx context.Context, eng *promql.Engine, st storage.Queryable, expr string, ts int64) (querytest.Result, error) {
	q, err := eng.NewInstantQuery(ctx, st, nil, expr, time.UnixMilli(ts))
	if err != nil {
		return querytest.Result{}, fmt.Errorf("prometheus cannot parse %q: %w", expr, err)
	}
	defer q.Close()
	return FromResult(q.Exec(ctx)), nil
}

// Range evaluates expr from start to end (milliseconds) at step.
func Range(ctx context.Context, eng *promql.Engine, st storage.Queryable, expr string, start, end int64, step time.Duration) (querytest.Result, error) {
	q, err := eng.NewRangeQuery(ctx, st, nil, expr, time.UnixMilli(start), time.UnixMilli(end), step)
	if err != nil {
		return querytest.Result{}, fmt.Errorf("prometheus cannot parse %q: %w", expr, err)
	}
	defer q.Close()
	return FromResult(q.Exec(ctx)), nil
}

// FromResult converts a Prometheus query result; it copies what it keeps,
// so the query may be closed afterwards.
func FromResult(res *promql.Result) querytest.Result {
	if res.Err != nil {
		return querytest.Result{Err: res.Err.Error()}
	}
	labelsString := func(ls labels.Labels) string { return querytest.LabelsString(ls.Map()) }
	out := querytest.Result{Type: string(res.Value.Type())}
	switch v := res.Value.(type) {
	case promql.Vector:
		for _, s := range v {
			out.Series = append(out.Series, querytest.Series{Labels: labelsString(s.Metric), Points: []querytest.Point{{T: s.T, F: s.F}}})
		}
	case promql.Matrix:
		for _, s := range v {
			ser := querytest.Series{Labels: labelsString(s.Metric)}
			for _, p := range s.Floats {
				ser.Points = append(ser.Points, querytest.Point{T: p.T, F: p.F})
			}
			out.Series = append(out.Series, ser)
		}
	case promql.Scalar:
		out.Series = []querytest.Series{{Labels: "{}", Points: []querytest.Point{{T: v.T, F: v.V}}}}
	case promql.String:
		out.Series = []querytest.Series{{Labels: v.V, Points: []querytest.Point{{T: v.T}}}}
	}
	return out
}
