package query

import (
	"errors"
	"math"
	"math/bits"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// Streamed aggregation: an aggregation of a range function over a selector
// (sum by (code) (rate(x[5m])), topk(10, rate(x[5m]))) consumes the
// function's values series by series, as each series is decoded, instead
// of materializing the function's result (every series x every step) and
// walking it step by step. Only the aggregation's own state is held:
// groups x steps accumulators, or k-entry heaps per group and step.

// streamableRangeCall returns the range-vector function call, and its
// implementation, of an aggregation that can consume it series by series
// (see aggregateStreamed and aggregateKStreamed), or nil. That takes sum,
// min, max, count, group, topk or bottomk over a range function (rate,
// increase, *_over_time, ...) of a selector whose series stay distinct
// when the function drops __name__: the selector fixes the name, or the
// function keeps it. Anything else takes the general path.
func (ev *evaluator) streamableRangeCall(e *parser.AggregateExpr) (*parser.Call, function) {
	if ev.noFastPaths {
		return nil, function{}
	}
	switch e.Op {
	case parser.SUM, parser.MIN, parser.MAX, parser.COUNT, parser.GROUP, parser.TOPK, parser.BOTTOMK:
	default:
		return nil, function{}
	}
	if !e.Without && slices.ContainsFunc(e.Grouping, isMetadataLabel) {
		return nil, function{} // by (__name__) must see the name dropped
	}
	call, ok := e.Expr.(*parser.Call)
	if !ok {
		return nil, function{}
	}
	name := call.Func.Name
	fn, ok := functions[name]
	if !ok || fn.matrix == nil || name == "absent_over_time" {
		return nil, function{}
	}
	var ms *parser.MatrixSelector
	for i := range call.Args {
		for {
			p, ok := call.Args[i].(*parser.ParenExpr)
			if !ok {
				break
			}
			call.Args[i] = p.Expr
		}
		if m, ok := call.Args[i].(*parser.MatrixSelector); ok {
			ms = m
		}
	}
	if ms == nil {
		return nil, function{}
	}
	keepName := name == "last_over_time" || name == "first_over_time"
	fixedName := slices.ContainsFunc(ms.VectorSelector.(*parser.VectorSelector).LabelMatchers, func(m *labels.Matcher) bool {
		return m.Name == model.MetricName && m.Type == labels.MatchEqual
	})
	if !keepName && !fixedName {
		return nil, function{}
	}
	return call, fn
}

// errNotStreamable aborts a streamed aggregation that met a series it
// cannot handle, so that the general path evaluates the expression.
var errNotStreamable = errors.New("BUG: streamed aggregation fell through")

// fallBackOnNotStreamable is deferred by the streamed aggregations: a
// series with __type__ or __unit__ could collide with another once its
// metadata labels are dropped, so on errNotStreamable the general path,
// which reports such collisions, evaluates the aggregation from scratch
// with the statistics as they were before.
func (ev *evaluator) fallBackOnNotStreamable(e *parser.AggregateExpr, grouping []string, params Matrix, saved Stats, out *Matrix) {
	if r := recover(); r != nil {
		if r != errNotStreamable {
			panic(r)
		}
		*ev.stats = saved
		*out = ev.evalAggregateGeneral(e, grouping, params)
	}
}

// checkStreamable panics with errNotStreamable for a series whose
// function result could collide with another's (see
// fallBackOnNotStreamable).
func checkStreamable(rc *rangeCall, ls model.Labels) {
	if !rc.keepName && slices.ContainsFunc(ls, func(l model.Label) bool { return l.Name != model.MetricName && isMetadataLabel(l.Name) }) {
		panic(errNotStreamable)
	}
}

// aggregateStreamed evaluates sum, min, max, count or group of a range
// function series by series: each selected series' function values are
// computed into a reused buffer and folded into the groups' per-step
// accumulators at once. For every group and step the values arrive in the
// same order as in the step-by-step general path, so sums round
// identically.
//
// The accumulators are the result's own points, one array per group
// (recycled from earlier queries when there are; see pool.go):
// while accumulating, F holds the running value and T the bits of sum's
// Kahan compensation; a bitmap per group says which steps have a value.
// A group's points are compacted in place at the end.
func (ev *evaluator) aggregateStreamed(e *parser.AggregateExpr, grouping []string, call *parser.Call, fn function) (out Matrix) {
	defer ev.fallBackOnNotStreamable(e, grouping, nil, *ev.stats, &out)
	rc := ev.prepareRangeCall(call, fn)
	n := ev.numSteps()
	words := (n + 63) / 64
	gidx := newGroupIndex(grouping, e.Without)
	arrays := pointArraysPool.Get().(*pointArrays)
	defer pointArraysPool.Put(arrays)
	var (
		result Matrix
		seen   []uint64 // words bits per group: step i of group g has a value
	)
	rc.eachValues(func(ls model.Labels, buf []FPoint) {
		checkStreamable(rc, ls)
		gi, isNew := gidx.lookup(ls)
		if isNew {
			result = append(result, Series{Metric: groupLabels(ls, e.Grouping, e.Without), Floats: arrays.take(n)})
			seen = slices.Grow(seen, words)[:len(seen)+words]
		}
		acc, sn := result[gi].Floats, seen[gi*words:(gi+1)*words]
		for _, p := range buf {
			i := int((p.T - ev.start) / ev.interval)
			f := p.F
			a := &acc[i]
			if sn[i/64]&(1<<(i%64)) == 0 {
				sn[i/64] |= 1 << (i % 64)
				a.F, a.T = f, 0
				if e.Op == parser.COUNT || e.Op == parser.GROUP {
					a.F = 1
				}
				continue
			}
			switch e.Op {
			case parser.SUM:
				var c float64
				a.F, c = kahanInc(f, a.F, math.Float64frombits(uint64(a.T)))
				a.T = int64(math.Float64bits(c))
			case parser.MAX:
				if a.F < f || math.IsNaN(a.F) {
					a.F = f
				}
			case parser.MIN:
				if a.F > f || math.IsNaN(a.F) {
					a.F = f
				}
			case parser.COUNT:
				a.F++
			}
		}
	})
	for gi := range result {
		pts, sn := result[gi].Floats, seen[gi*words:(gi+1)*words]
		j := 0
		for w, word := range sn {
			for word != 0 {
				k := w*64 + bits.TrailingZeros64(word)
				word &= word - 1
				v := pts[k].F
				if e.Op == parser.SUM {
					v += math.Float64frombits(uint64(pts[k].T))
				}
				pts[j] = FPoint{T: ev.start + int64(k)*ev.interval, F: v}
				j++
			}
		}
		// The capacity stays: the array may be recycled (recycleMatrix).
		result[gi].Floats = pts[:j]
	}
	return result
}

// kEntry is a sample in a streamed topk or bottomk heap: its value and the
// ordinal of its series.
type kEntry struct {
	F float64
	s int32
}

// kHeap orders entries as sampleHeap (topk) or reverseSampleHeap
// (bottomk) order samples, NaN first, so that heap operations and sorting
// permute entries exactly as they permute the general path's samples.
type kHeap struct {
	es     []kEntry
	bottom bool
}

func (h kHeap) Len() int      { return len(h.es) }
func (h kHeap) Swap(i, j int) { h.es[i], h.es[j] = h.es[j], h.es[i] }
func (h kHeap) Less(i, j int) bool {
	if math.IsNaN(h.es[i].F) {
		return true
	}
	if h.bottom {
		return h.es[i].F > h.es[j].F
	}
	return h.es[i].F < h.es[j].F
}

// up and down are container/heap's, on the concrete type.
func (h kHeap) up(j int) {
	for {
		i := (j - 1) / 2 // parent
		if i == j || !h.Less(j, i) {
			break
		}
		h.Swap(i, j)
		j = i
	}
}

func (h kHeap) down(i int) {
	n := len(h.es)
	for {
		j1 := 2*i + 1
		if j1 >= n || j1 < 0 {
			break
		}
		j := j1
		if j2 := j1 + 1; j2 < n && h.Less(j2, j1) {
			j = j2
		}
		if !h.Less(j, i) {
			break
		}
		h.Swap(i, j)
		i = j
	}
}

// push offers x to a heap of at most k entries, as aggregateK does: it is
// added while the heap is not full, else it replaces the root when it is
// better (a NaN root is replaced by any number).
func (h kHeap) push(x kEntry, k int64) []kEntry {
	if int64(len(h.es)) < k {
		h.es = append(h.es, x)
		h.up(len(h.es) - 1)
		return h.es
	}
	root := h.es[0].F
	better := root < x.F
	if h.bottom {
		better = root > x.F
	}
	if better || (math.IsNaN(root) && !math.IsNaN(x.F)) {
		h.es[0] = x
		if k > 1 {
			h.down(0) // heap.Fix(h, 0): up from the root does nothing
		}
	}
	return h.es
}

// aggregateKStreamed evaluates topk or bottomk of a range function series
// by series, as aggregateStreamed does sum: each series' function values
// go straight into per-group, per-step heaps of at most k entries, so the
// function's result is never materialized, and the labels of a series
// are built only when it makes it into the result. The heaps see the
// series in the general path's order and change by the same operations,
// so ties resolve identically. Parameters the general path answers
// without heaps (k below 1 at every step) or rejects (NaN, out of int64)
// are left to it.
func (ev *evaluator) aggregateKStreamed(e *parser.AggregateExpr, grouping []string, params Matrix, call *parser.Call, fn function) (out Matrix) {
	pmin, pmax, pNaN := paramBounds(params)
	if pmax < 1 || pNaN || pmin <= math.MinInt64 || pmax >= math.MaxInt64 {
		return ev.evalAggregateGeneral(e, grouping, params)
	}
	defer ev.fallBackOnNotStreamable(e, grouping, params, *ev.stats, &out)
	rc := ev.prepareRangeCall(call, fn)
	n := ev.numSteps()
	ks := make([]int64, n) // k at each step; below 1 takes nothing
	for i := range ks {
		ks[i] = int64(scalarAt(params, ev.start+int64(i)*ev.interval))
	}
	bottom := e.Op == parser.BOTTOMK
	gidx := newGroupIndex(grouping, e.Without)
	var (
		heaps  [][]kEntry     // heaps[g*n+i]: group g at step i
		series []model.Labels // the labels of each series that had values, by ordinal
	)
	rc.eachValues(func(ls model.Labels, buf []FPoint) {
		checkStreamable(rc, ls)
		gi, isNew := gidx.lookup(ls)
		if isNew {
			heaps = slices.Grow(heaps, n)[:len(heaps)+n]
		}
		hs := heaps[gi*n : (gi+1)*n]
		si := int32(len(series))
		series = append(series, ls)
		for _, p := range buf {
			i := int((p.T - ev.start) / ev.interval)
			if k := ks[i]; k >= 1 {
				hs[i] = kHeap{hs[i], bottom}.push(kEntry{F: p.F, s: si}, k)
			}
		}
	})

	// The result at each step is each group's heap sorted as aggregateK
	// sorts it, groups in order; a series' points are counted first so
	// that all of them share one exactly sized array.
	groups := gidx.len()
	outIdx := make([]int32, len(series))
	for i := range outIdx {
		outIdx[i] = -1
	}
	var order, counts []int32 // series ordinals in order of appearance, their points
	total := 0
	for i := range n {
		for g := range groups {
			h := heaps[g*n+i]
			if len(h) > 1 {
				sort.Sort(sort.Reverse(kHeap{h, bottom}))
			}
			for _, x := range h {
				o := outIdx[x.s]
				if o < 0 {
					o = int32(len(order))
					outIdx[x.s] = o
					order = append(order, x.s)
					counts = append(counts, 0)
				}
				counts[o]++
				total++
			}
		}
	}
	points := make([]FPoint, total)
	out = make(Matrix, len(order))
	off := 0
	for o, s := range order {
		metric := series[s]
		if !rc.keepName {
			metric = dropMetricName(metric)
		}
		c := int(counts[o])
		out[o] = Series{Metric: metric, Floats: points[off : off : off+c]}
		off += c
	}
	for i := range n {
		ts := ev.start + int64(i)*ev.interval
		for g := range groups {
			for _, x := range heaps[g*n+i] {
				o := outIdx[x.s]
				out[o].Floats = append(out[o].Floats, FPoint{T: ts, F: x.F})
			}
		}
	}
	return out
}
