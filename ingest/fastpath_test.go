package ingest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/prompb"
	"github.com/stratus-metrics/stratus/model"
)

// rw1Messages returns TimeSeries messages as encoders write them, with
// zero values, empty strings, exemplars and histograms, and byte-level
// mutations of them: inputs for the fast-path tests.
func rw1Messages(t *testing.T) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var msgs [][]byte
	for i := range 300 {
		ts := rwSeries(fmt.Sprint("m", i%7), "job", strings.Repeat("j", i%200), "empty", "", "", "v")
		ts.Samples = append(ts.Samples, prompb.Sample{}, prompb.Sample{Value: math.Inf(-1), Timestamp: -5})
		if i%5 == 0 {
			ts.Exemplars = []prompb.Exemplar{{Value: 1, Timestamp: 2}}
		}
		if i%11 == 0 {
			ts.Histograms = []prompb.Histogram{{Timestamp: 3}}
		}
		switch i % 13 {
		case 1:
			ts.Labels = append(ts.Labels, prompb.Label{Name: "city", Value: "Köln"})
		case 2:
			ts.Labels = append(ts.Labels, prompb.Label{Name: "bad\xff", Value: "x"})
		}
		b, err := ts.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, b)
		for range 20 {
			m := slices.Clone(b)
			switch rng.IntN(3) {
			case 0:
				m[rng.IntN(len(m))] = byte(rng.IntN(256))
			case 1:
				m = m[:rng.IntN(len(m))]
			case 2:
				m[rng.IntN(len(m))] ^= 1 << rng.IntN(8)
			}
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// TestRW1FastPathAgrees checks that readRW1SeriesFast, wherever it accepts
// a message, reads the same series as readRW1Series.
func TestRW1FastPathAgrees(t *testing.T) {
	h := NewHandler(nopAppender{}, DefaultConfig(), nil, nil)
	fast, ascii := 0, 0
	for _, m := range rw1Messages(t) {
		s := bodyString(m)
		r := h.newRequest(formatRemoteWrite, "timeseries")
		r.startSeries()
		fh, ok := r.readRW1SeriesFast(s, m, m)
		fl, fs, fa := slices.Clone(r.labels), slices.Clone(r.samples), r.labelsASCII
		if ok && fa {
			for _, l := range fl {
				if !isASCII([]byte(l.Name + l.Value)) {
					t.Fatalf("%x: labelsASCII set for label %q=%q", m, l.Name, l.Value)
				}
			}
		}
		r.abortSeries()
		sh, err := r.readRW1Series(s, m, m)
		if ok {
			fast++
			if fa {
				ascii++
			}
			if err != nil {
				t.Fatalf("%x: fast path accepted what the general reader rejects: %v", m, err)
			}
			if fh != sh || !slices.Equal(fl, r.labels) || !slices.EqualFunc(fs, r.samples, func(a, b model.Sample) bool {
				return a.T == b.T && math.Float64bits(a.V) == math.Float64bits(b.V)
			}) {
				t.Fatalf("%x: fast path read %d histograms %v %v, general reader %d %v %v", m, fh, fl, fs, sh, r.labels, r.samples)
			}
		}
		r.release()
	}
	if fast < 300 || ascii < 250 {
		t.Errorf("fast path took %d messages and found %d all ASCII; every unmutated one should take it, and most be ASCII", fast, ascii)
	}
}

// TestLabelsValidAgrees checks that validateLabels' fast path accepts only
// label sets its careful path accepts unchanged.
func TestLabelsValidAgrees(t *testing.T) {
	long := strings.Repeat("x", 5000)
	sets := [][]string{
		{"__name__", "up", "job", "a"},
		{"__name__", "up", "job", ""},
		{"job", "a", "__name__", "up"},
		{"__name__", "up", "job", "a", "job", "b"},
		{"__name__", "up", "job", "b", "job", "a"},
		{"__name__", "up", "", "a"},
		{"__name__", "", "job", "a"},
		{"job", "a"},
		{"__name__", "up", "job", "\xff"},
		{"__name__", "up", "j\xffb", "a"},
		{"__name__", "up", "job", long},
		{"__name__", "up", long, "a"},
		{"__name__", "1up", "job", "a"},
		{"__name__", "up", "1job", "a"},
		{"__name__", "up", "a", "1", "b", "2", "c", "3"},
		{"__name__", "up", "a", "", "b", "2", "c", "3", "d", "4"},
	}
	for _, legacy := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.LegacyNameValidation = legacy
		cfg.MaxLabelsPerSeries = 4
		h := NewHandler(nopAppender{}, cfg, nil, nil)
		for _, kv := range sets {
			var ls model.Labels
			for i := 0; i < len(kv); i += 2 {
				ls = append(ls, model.Label{Name: kv[i], Value: kv[i+1]})
			}
			fastIn := slices.Clone(ls)
			fastOut, ok := h.labelsValid(fastIn, false)
			slowOut, err := h.checkLabels(slices.Clone(ls))
			if ok && (err != nil || !slices.Equal(fastOut, slowOut)) {
				t.Errorf("legacy=%v %v: fast path accepted %v, careful path %v, %v", legacy, kv, fastOut, slowOut, err)
			}
			if !ok && err == nil && slices.Equal(fastOut, slowOut) {
				t.Errorf("legacy=%v %v: fast path refused labels the careful path accepts as they are", legacy, kv)
			}
			// What the careful path sees after the fast path refused.
			if !ok {
				if _, err2 := h.checkLabels(fastOut); (err2 == nil) != (err == nil) {
					t.Errorf("legacy=%v %v: careful path judges the fast path's leftovers differently: %v vs %v", legacy, kv, err2, err)
				}
			}
		}
	}
}
