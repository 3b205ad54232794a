package query

import (
	"container/heap"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// group is the running state of one aggregation group at one step.
type group struct {
	aggState
	values   []float64 // quantile
	heap     sampleHeap
	complete bool // limitk: holds k samples
}

// aggState is the running state of sum, avg, min, max, count, group,
// stddev and stdvar for one group at one step. It is kept small because a
// streamed aggregation holds one per group and step.
type aggState struct {
	value, mean, kahanC, count float64
	seen, incremental          bool
}

// add folds f into the state, exactly as Prometheus' aggregation does
// (Kahan summation, an incremental mean once a sum overflows).
func (g *aggState) add(op parser.ItemType, f float64) {
	if !g.seen {
		g.seen, g.value, g.mean, g.count = true, f, f, 1
		switch op {
		case parser.STDVAR, parser.STDDEV:
			if math.IsNaN(f) || math.IsInf(f, 0) {
				g.value = math.NaN()
			} else {
				g.value = 0
			}
		case parser.GROUP:
			g.value = 1
		}
		return
	}
	switch op {
	case parser.SUM:
		g.value, g.kahanC = kahanInc(f, g.value, g.kahanC)
	case parser.AVG:
		g.count++
		if !g.incremental {
			nv, nc := kahanInc(f, g.value, g.kahanC)
			if !math.IsInf(nv, 0) {
				g.value, g.kahanC = nv, nc
				return
			}
			// The sum overflows: switch to an incremental mean.
			g.incremental = true
			g.mean = g.value / (g.count - 1)
			g.kahanC /= g.count - 1
		}
		q := (g.count - 1) / g.count
		g.mean, g.kahanC = kahanInc(f/g.count, q*g.mean, q*g.kahanC)
	case parser.MAX:
		if g.value < f || math.IsNaN(g.value) {
			g.value = f
		}
	case parser.MIN:
		if g.value > f || math.IsNaN(g.value) {
			g.value = f
		}
	case parser.COUNT:
		g.count++
	case parser.STDVAR, parser.STDDEV:
		g.count++
		delta := f - g.mean
		g.mean += delta / g.count
		g.value += delta * (f - g.mean)
	}
}

// result is the aggregate of a seen state (quantile excepted).
func (g *aggState) result(op parser.ItemType) float64 {
	switch op {
	case parser.AVG:
		if g.incremental {
			return g.mean + g.kahanC
		}
		return g.value/g.count + g.kahanC/g.count
	case parser.COUNT:
		return g.count
	case parser.STDVAR:
		return g.value / g.count
	case parser.STDDEV:
		return math.Sqrt(g.value / g.count)
	case parser.SUM:
		return g.value + g.kahanC
	}
	return g.value
}

// evalAggregate evaluates sum, avg, topk, ... with by/without.
func (ev *evaluator) evalAggregate(e *parser.AggregateExpr) Matrix {
	for _, p := range []*parser.Expr{&e.Expr, &e.Param} {
		for {
			pe, ok := (*p).(*parser.ParenExpr)
			if !ok {
				break
			}
			*p = pe.Expr
		}
	}
	grouping := slices.Clone(e.Grouping)
	if e.Without {
		grouping = append(grouping, model.MetricName, "__type__", "__unit__")
	}
	slices.Sort(grouping)

	if e.Op == parser.COUNT_VALUES {
		valueLabel := e.Param.(*parser.StringLiteral).Val
		if !validLabelName(valueLabel) {
			ev.errorf("invalid label name %q", valueLabel)
		}
		if !e.Without {
			grouping = append(grouping, valueLabel)
			slices.Sort(grouping)
		}
		return ev.rangeEval(nil, func(args []Vector, _ [][]int, eh *evalHelper) Vector {
			return countValues(args[0], grouping, e.Without, valueLabel, eh)
		}, e.Expr)
	}

	var params Matrix
	if e.Param != nil {
		params = ev.eval(e.Param).(Matrix)
	}
	if call, fn := ev.streamableRangeCall(e); call != nil {
		switch e.Op {
		case parser.TOPK, parser.BOTTOMK:
			return ev.aggregateKStreamed(e, grouping, params, call, fn)
		}
		return ev.aggregateStreamed(e, grouping, call, fn)
	}
	return ev.evalAggregateGeneral(e, grouping, params)
}

// paramBounds returns the minimum and maximum of an aggregation's
// parameter over all steps, and whether it is NaN at any.
func paramBounds(params Matrix) (pmin, pmax float64, pNaN bool) {
	if len(params) == 0 {
		return 0, 0, false
	}
	pmin, pmax = math.MaxFloat64, -math.MaxFloat64
	for _, p := range params[0].Floats {
		pmin, pmax = math.Min(pmin, p.F), math.Max(pmax, p.F)
		pNaN = pNaN || math.IsNaN(p.F)
	}
	return pmin, pmax, pNaN
}

// evalAggregateGeneral evaluates any aggregation step by step over its
// materialized argument; params is the parameter's value (topk's k, ...)
// evaluated already.
func (ev *evaluator) evalAggregateGeneral(e *parser.AggregateExpr, grouping []string, params Matrix) Matrix {
	input := ev.eval(e.Expr).(Matrix)

	isK := e.Op == parser.TOPK || e.Op == parser.BOTTOMK || e.Op == parser.LIMITK || e.Op == parser.LIMIT_RATIO
	gidx := newGroupIndex(grouping, e.Without)
	seriesGroup := make([]int, len(input))
	var result Matrix
	for si, s := range input {
		gi, isNew := gidx.lookup(s.Metric)
		if isNew && !isK {
			result = append(result, Series{Metric: groupLabels(s.Metric, e.Grouping, e.Without)})
		}
		seriesGroup[si] = gi
	}
	groups := make([]group, gidx.len())

	// Parameter bounds over all steps decide errors and empty results
	// up front, as Prometheus does.
	pmin, pmax, pNaN := paramBounds(params)
	switch e.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK:
		if pmax < 1 {
			return Matrix{}
		}
		if pNaN {
			ev.errorf("Parameter value is NaN")
		}
		if pmin <= math.MinInt64 {
			ev.errorf("Scalar value %v underflows int64", pmin)
		}
		if pmax >= math.MaxInt64 {
			ev.errorf("Scalar value %v overflows int64", pmax)
		}
	case parser.LIMIT_RATIO:
		if pmax == 0 && pmin == 0 {
			return Matrix{}
		}
		if pNaN {
			ev.errorf("Ratio value is NaN")
		}
		if pmax > 1 || pmin < -1 {
			ev.warnf("PromQL warning: ratio value should be between -1 and 1, got %v, capping to %v", pmax, math.Copysign(1, pmax))
		}
	case parser.QUANTILE:
		if pNaN || pmax > 1 || pmin < 0 {
			ev.warnf("PromQL warning: quantile value should be between 0 and 1")
		}
	}

	cursors := make([]int, len(input))
	numSteps := ev.numSteps()
	kOut := map[uint64]int{}
	var kResult Matrix
	for ts := ev.start; ts <= ev.end; ts += ev.interval {
		ev.tick()
		param := math.NaN()
		if len(params) > 0 {
			param = scalarAt(params, ts)
		}
		for i := range groups {
			groups[i] = group{values: groups[i].values[:0], heap: groups[i].heap[:0]}
		}
		if isK {
			vec := ev.aggregateK(e.Op, param, input, cursors, ts, seriesGroup, groups)
			if ev.start == ev.end {
				return vecToMatrix(vec, ts)
			}
			for _, s := range vec {
				h := s.Metric.Hash()
				i, ok := kOut[h]
				if !ok {
					i = len(kResult)
					kOut[h] = i
					kResult = append(kResult, Series{Metric: s.Metric, Floats: make([]FPoint, 0, min(numSteps, 64))})
				}
				kResult[i].Floats = append(kResult[i].Floats, FPoint{T: ts, F: s.F})
			}
			continue
		}
		for si := range input {
			c := cursors[si]
			fs := input[si].Floats
			if c >= len(fs) || fs[c].T != ts {
				continue
			}
			cursors[si]++
			f := fs[c].F
			g := &groups[seriesGroup[si]]
			switch e.Op {
			case parser.SUM, parser.AVG, parser.MAX, parser.MIN, parser.COUNT, parser.STDVAR, parser.STDDEV, parser.GROUP:
				g.add(e.Op, f)
			case parser.QUANTILE:
				g.seen = true
				g.values = append(g.values, f)
			default:
				ev.errorf("aggregation %s is not supported", e.Op)
			}
		}
		for gi := range groups {
			g := &groups[gi]
			if !g.seen {
				continue
			}
			var v float64
			if e.Op == parser.QUANTILE {
				v = quantile(param, g.values)
			} else {
				v = g.result(e.Op)
			}
			if result[gi].Floats == nil {
				result[gi].Floats = make([]FPoint, 0, min(numSteps, 64))
			}
			result[gi].Floats = append(result[gi].Floats, FPoint{T: ts, F: v})
		}
	}
	if isK {
		return kResult
	}
	out := result[:0]
	for _, s := range result {
		if len(s.Floats) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func vecToMatrix(v Vector, ts int64) Matrix {
	m := make(Matrix, len(v))
	for i, s := range v {
		m[i] = Series{Metric: s.Metric, Floats: []FPoint{{T: ts, F: s.F}}}
	}
	return m
}

// aggregateK computes topk, bottomk, limitk and limit_ratio at one step
// with the same heap operations as Prometheus, so that ties resolve
// identically.
func (ev *evaluator) aggregateK(op parser.ItemType, param float64, input Matrix, cursors []int, ts int64, seriesGroup []int, groups []group) Vector {
	remaining := len(groups)
	var k int64
	var ratio float64
	switch op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK:
		k = min(int64(param), int64(len(input)))
	case parser.LIMIT_RATIO:
		ratio = max(-1, min(1, param))
	}
	skip := (op != parser.LIMIT_RATIO && k < 1) || (op == parser.LIMIT_RATIO && param == 0)
	done := false
	for si := range input {
		c := cursors[si]
		fs := input[si].Floats
		if c >= len(fs) || fs[c].T != ts {
			continue
		}
		cursors[si]++
		if skip || done {
			continue
		}
		s := Sample{Metric: input[si].Metric, T: ts, F: fs[c].F}
		g := &groups[seriesGroup[si]]
		switch op {
		case parser.TOPK:
			switch {
			case int64(len(g.heap)) < k:
				heap.Push(&g.heap, s)
			case g.heap[0].F < s.F || (math.IsNaN(g.heap[0].F) && !math.IsNaN(s.F)):
				g.heap[0] = s
				if k > 1 {
					heap.Fix(&g.heap, 0)
				}
			}
		case parser.BOTTOMK:
			rh := (*reverseSampleHeap)(&g.heap)
			switch {
			case int64(len(g.heap)) < k:
				heap.Push(rh, s)
			case g.heap[0].F > s.F || (math.IsNaN(g.heap[0].F) && !math.IsNaN(s.F)):
				g.heap[0] = s
				if k > 1 {
					heap.Fix(rh, 0)
				}
			}
		case parser.LIMITK:
			if int64(len(g.heap)) < k {
				g.heap = append(g.heap, s)
			}
			if !g.complete && int64(len(g.heap)) == k {
				g.complete = true
				remaining--
				done = remaining == 0
			}
		case parser.LIMIT_RATIO:
			if ratioSampleIncluded(ratio, s.Metric) {
				g.heap = append(g.heap, s)
			}
		}
	}
	if skip {
		return nil
	}
	var out Vector
	for gi := range groups {
		h := groups[gi].heap
		switch op {
		case parser.TOPK:
			if len(h) > 1 {
				sort.Sort(sort.Reverse(h))
			}
		case parser.BOTTOMK:
			if len(h) > 1 {
				sort.Sort(sort.Reverse((*reverseSampleHeap)(&h)))
			}
		}
		out = append(out, h...)
	}
	return out
}

// sampleHeap is a min-heap by value with NaN treated as smallest.
type sampleHeap []Sample

func (s sampleHeap) Len() int      { return len(s) }
func (s sampleHeap) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s sampleHeap) Less(i, j int) bool {
	if math.IsNaN(s[i].F) {
		return true
	}
	return s[i].F < s[j].F
}
func (s *sampleHeap) Push(x any) { *s = append(*s, x.(Sample)) }
func (s *sampleHeap) Pop() any {
	old := *s
	el := old[len(old)-1]
	*s = old[:len(old)-1]
	return el
}

// reverseSampleHeap is a max-heap by value with NaN treated as largest.
type reverseSampleHeap []Sample

func (s reverseSampleHeap) Len() int      { return len(s) }
func (s reverseSampleHeap) Swap(i, j int) { s[i], s[j] = s[j], s[i] }
func (s reverseSampleHeap) Less(i, j int) bool {
	if math.IsNaN(s[i].F) {
		return true
	}
	return s[i].F > s[j].F
}
func (s *reverseSampleHeap) Push(x any) { *s = append(*s, x.(Sample)) }
func (s *reverseSampleHeap) Pop() any {
	old := *s
	el := old[len(old)-1]
	*s = old[:len(old)-1]
	return el
}

// ratioSampleIncluded decides limit_ratio membership from a hash of the
// labels, so that the same series are kept at every step and by every
// Prometheus-compatible engine: the hash is xxhash over Prometheus' label
// encoding.
func ratioSampleIncluded(ratio float64, ls model.Labels) bool {
	offset := float64(promLabelsHash(ls)) / float64(math.MaxUint64)
	return (ratio >= 0 && offset < ratio) || (ratio < 0 && offset >= 1+ratio)
}

// promLabelsHash is Prometheus' labels.Hash: xxhash64 over each name and
// value prefixed by its length (one byte below 255, else 255 and three
// little-endian bytes).
func promLabelsHash(ls model.Labels) uint64 {
	var buf []byte
	put := func(s string) {
		if n := len(s); n < 255 {
			buf = append(buf, byte(n))
		} else {
			buf = append(buf, 255, byte(n), byte(n>>8), byte(n>>16))
		}
		buf = append(buf, s...)
	}
	for _, l := range ls {
		put(l.Name)
		put(l.Value)
	}
	return xxhash.Sum64(buf)
}

// groupIndex numbers the groups of an aggregation in the order their
// first series arrive. A series' group key is built in a reused buffer
// and looked up without being copied: only a new group's key is kept.
type groupIndex struct {
	grouping []string // sorted
	without  bool
	index    map[string]int
	key      []byte
}

func newGroupIndex(grouping []string, without bool) *groupIndex {
	return &groupIndex{grouping: grouping, without: without, index: map[string]int{}}
}

// lookup returns the ordinal of ls's group and whether ls is its first
// series.
func (g *groupIndex) lookup(ls model.Labels) (gi int, isNew bool) {
	g.key = appendGroupKey(g.key[:0], ls, g.grouping, g.without)
	if gi, ok := g.index[string(g.key)]; ok {
		return gi, false
	}
	gi = len(g.index)
	g.index[string(g.key)] = gi
	return gi, true
}

func (g *groupIndex) len() int { return len(g.index) }

// appendGroupKey appends to dst the key of ls's group: the encoded
// grouping labels (by), or all other labels (without); grouping is sorted.
func appendGroupKey(dst []byte, ls model.Labels, grouping []string, without bool) []byte {
	if !without && len(grouping) == 0 {
		return dst
	}
	for i, l := range ls {
		if _, found := slices.BinarySearch(grouping, l.Name); found != without {
			dst = model.AppendKey(dst, ls[i:i+1])
		}
	}
	return dst
}

// groupLabels returns the output labels of a group: the by() labels, or
// all labels but the without() ones and the metric name.
func groupLabels(ls model.Labels, grouping []string, without bool) model.Labels {
	out := model.Labels{}
	for _, l := range ls {
		in := slices.Contains(grouping, l.Name)
		if without {
			if !in && !isMetadataLabel(l.Name) {
				out = append(out, l)
			}
		} else if in {
			out = append(out, l)
		}
	}
	return out
}

// countValues implements count_values at one step: it counts the samples
// per group and value, the value becoming a label.
func countValues(v Vector, grouping []string, without bool, valueLabel string, eh *evalHelper) Vector {
	gidx := newGroupIndex(grouping, without)
	start := len(eh.out)
	var b model.Builder
	for _, s := range v {
		b.Reset(s.Metric)
		b.Set(valueLabel, strconv.FormatFloat(s.F, 'f', -1, 64))
		metric := b.Labels()
		gi, isNew := gidx.lookup(metric)
		if !isNew {
			eh.out[start+gi].F++
			continue
		}
		eh.out = append(eh.out, Sample{Metric: groupLabels(metric, grouping, without), F: 1})
	}
	return eh.out
}
