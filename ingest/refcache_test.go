package ingest

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/stratus-metrics/stratus/model"
)

// refAppender is a RefAppender that hands out a reference per label set
// and checks every reference it is given against the labels it comes with.
type refAppender struct {
	t  testing.TB
	mu sync.Mutex
	// byLabels and byRef map label sets to references and back; dropped
	// references are forgotten, as a series removed by retention is.
	byLabels map[string]uint64
	byRef    map[uint64]string
	next     uint64
	// given counts the non-zero references AppendRefs got; plain counts
	// Append calls.
	given, plain int
	stored       map[string][]model.Sample
}

func newRefAppender(t testing.TB) *refAppender {
	return &refAppender{t: t, byLabels: map[string]uint64{}, byRef: map[uint64]string{}, stored: map[string][]model.Sample{}}
}

func (a *refAppender) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	a.mu.Lock()
	a.plain++
	a.mu.Unlock()
	return a.AppendRefs(batch, make([]uint64, len(batch)))
}

func (a *refAppender) AppendRefs(batch []model.TimeSeries, refs []uint64) (model.AppendResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var res model.AppendResult
	for i, ts := range batch {
		key := ts.Labels.String()
		if refs[i] != 0 {
			a.given++
			if got, ok := a.byRef[refs[i]]; ok && got != key {
				a.t.Errorf("reference %d names %s, but came with %s", refs[i], got, key)
			}
		}
		ref, ok := a.byLabels[key]
		if !ok {
			a.next++
			ref = a.next
			a.byLabels[key], a.byRef[ref] = ref, key
		}
		refs[i] = ref
		a.stored[key] = append(a.stored[key], ts.Samples...)
		res.Accepted += len(ts.Samples)
	}
	return res, nil
}

// forget drops a label set's reference, as retention removes a series.
func (a *refAppender) forget(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.byRef, a.byLabels[key])
	delete(a.byLabels, key)
}

// TestRemoteWriteSeriesReferences sends requests of series in changing
// orders, with new and dropped series, over remote write 1.0 and 2.0, and
// checks that known series reach the store with their reference, and
// every sample with its labels.
func TestRemoteWriteSeriesReferences(t *testing.T) {
	for _, version := range []int{1, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) { testSeriesReferences(t, version) })
	}
}

func testSeriesReferences(t *testing.T, version int) {
	app := newRefAppender(t)
	cfg := DefaultConfig()
	cfg.BatchSeries = 70 // several flushes per request
	h := NewHandler(app, cfg, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.now = func() time.Time { return testNow }
	env := &testEnv{h: h, mux: mux.NewRouter()}
	h.Register(env.mux)

	// body encodes series in the version under test; 2.0 builds a new
	// symbol table per request, as senders do.
	body := func(series []prompb.TimeSeries) ([]byte, []string) {
		if version == 1 {
			return rwBody(t, series...), []string{"Content-Encoding", "snappy"}
		}
		sets := make([]labels.Labels, len(series))
		for i, ts := range series {
			b := labels.NewScratchBuilder(len(ts.Labels))
			for _, l := range ts.Labels {
				b.Add(l.Name, l.Value)
			}
			b.Sort()
			sets[i] = b.Labels()
		}
		return rw2Body(t, func(req *writev2.Request) {
			for i := range req.Timeseries {
				s := series[i].Samples[0]
				req.Timeseries[i].Samples = []writev2.Sample{{Value: s.Value, Timestamp: s.Timestamp}}
			}
		}, sets...), []string{"Content-Encoding", "snappy", "Content-Type", rw2ContentType}
	}

	rng := rand.New(rand.NewPCG(3, 4))
	const nSeries = 300
	names := make([]prompb.TimeSeries, nSeries)
	for i := range names {
		names[i] = rwSeries("rows_copied_total", "table", fmt.Sprintf("t%03d", i), "country", []string{"pt", "es", "fr"}[i%3])
	}
	want := map[string]int{}
	for round := range 12 {
		// A contiguous run in the usual order, sometimes shuffled, and
		// a duplicate.
		start := rng.IntN(nSeries / 2)
		n := 50 + rng.IntN(nSeries-start-50)
		var series []prompb.TimeSeries
		for i := start; i < start+n; i++ {
			ts := names[i]
			ts.Samples = []prompb.Sample{{Value: float64(round), Timestamp: testNowMs + int64(round)}}
			series = append(series, ts)
		}
		if round%3 == 2 {
			rng.Shuffle(len(series), func(i, j int) { series[i], series[j] = series[j], series[i] })
		}
		series = append(series, series[0])
		for _, ts := range series {
			ls := model.Labels{}
			for _, l := range ts.Labels {
				ls = append(ls, model.Label{Name: l.Name, Value: l.Value})
			}
			ls.Sort()
			want[ls.String()]++
		}
		if round == 6 {
			// Retention removed a series: its reference is stale.
			ls := model.FromStrings("__name__", "rows_copied_total", "country", "pt", "table", fmt.Sprintf("t%03d", start))
			app.forget(ls.String())
		}
		data, headers := body(series)
		if rec := env.do(t, "/api/v1/write", data, headers...); rec.Code != 204 {
			t.Fatalf("round %d: %d %s", round, rec.Code, rec.Body)
		}
	}
	for key, n := range want {
		if got := len(app.stored[key]); got != n {
			t.Errorf("%s: %d samples stored, want %d", key, got, n)
		}
	}
	if len(app.stored) != len(want) {
		t.Errorf("%d series stored, want %d", len(app.stored), len(want))
	}
	if app.given == 0 || app.plain != 0 {
		t.Errorf("references given %d times, plain appends %d: the cache was not used", app.given, app.plain)
	}
	if got := h.refs.len(); got == 0 || got > nSeries {
		t.Errorf("cache holds %d series, want 1..%d", got, nSeries)
	}
}

// TestRefCache checks lookups in order and out of order, updates, and the
// fresh start at the size bound.
func TestRefCache(t *testing.T) {
	c := newRefCache()
	keys := make([]refKey, 5000)
	for i := range keys {
		keys[i] = c.key([]byte(fmt.Sprintf("series-%d", i)))
	}
	pending := func(ks []refKey) []pendingRef {
		ps := make([]pendingRef, len(ks))
		for i, k := range ks {
			ps[i] = pendingRef{key: k, keyed: true, ref: 999} // lookup must clear it
		}
		return ps
	}
	refsOf := func(ps []pendingRef) []uint64 {
		out := make([]uint64, len(ps))
		for i, p := range ps {
			out[i] = p.ref
		}
		return out
	}
	ps := pending(keys)
	c.lookup(ps)
	if slices.ContainsFunc(ps, func(p pendingRef) bool { return p.ref != 0 }) {
		t.Fatal("an empty cache found a reference")
	}
	refs := make([]uint64, len(keys))
	for i := range refs {
		refs[i] = uint64(i + 1)
	}
	c.store(ps, refs)
	for _, order := range []string{"same", "reversed", "shuffled"} {
		ks := slices.Clone(keys)
		switch order {
		case "reversed":
			slices.Reverse(ks)
		case "shuffled":
			rand.New(rand.NewPCG(1, 1)).Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
		}
		ps := pending(ks)
		c.lookup(ps)
		for i, p := range ps {
			j := slices.Index(keys, ks[i])
			if p.ref != uint64(j+1) {
				t.Fatalf("%s order: series %d got reference %d, want %d", order, j, p.ref, j+1)
			}
		}
	}
	// A changed reference replaces the old one; an unkeyed series is left alone.
	ps = pending(keys[:2])
	c.lookup(ps)
	ps[1].keyed = false
	c.store(ps, []uint64{77, 78})
	ps = pending(keys[:2])
	c.lookup(ps)
	if got := refsOf(ps); got[0] != 77 || got[1] != 2 {
		t.Fatalf("after an update: %v, want [77 2]", got)
	}
	if c.len() != len(keys) {
		t.Fatalf("cache holds %d series, want %d", c.len(), len(keys))
	}
	// At the bound the cache starts over.
	c.entries = append(c.entries, make([]refEntry, refCacheMaxEntries-len(c.entries))...)
	extra := c.key([]byte("one more"))
	c.store([]pendingRef{{key: extra, keyed: true}}, []uint64{5})
	if c.len() != 1 {
		t.Fatalf("cache at its bound holds %d series after a store, want 1", c.len())
	}
	ps = pending([]refKey{keys[3], extra})
	c.lookup(ps)
	if got := refsOf(ps); got[0] != 0 || got[1] != 5 {
		t.Fatalf("after starting over: %v, want [0 5]", got)
	}
}
