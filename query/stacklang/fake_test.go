package stacklang_test

import (
	"context"
	"testing"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/querytest"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

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
	return stacklang.NewEngine(query.NewEngine(querytest.NewMemQuerier(ss...), query.DefaultEngineOptions()))
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
