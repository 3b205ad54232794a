package query_test

// The differential test: the same generated data in Prometheus' own TSDB
// evaluated by Prometheus' engine, and in Stratus' tsdb evaluated by our
// engine, over hundreds of expressions as instant and range queries. The
// data set, expressions and comparison live in query/querytest so that a
// later test can run them through the real binary's HTTP API.

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
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/querytest"
	"github.com/stratus-metrics/stratus/tsdb"
)

// deliberateDifferences lists expressions whose results differ from
// Prometheus on purpose, with the reason. Besides these, the native
// histogram functions (histogram_count, histogram_sum, ...) return an
// error here where Prometheus returns nothing for float series, and are
// therefore not in querytest.Expressions.
var deliberateDifferences = map[string]string{
	"limitk(2, http_requests_total)": "limitk returns any k series of a group: Prometheus takes the first k in its " +
		"head's posting (creation) order, Stratus the first k in label order, which does not depend on ingestion history",
}

// promEngineOpts mirrors our engine's defaults in Prometheus' engine.
func promEngine() *promql.Engine {
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

// loadProm appends the data to a Prometheus TSDB head.
func loadProm(t testing.TB, data []model.TimeSeries) storage.Storage {
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
				t.Fatalf("prometheus append %s: %v", ls, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	return st
}

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

func fromPromResult(res *promql.Result) querytest.Result {
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

	instants := []int64{30 * 60_000, 61*60_000 + 7_000, querytest.DataEnd}
	rangeStart, rangeEnd, step := int64(10*60_000), int64(110*60_000), time.Minute
	exprs := querytest.Expressions()
	var total, matched, failedQueries int
	for _, expr := range exprs {
		if reason, ok := deliberateDifferences[expr]; ok {
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
		for _, ts := range instants {
			tm := time.UnixMilli(ts)
			q, err := pe.NewInstantQuery(ctx, prom, nil, expr, tm)
			if err != nil {
				t.Fatalf("prometheus cannot parse %q: %v", expr, err)
			}
			want := fromPromResult(q.Exec(ctx))
			q.Close()
			check(fmt.Sprintf("instant at %ds", ts/1000), want, fromOurResult(ours.Instant(ctx, expr, tm)))
		}
		q, err := pe.NewRangeQuery(ctx, prom, nil, expr, time.UnixMilli(rangeStart), time.UnixMilli(rangeEnd), step)
		if err != nil {
			t.Fatalf("prometheus cannot parse %q: %v", expr, err)
		}
		want := fromPromResult(q.Exec(ctx))
		q.Close()
		if want.Type == string(parser.ValueTypeMatrix) || want.Err != "" {
			check("range", want, fromOurResult(ours.Range(ctx, expr, time.UnixMilli(rangeStart), time.UnixMilli(rangeEnd), step)))
		}
	}
	t.Logf("differential test: %d of %d queries (%d expressions, %d expected errors) match Prometheus", matched, total, len(exprs), failedQueries)
	if len(exprs) < 300 {
		t.Errorf("only %d expressions; the test needs at least 300", len(exprs))
	}
}
