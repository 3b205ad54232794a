package query_test

// The differential test: the same generated data in Prometheus' own TSDB
// evaluated by Prometheus' engine, and in Stratus' tsdb evaluated by our
// engine, over hundreds of expressions as instant and range queries. The
// data set, expressions and comparison live in query/querytest so that a
// test can run them through the real binary's HTTP API
// (cmd/stratus/query_e2e_test.go).

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/querytest"
	"github.com/stratus-metrics/stratus/query/querytest/promref"
	"github.com/stratus-metrics/stratus/tsdb"
)

// promEngine and loadProm are Prometheus' side of the comparison, shared
// with the benchmarks.
func promEngine() *promql.Engine { return promref.NewEngine() }

func loadProm(t testing.TB, data []model.TimeSeries) storage.Storage { return promref.Load(t, data) }

// loadStratus appends the data to an in-memory Stratus DB whose clock
// stands at the end of the data, so that nothing is too old.
func loadStratus(t testing.TB, data []model.TimeSeries, end int64) *tsdb.DB {
	opts := tsdb.DefaultOptions()
	opts.Now = func() time.Time { return time.UnixMilli(end) }
	opts.Retention = 30 * 24 * time.Hour
	db, err := tsdb.Open("", opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	res, err := db.Append(data)
	if err != nil || res.Rejected > 0 {
		t.Fatalf("append: %v, %d rejected: %v", err, res.Rejected, res.Rejections)
	}
	return db
}

func fromOurResult(res *query.Result, err error) querytest.Result {
	if err != nil {
		return querytest.Result{Err: err.Error()}
	}
	out := querytest.Result{Type: string(res.Value.Type())}
	switch v := res.Value.(type) {
	case query.Vector:
		for _, s := range v {
			out.Series = append(out.Series, querytest.Series{Labels: querytest.LabelsString(s.Metric.Map()), Points: []querytest.Point{{T: s.T, F: s.F}}})
		}
	case query.Matrix:
		for _, s := range v {
			ser := querytest.Series{Labels: querytest.LabelsString(s.Metric.Map())}
			for _, p := range s.Floats {
				ser.Points = append(ser.Points, querytest.Point{T: p.T, F: p.F})
			}
			out.Series = append(out.Series, ser)
		}
	case query.Scalar:
		out.Series = []querytest.Series{{Labels: "{}", Points: []querytest.Point{{T: v.T, F: v.V}}}}
	case query.String:
		out.Series = []querytest.Series{{Labels: v.V, Points: []querytest.Point{{T: v.T}}}}
	}
	return out
}

func TestDifferentialAgainstPrometheus(t *testing.T) {
	data := querytest.Data(1)
	prom := loadProm(t, data)
	db := loadStratus(t, data, querytest.DataEnd)
	pe := promEngine()
	ours := query.NewEngine(db, query.DefaultEngineOptions())
	ctx := context.Background()

	rangeStart, rangeEnd, step := querytest.RangeStart, querytest.RangeEnd, time.Duration(querytest.RangeStep)*time.Millisecond
	exprs := querytest.Expressions()
	var total, matched, failedQueries int
	for _, expr := range exprs {
		if reason, ok := querytest.DeliberateDifferences[expr]; ok {
			t.Logf("skipped %q: %s", expr, reason)
			continue
		}
		ordered := querytest.Ordered(expr)
		check := func(kind string, want querytest.Result, got querytest.Result) {
			total++
			if want.Err != "" {
				failedQueries++
			}
			if err := querytest.Compare(got, want, ordered); err != nil {
				t.Errorf("%s %s: %v", kind, expr, err)
				return
			}
			matched++
		}
		for _, ts := range querytest.InstantTimes {
			want, err := promref.Instant(ctx, pe, prom, expr, ts)
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("instant at %ds", ts/1000), want, fromOurResult(ours.Instant(ctx, expr, time.UnixMilli(ts))))
		}
		want, err := promref.Range(ctx, pe, prom, expr, rangeStart, rangeEnd, step)
		if err != nil {
			t.Fatal(err)
		}
		if want.Type == string(parser.ValueTypeMatrix) || want.Err != "" {
			check("range", want, fromOurResult(ours.Range(ctx, expr, time.UnixMilli(rangeStart), time.UnixMilli(rangeEnd), step)))
		}
	}
	t.Logf("differential test: %d of %d queries (%d expressions, %d expected errors) match Prometheus", matched, total, len(exprs), failedQueries)
	if len(exprs) < 300 {
		t.Errorf("only %d expressions; the test needs at least 300", len(exprs))
	}
}
