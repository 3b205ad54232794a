package stacklang_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

func TestPercentileBuckets(t *testing.T) {
	for i, want := range []int64{1, 2, 3, 4, 5} {
		if got := stacklang.BucketValue(i); got != want {
			t.Errorf("BucketValue(%d) = %d, want %d", i, got, want)
		}
	}
	if got := stacklang.BucketValue(275); got != math.MaxInt64 {
		t.Errorf("BucketValue(275) = %d, want MaxInt64 (276 buckets)", got)
	}
	// Spectator's own test: indexOf(87) == 25.
	if got := stacklang.BucketIndex(87); got != 25 {
		t.Errorf("BucketIndex(87) = %d, want 25", got)
	}
	for i := 1; i < 276; i++ {
		if stacklang.BucketValue(i) <= stacklang.BucketValue(i-1) {
			t.Fatalf("buckets not increasing at %d", i)
		}
	}
}

// bucket is one Spectator percentile counter: rate per second, constant.
func bucket(name, kind string, idx int, rate float64, kv ...string) model.TimeSeries {
	ls := append([]string{"__name__", name, "percentile", fmt.Sprintf("%s%04X", kind, idx)}, kv...)
	return series([]float64{rate, rate, rate, rate}, ls...)
}

func TestPercentiles(t *testing.T) {
	b := func(i int) float64 { return float64(stacklang.BucketValue(i)) }
	e := newEngine(
		// Timer, app a: all samples in bucket 66.
		bucket("lat", "T", 66, 1, "nf.app", "a"),
		// Timer, app b: half in bucket 10, half in bucket 20.
		bucket("lat", "T", 10, 2, "nf.app", "b"),
		bucket("lat", "T", 20, 2, "nf.app", "b"),
		// Distribution summary: one bucket, units as recorded.
		bucket("size", "D", 30, 0.5),
		series([]float64{1, 1, 1, 1}, "__name__", "lat", "statistic", "count", "nf.app", "a"),
	)
	r := eval(t, e, "name,lat,:eq,(,nf.app,),:by,(,25,50,75,),:percentiles,$(nf.app)_p$percentile,:legend", 4)
	want := map[string]float64{
		"a_p 25.0": (b(65) + 0.25*(b(66)-b(65))) * 1e-9,
		"a_p 50.0": (b(65) + 0.5*(b(66)-b(65))) * 1e-9,
		"a_p 75.0": (b(65) + 0.75*(b(66)-b(65))) * 1e-9,
		"b_p 25.0": (b(9) + 0.5*(b(10)-b(9))) * 1e-9,
		"b_p 50.0": b(10) * 1e-9,
		"b_p 75.0": (b(19) + 0.5*(b(20)-b(19))) * 1e-9,
	}
	if len(r.Series) != len(want) {
		t.Fatalf("got %d lines, want %d", len(r.Series), len(want))
	}
	for _, s := range r.Series {
		w, ok := want[s.Label]
		if !ok {
			t.Errorf("unexpected line %q", s.Label)
			continue
		}
		if math.Abs(s.Values[0]-w) > 1e-12*math.Max(1, w) {
			t.Errorf("%s: got %g, want %g", s.Label, s.Values[0], w)
		}
	}
	r = eval(t, e, "name,size,:eq,:median", 4)
	if got, w := r.Series[0].Values[2], b(29)+0.5*(b(30)-b(29)); got != w || r.Series[0].Tags["percentile"] != " 50.0" {
		t.Errorf("median: got %g tags %v, want %g with percentile \" 50.0\"", got, r.Series[0].Tags, w)
	}
	// Bucket 66 is (49150ns, 54611ns]: inside [40µs, 60µs], a rate of 1.
	r = eval(t, e, "name,lat,:eq,nf.app,a,:eq,:and,0.00004,0.00006,:sample-count", 4)
	if got := r.Series[0].Values[0]; got != 1 {
		t.Errorf("sample-count: got %g, want 1", got)
	}
}
