package stacklang_test

import (
	"math"
	"testing"
)

func TestSmoke(t *testing.T) {
	nan := math.NaN()
	e := newEngine(
		series([]float64{1, 2, 3, 4}, "__name__", "http.requests", "status", "5xx", "nf.app", "a"),
		series([]float64{10, 20, nan, 40}, "__name__", "http.requests", "status", "5xx", "nf.app", "b"),
		series([]float64{100, 100, 100, 100}, "__name__", "http.requests", "status", "2xx", "nf.app", "a"),
	)
	for _, q := range []string{
		"name,http.requests,:eq,status,5xx,:re,:and,:sum,(,nf.app,),:by",
		"name,http.requests,:eq,:sum",
		"name,http.requests,:eq,:avg,(,nf.app,),:by",
		"name,http.requests,:eq,:all",
		"name,http.requests,:eq,(,status,),:by,:dup,:sum,:div",
		"name,http.requests,:eq,(,nf.app,),:by,max,1,:topk",
		"name,http.requests,:eq,(,nf.app,),:by,:stat-max,50,:gt,:filter,$nf.app,:legend",
		"name,http.requests,:eq,:sum,2,:rolling-sum,:integral",
	} {
		r := eval(t, e, q, 4)
		for _, s := range r.Series {
			t.Logf("%s: %s %v %v", q, s.Label, s.Tags, s.Values)
		}
	}
}
