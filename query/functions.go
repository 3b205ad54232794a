package query

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// callCtx is what a range-vector function sees at one step besides the
// window's points.
type callCtx struct {
	ts                   int64     // evaluation time of the step
	rangeStart, rangeEnd int64     // the window (rangeStart, rangeEnd]
	rng                  int64     // the range in milliseconds
	params               []float64 // scalar arguments at this step, by argument index
}

// function implements a PromQL function: matrix for those taking a range
// vector (called per series and step with the window's points), vector for
// the others (called per step with the arguments' vectors).
type function struct {
	matrix func(pts []FPoint, c *callCtx) (float64, bool)
	vector func(args []Vector, e *parser.Call, eh *evalHelper) Vector
}

// specialFunctions are evaluated on whole series or folded before
// evaluation rather than through the function table.
var specialFunctions = map[string]bool{
	"label_replace": true, "label_join": true,
	"start": true, "end": true, "step": true, "range": true,
}

// nativeHistogramFunctions exist only for native histograms; on float
// series Prometheus returns nothing, Stratus says why.
var nativeHistogramFunctions = map[string]bool{
	"histogram_count": true, "histogram_sum": true, "histogram_avg": true,
	"histogram_stddev": true, "histogram_stdvar": true,
}

// functions is built by a function so that package initialisation orders
// it before engineParser, which reads it.
var functions = buildFunctions()

func buildFunctions() map[string]function {
	functions := map[string]function{
		"abs":   mathFunc(math.Abs),
		"ceil":  mathFunc(math.Ceil),
		"floor": mathFunc(math.Floor),
		"exp":   mathFunc(math.Exp),
		"sqrt":  mathFunc(math.Sqrt),
		"ln":    mathFunc(math.Log),
		"log2":  mathFunc(math.Log2),
		"log10": mathFunc(math.Log10),
		"sin":   mathFunc(math.Sin),
		"cos":   mathFunc(math.Cos),
		"tan":   mathFunc(math.Tan),
		"asin":  mathFunc(math.Asin),
		"acos":  mathFunc(math.Acos),
		"atan":  mathFunc(math.Atan),
		"sinh":  mathFunc(math.Sinh),
		"cosh":  mathFunc(math.Cosh),
		"tanh":  mathFunc(math.Tanh),
		"asinh": mathFunc(math.Asinh),
		"acosh": mathFunc(math.Acosh),
		"atanh": mathFunc(math.Atanh),
		"rad":   mathFunc(func(v float64) float64 { return v * math.Pi / 180 }),
		"deg":   mathFunc(func(v float64) float64 { return v * 180 / math.Pi }),
		"sgn": mathFunc(func(v float64) float64 {
			switch {
			case v < 0:
				return -1
			case v > 0:
				return 1
			}
			return v
		}),
		"pi": {vector: func(_ []Vector, _ *parser.Call, eh *evalHelper) Vector { return append(eh.out, Sample{F: math.Pi}) }},
		"time": {vector: func(_ []Vector, _ *parser.Call, eh *evalHelper) Vector {
			return append(eh.out, Sample{F: float64(eh.ts) / 1000})
		}},
		"vector": {vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
			return append(eh.out, Sample{F: args[0][0].F})
		}},
		"scalar": {vector: funcScalar},
		"round": {vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
			toNearest := 1.0
			if len(args) >= 2 {
				toNearest = args[1][0].F
			}
			inv := 1.0 / toNearest
			return mapFloats(args[0], eh, func(f float64) float64 { return math.Floor(f*inv+0.5) / inv })
		}},
		"clamp": {vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
			return clamp(args[0], args[1][0].F, args[2][0].F, eh)
		}},
		"clamp_min": {vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
			return clamp(args[0], args[1][0].F, math.Inf(1), eh)
		}},
		"clamp_max": {vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
			return clamp(args[0], math.Inf(-1), args[1][0].F, eh)
		}},
		"timestamp": {vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
			for _, s := range args[0] {
				eh.out = append(eh.out, Sample{Metric: dropMetricName(s.Metric), F: float64(s.T) / 1000})
			}
			return eh.out
		}},
		"absent": {vector: func(args []Vector, e *parser.Call, eh *evalHelper) Vector {
			if len(args[0]) > 0 {
				return eh.out
			}
			return append(eh.out, Sample{Metric: absentLabels(e.Args[0]), F: 1})
		}},
		"sort":               {vector: sortFunc(false)},
		"sort_desc":          {vector: sortFunc(true)},
		"sort_by_label":      {vector: sortByLabel(false)},
		"sort_by_label_desc": {vector: sortByLabel(true)},
		"histogram_quantile": {vector: funcHistogramQuantile},
		"histogram_fraction": {vector: funcHistogramFraction},
		"days_in_month": dateFunc(func(t time.Time) float64 {
			return float64(32 - time.Date(t.Year(), t.Month(), 32, 0, 0, 0, 0, time.UTC).Day())
		}),
		"day_of_month": dateFunc(func(t time.Time) float64 { return float64(t.Day()) }),
		"day_of_week":  dateFunc(func(t time.Time) float64 { return float64(t.Weekday()) }),
		"day_of_year":  dateFunc(func(t time.Time) float64 { return float64(t.YearDay()) }),
		"hour":         dateFunc(func(t time.Time) float64 { return float64(t.Hour()) }),
		"minute":       dateFunc(func(t time.Time) float64 { return float64(t.Minute()) }),
		"month":        dateFunc(func(t time.Time) float64 { return float64(t.Month()) }),
		"year":         dateFunc(func(t time.Time) float64 { return float64(t.Year()) }),

		"rate":     {matrix: func(p []FPoint, c *callCtx) (float64, bool) { return extrapolatedRate(p, c, true, true) }},
		"increase": {matrix: func(p []FPoint, c *callCtx) (float64, bool) { return extrapolatedRate(p, c, true, false) }},
		"delta":    {matrix: func(p []FPoint, c *callCtx) (float64, bool) { return extrapolatedRate(p, c, false, false) }},
		"irate":    {matrix: func(p []FPoint, _ *callCtx) (float64, bool) { return instantValue(p, true) }},
		"idelta":   {matrix: func(p []FPoint, _ *callCtx) (float64, bool) { return instantValue(p, false) }},
		"deriv": {matrix: func(p []FPoint, _ *callCtx) (float64, bool) {
			if len(p) < 2 {
				return 0, false
			}
			slope, _ := linearRegression(p, p[0].T)
			return slope, true
		}},
		"predict_linear": {matrix: func(p []FPoint, c *callCtx) (float64, bool) {
			if len(p) < 2 {
				return 0, false
			}
			slope, intercept := linearRegression(p, c.ts)
			return slope*c.params[1] + intercept, true
		}},
		"double_exponential_smoothing": {matrix: funcDoubleExponentialSmoothing},
		"changes":                      {matrix: funcChanges},
		"resets":                       {matrix: funcResets},
		"avg_over_time":                {matrix: nonEmpty(avgOverTime)},
		"sum_over_time": {matrix: nonEmpty(func(p []FPoint) float64 {
			var sum, c float64
			for _, f := range p {
				sum, c = kahanInc(f.F, sum, c)
			}
			if math.IsInf(sum, 0) {
				return sum
			}
			return sum + c
		})},
		"count_over_time":       {matrix: nonEmpty(func(p []FPoint) float64 { return float64(len(p)) })},
		"min_over_time":         {matrix: nonEmpty(compareOverTime(func(cur, acc float64) bool { return cur < acc || math.IsNaN(acc) }, false))},
		"max_over_time":         {matrix: nonEmpty(compareOverTime(func(cur, acc float64) bool { return cur > acc || math.IsNaN(acc) }, false))},
		"ts_of_min_over_time":   {matrix: nonEmpty(compareOverTime(func(cur, acc float64) bool { return cur <= acc || math.IsNaN(acc) }, true))},
		"ts_of_max_over_time":   {matrix: nonEmpty(compareOverTime(func(cur, acc float64) bool { return cur >= acc || math.IsNaN(acc) }, true))},
		"ts_of_first_over_time": {matrix: nonEmpty(func(p []FPoint) float64 { return float64(p[0].T) / 1000 })},
		"ts_of_last_over_time":  {matrix: nonEmpty(func(p []FPoint) float64 { return float64(p[len(p)-1].T) / 1000 })},
		"last_over_time":        {matrix: nonEmpty(func(p []FPoint) float64 { return p[len(p)-1].F })},
		"first_over_time":       {matrix: nonEmpty(func(p []FPoint) float64 { return p[0].F })},
		"present_over_time":     {matrix: nonEmpty(func([]FPoint) float64 { return 1 })},
		// absent_over_time is assembled after the per-series pass.
		"absent_over_time": {matrix: nonEmpty(func([]FPoint) float64 { return 1 })},
		"stddev_over_time": {matrix: nonEmpty(func(p []FPoint) float64 { return math.Sqrt(varianceOverTime(p)) })},
		"stdvar_over_time": {matrix: nonEmpty(varianceOverTime)},
		"quantile_over_time": {matrix: func(p []FPoint, c *callCtx) (float64, bool) {
			if len(p) == 0 {
				return 0, false
			}
			vals := make([]float64, len(p))
			for i, f := range p {
				vals[i] = f.F
			}
			return quantile(c.params[0], vals), true
		}},
		"mad_over_time": {matrix: nonEmpty(func(p []FPoint) float64 {
			vals := make([]float64, len(p))
			for i, f := range p {
				if math.IsNaN(f.F) {
					return math.NaN()
				}
				vals[i] = f.F
			}
			median := quantile(0.5, vals)
			for i := range vals {
				vals[i] = math.Abs(vals[i] - median)
			}
			return quantile(0.5, vals)
		})},
	}
	for name := range nativeHistogramFunctions {
		functions[name] = function{vector: func([]Vector, *parser.Call, *evalHelper) Vector {
			panic(evalError{fmt.Errorf("%w: %s() works only on native histograms", ErrNativeHistograms, name)})
		}}
	}
	return functions
}

// evalCall evaluates a function call.
func (ev *evaluator) evalCall(e *parser.Call) Value {
	name := e.Func.Name
	for i := range e.Args {
		for {
			p, ok := e.Args[i].(*parser.ParenExpr)
			if !ok {
				break
			}
			e.Args[i] = p.Expr
		}
	}
	switch name {
	case "label_replace":
		return ev.evalLabelReplace(e)
	case "label_join":
		return ev.evalLabelJoin(e)
	case "start", "end", "step", "range":
		// Prometheus folds these experimental functions into constants of
		// the top-level query; they only appear outside subqueries.
		v := 0.0
		switch name {
		case "start":
			v = float64(ev.start) / 1000
		case "end":
			v = float64(ev.end) / 1000
		case "step":
			if ev.start != ev.end {
				v = float64(ev.interval) / 1000
			}
		case "range":
			v = float64(ev.end-ev.start) / 1000
		}
		return ev.rangeEval(nil, func(_ []Vector, _ [][]int, eh *evalHelper) Vector { return append(eh.out, Sample{F: v}) })
	}
	fn, ok := functions[name]
	if !ok {
		ev.errorf("function %s() is not supported", name)
	}
	if name == "timestamp" {
		if vs, ok := e.Args[0].(*parser.VectorSelector); ok {
			return ev.evalVectorSelector(vs, true)
		}
	}
	if fn.matrix == nil {
		return ev.rangeEval(nil, func(args []Vector, _ [][]int, eh *evalHelper) Vector {
			return fn.vector(args, e, eh)
		}, e.Args...)
	}
	return ev.evalRangeFunction(e, fn)
}

// evalRangeFunction evaluates a function whose argument is a range vector
// (a selector or a subquery): series by series, it slides the left-open
// window (t - range, t] over the series' points, step by step.
func (ev *evaluator) evalRangeFunction(e *parser.Call, fn function) Matrix {
	rc := ev.prepareRangeCall(e, fn)
	var out Matrix
	rc.eachValues(func(ls model.Labels, vals []FPoint) {
		if !rc.keepName {
			ls = dropMetricName(ls)
		}
		// An exact-size copy: vals is reused for the next series.
		out = append(out, Series{Metric: ls, Floats: slices.Clone(vals)})
	})
	if e.Func.Name == "absent_over_time" {
		return ev.absentOverTime(out, e.Args[0])
	}
	return ev.mergeSameLabels(out)
}

// rangeCall is a call of a range-vector function made ready for
// evaluation: its range source, its scalar parameters evaluated over the
// steps, and a reused call context.
type rangeCall struct {
	ev       *evaluator
	call     *parser.Call
	fn       function
	rs       rangeSource
	params   []Matrix
	c        *callCtx
	keepName bool // last_over_time and first_over_time keep __name__
	// rate, increase and delta slide their windows incrementally (see
	// ratePoints) instead of calling fn.matrix at every step.
	extrapolated, isCounter, isRate bool
	resets                          []int32 // ratePoints' scratch
}

func (ev *evaluator) prepareRangeCall(e *parser.Call, fn function) *rangeCall {
	name := e.Func.Name
	matIdx := -1
	for i, a := range e.Args {
		if t := a.Type(); t == parser.ValueTypeMatrix {
			matIdx = i
			break
		}
	}
	if matIdx < 0 {
		ev.errorf("BUG: %s() has no range vector argument", name)
	}
	params := make([]Matrix, len(e.Args))
	for i, a := range e.Args {
		if i != matIdx && a.Type() != parser.ValueTypeString {
			params[i] = ev.eval(a).(Matrix)
		}
	}
	rs := ev.rangeSourceOf(e.Args[matIdx])
	return &rangeCall{
		ev:       ev,
		call:     e,
		fn:       fn,
		rs:       rs,
		params:   params,
		c:        &callCtx{rng: rs.rng, params: make([]float64, len(e.Args))},
		keepName: name == "last_over_time" || name == "first_over_time",

		extrapolated: name == "rate" || name == "increase" || name == "delta",
		isCounter:    name == "rate" || name == "increase",
		isRate:       name == "rate",
	}
}

// eachValues calls fn, in selection order, with each input series that
// has a value at some step and its values (which fn must not keep: the
// slice is reused). A selector's series are decoded and their values
// computed on several goroutines when the engine allows it and they are
// many (see eachValuesParallel); fn always runs on the caller's.
func (rc *rangeCall) eachValues(fn func(ls model.Labels, vals []FPoint)) {
	if rc.rs.sel != nil && rc.ev.parallelism > 1 && !rc.ev.noFastPaths {
		rc.eachValuesParallel(fn)
		return
	}
	var buf []FPoint
	rc.rs.each(func(ls model.Labels, pts []FPoint) {
		buf = rc.points(buf[:0], pts)
		if len(buf) > 0 {
			fn(ls, buf)
		}
	})
}

// points appends to dst the function's value at every step where it has
// one, for one series whose points cover the query range.
func (rc *rangeCall) points(dst []FPoint, pts []FPoint) []FPoint {
	if rc.extrapolated && !rc.ev.noFastPaths {
		return rc.ratePoints(dst, pts)
	}
	ev, rs, c := rc.ev, &rc.rs, rc.c
	lo, hi := 0, 0
	for ts := ev.start; ts <= ev.end; ts += ev.interval {
		ev.tick()
		ref, evalTs := ts, ts
		if rs.at != nil {
			ref, evalTs = *rs.at, ev.start
		}
		maxt := ref - rs.offset
		mint := maxt - rs.rng
		for hi < len(pts) && pts[hi].T <= maxt {
			hi++
		}
		for lo < hi && pts[lo].T <= mint {
			lo++
		}
		for i, p := range rc.params {
			if p != nil {
				c.params[i] = scalarAt(p, ts)
			}
		}
		c.ts, c.rangeStart, c.rangeEnd = evalTs, mint, maxt
		if v, ok := rc.fn.matrix(pts[lo:hi], c); ok {
			dst = append(dst, FPoint{T: ts, F: v})
		}
	}
	return dst
}

// ratePoints is points for rate, increase and delta. The windows of
// successive steps overlap (a 5m range at a 1m step reads every sample
// five times), so the counter resets are found once per series, and each
// window adds only the resets inside it: the work per step is constant
// instead of proportional to the window. The values are those of
// extrapolatedRate to the last bit: the same additions in the same order.
func (rc *rangeCall) ratePoints(dst []FPoint, pts []FPoint) []FPoint {
	ev, rs := rc.ev, &rc.rs
	// resets[k] is the index of a sample lower than its predecessor.
	var resets []int32
	if rc.isCounter {
		rc.resets = appendResets(rc.resets[:0], pts)
		resets = rc.resets
	}
	lo, hi := 0, 0   // the window is pts[lo:hi]
	dlo, dhi := 0, 0 // how far lo and hi moved at the last step
	rlo, rhi := 0, 0 // the resets inside it are resets[rlo:rhi]
	var x extrapolation
	for ts := ev.start; ts <= ev.end; ts += ev.interval {
		ev.tick()
		ref := ts
		if rs.at != nil {
			ref = *rs.at
		}
		maxt := ref - rs.offset
		mint := maxt - rs.rng
		nhi := advance(pts, hi, dhi, maxt)
		nlo := advance(pts[:nhi], lo, dlo, mint)
		dlo, dhi, lo, hi = nlo-lo, nhi-hi, nlo, nhi
		if hi-lo < 2 {
			continue
		}
		first, last := pts[lo], pts[hi-1]
		result := last.F - first.F
		if resets != nil {
			// A reset at index i compares pts[i] with pts[i-1]: inside the
			// window when lo < i < hi.
			for rhi < len(resets) && int(resets[rhi]) < hi {
				rhi++
			}
			for rlo < rhi && int(resets[rlo]) <= lo {
				rlo++
			}
			for _, i := range resets[rlo:rhi] {
				result += pts[i-1].F
			}
		}
		toStart, toEnd, n := first.T-mint, maxt-last.T, hi-lo-1
		if x.n != n || x.toStart != toStart || x.toEnd != toEnd {
			x = newExtrapolation(toStart, toEnd, last.T-first.T, n, rs.rng, rc.isRate)
		}
		dst = append(dst, FPoint{T: ts, F: x.apply(result, first.F, rs.rng, rc.isCounter, rc.isRate)})
	}
	return dst
}

// absentOverTime returns 1 at the steps where no input series had a point
// in its window.
func (ev *evaluator) absentOverTime(present Matrix, arg parser.Expr) Matrix {
	found := map[int64]bool{}
	for _, s := range present {
		for _, p := range s.Floats {
			found[p.T] = true
		}
	}
	var floats []FPoint
	for ts := ev.start; ts <= ev.end; ts += ev.interval {
		if !found[ts] {
			floats = append(floats, FPoint{T: ts, F: 1})
		}
	}
	if len(floats) == 0 {
		return Matrix{}
	}
	return Matrix{{Metric: absentLabels(arg), Floats: floats}}
}

// absentLabels derives the labels of absent()'s output from the equality
// matchers of its argument, as Prometheus does.
func absentLabels(e parser.Expr) model.Labels {
	var vs *parser.VectorSelector
	switch n := e.(type) {
	case *parser.VectorSelector:
		vs = n
	case *parser.MatrixSelector:
		vs, _ = n.VectorSelector.(*parser.VectorSelector)
	}
	if vs == nil {
		return model.Labels{}
	}
	var b model.Builder
	b.Reset(nil)
	has := map[string]bool{}
	for _, m := range vs.LabelMatchers {
		if isMetadataLabel(m.Name) {
			continue
		}
		if m.Type == labels.MatchEqual && !has[m.Name] {
			b.Set(m.Name, m.Value)
			has[m.Name] = true
		} else {
			b.Del(m.Name)
		}
	}
	return b.Labels()
}

func mathFunc(f func(float64) float64) function {
	return function{vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
		return mapFloats(args[0], eh, f)
	}}
}

// mapFloats applies f to every sample and drops the metric name, since the
// result is no longer the metric.
func mapFloats(v Vector, eh *evalHelper, f func(float64) float64) Vector {
	for _, s := range v {
		eh.out = append(eh.out, Sample{Metric: dropMetricName(s.Metric), F: f(s.F)})
	}
	return eh.out
}

func clamp(v Vector, lo, hi float64, eh *evalHelper) Vector {
	if hi < lo {
		return eh.out
	}
	return mapFloats(v, eh, func(f float64) float64 { return math.Max(lo, math.Min(hi, f)) })
}

func funcScalar(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
	if len(args[0]) != 1 {
		return append(eh.out, Sample{F: math.NaN()})
	}
	return append(eh.out, Sample{F: args[0][0].F})
}

func dateFunc(f func(time.Time) float64) function {
	return function{vector: func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
		if len(args) == 0 {
			return append(eh.out, Sample{F: f(time.Unix(eh.ts/1000, 0).UTC())})
		}
		return mapFloats(args[0], eh, func(v float64) float64 { return f(time.Unix(int64(v), 0).UTC()) })
	}}
}

// sortFunc sorts by value, NaN last in both directions, as Prometheus does.
func sortFunc(desc bool) func([]Vector, *parser.Call, *evalHelper) Vector {
	return func(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
		v := append(eh.out, args[0]...)
		sort.Stable(byValue{v: v, desc: desc})
		return v
	}
}

type byValue struct {
	v    Vector
	desc bool
}

func (s byValue) Len() int      { return len(s.v) }
func (s byValue) Swap(i, j int) { s.v[i], s.v[j] = s.v[j], s.v[i] }
func (s byValue) Less(i, j int) bool {
	vi, vj := s.v[i].F, s.v[j].F
	if math.IsNaN(vj) {
		return !math.IsNaN(vi)
	}
	if s.desc {
		return vi > vj
	}
	return vi < vj
}

func sortByLabel(desc bool) func([]Vector, *parser.Call, *evalHelper) Vector {
	return func(args []Vector, e *parser.Call, eh *evalHelper) Vector {
		names := make([]string, 0, len(e.Args)-1)
		for _, a := range e.Args[1:] {
			names = append(names, a.(*parser.StringLiteral).Val)
		}
		v := append(eh.out, args[0]...)
		slices.SortStableFunc(v, func(a, b Sample) int {
			for _, n := range names {
				va, vb := a.Metric.Get(n), b.Metric.Get(n)
				if va == vb {
					continue
				}
				c := 1
				if natLess(va, vb) {
					c = -1
				}
				if desc {
					c = -c
				}
				return c
			}
			c := model.Compare(a.Metric, b.Metric)
			if desc {
				c = -c
			}
			return c
		})
		return v
	}
}

// natLess compares strings with embedded numbers in natural order.
func natLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		switch {
		case da && db:
			na, ra := leadingDigits(a)
			nb, rb := leadingDigits(b)
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(ta) != len(tb) {
				return len(ta) < len(tb)
			}
			if ta != tb {
				return ta < tb
			}
			a, b = ra, rb
		case a[0] != b[0]:
			return a[0] < b[0]
		default:
			a, b = a[1:], b[1:]
		}
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func leadingDigits(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

// evalLabelReplace implements label_replace(v, dst, replacement, src, regex).
func (ev *evaluator) evalLabelReplace(e *parser.Call) Matrix {
	dst := e.Args[1].(*parser.StringLiteral).Val
	repl := e.Args[2].(*parser.StringLiteral).Val
	src := e.Args[3].(*parser.StringLiteral).Val
	reStr := e.Args[4].(*parser.StringLiteral).Val
	re, err := regexp.Compile("^(?s:" + reStr + ")$")
	if err != nil {
		ev.errorf("invalid regular expression in label_replace(): %s", reStr)
	}
	if !validLabelName(dst) {
		ev.errorf("invalid destination label name in label_replace(): %s", dst)
	}
	mat := ev.eval(e.Args[0]).(Matrix)
	var b model.Builder
	for i, s := range mat {
		sv := s.Metric.Get(src)
		idx := re.FindStringSubmatchIndex(sv)
		if idx == nil {
			continue
		}
		res := re.ExpandString(nil, repl, sv, idx)
		b.Reset(s.Metric)
		b.Set(dst, string(res))
		mat[i].Metric = b.Labels()
	}
	return ev.mergeSameLabels(mat)
}

// evalLabelJoin implements label_join(v, dst, separator, src...).
func (ev *evaluator) evalLabelJoin(e *parser.Call) Matrix {
	dst := e.Args[1].(*parser.StringLiteral).Val
	sep := e.Args[2].(*parser.StringLiteral).Val
	var srcs []string
	for _, a := range e.Args[3:] {
		s := a.(*parser.StringLiteral).Val
		if !validLabelName(s) {
			ev.errorf("invalid source label name in label_join(): %s", s)
		}
		srcs = append(srcs, s)
	}
	if !validLabelName(dst) {
		ev.errorf("invalid destination label name in label_join(): %s", dst)
	}
	mat := ev.eval(e.Args[0]).(Matrix)
	var b model.Builder
	vals := make([]string, len(srcs))
	for i, s := range mat {
		for j, src := range srcs {
			vals[j] = s.Metric.Get(src)
		}
		b.Reset(s.Metric)
		b.Set(dst, strings.Join(vals, sep))
		mat[i].Metric = b.Labels()
	}
	return ev.mergeSameLabels(mat)
}

func validLabelName(s string) bool { return s != "" && utf8.ValidString(s) }

func nonEmpty(f func([]FPoint) float64) func([]FPoint, *callCtx) (float64, bool) {
	return func(p []FPoint, _ *callCtx) (float64, bool) {
		if len(p) == 0 {
			return 0, false
		}
		return f(p), true
	}
}

// extrapolatedRate implements rate, increase and delta exactly as
// Prometheus 3: the change over the window, corrected for counter resets,
// extrapolated towards the window's edges unless the first or last sample
// is farther than 1.1 average intervals from them (then by half an
// interval), and for counters never below zero at the start.
func extrapolatedRate(p []FPoint, c *callCtx, isCounter, isRate bool) (float64, bool) {
	if len(p) < 2 {
		return 0, false
	}
	n := len(p) - 1
	result := p[n].F - p[0].F
	if isCounter {
		for i := 1; i < len(p); i++ {
			if p[i].F < p[i-1].F {
				result += p[i-1].F
			}
		}
	}
	return extrapolate(result, p[0], p[n], n, c.rangeStart, c.rangeEnd, c.rng, isCounter, isRate), true
}

// extrapolate finishes extrapolatedRate from the window's raw change
// (result, corrected for counter resets), its first and last samples and
// the number of intervals between them.
func extrapolate(result float64, first, last FPoint, n int, rangeStart, rangeEnd, rng int64, isCounter, isRate bool) float64 {
	durationToStart := float64(first.T-rangeStart) / 1000
	durationToEnd := float64(rangeEnd-last.T) / 1000
	sampledInterval := float64(last.T-first.T) / 1000
	avg := sampledInterval / float64(n)
	threshold := avg * 1.1
	if durationToStart >= threshold {
		durationToStart = avg / 2
	}
	if isCounter && result > 0 && first.F >= 0 {
		// The counter started at zero no earlier than this.
		if durationToZero := sampledInterval * (first.F / result); durationToZero < durationToStart {
			durationToStart = durationToZero
		}
	}
	if durationToEnd >= threshold {
		durationToEnd = avg / 2
	}
	factor := 1.0
	if sampledInterval != 0 {
		factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval
	}
	if isRate {
		factor /= float64(rng) / 1000
	}
	return result * factor
}

// advance returns the first index from i on whose sample is after t,
// given that those before i are not. It tries i+guess first, the advance
// of the previous step: with regular scrapes each step moves a window's
// edges by the same number of samples, so a step costs two comparisons
// instead of a loop over the samples it passes and a mispredicted exit.
func advance(pts []FPoint, i, guess int, t int64) int {
	if j := i + guess; guess > 0 && j <= len(pts) && pts[j-1].T <= t && (j == len(pts) || pts[j].T > t) {
		return j
	}
	for i < len(pts) && pts[i].T <= t {
		i++
	}
	return i
}

// appendResets appends the index of every sample lower than its
// predecessor (a counter reset) to dst. Resets are rare: it compares four
// pairs per branch and looks closer only where one holds.
func appendResets(dst []int32, pts []FPoint) []int32 {
	i := 1
	for ; i+4 <= len(pts); i += 4 {
		p := pts[i-1 : i+4 : i+4]
		if p[1].F < p[0].F || p[2].F < p[1].F || p[3].F < p[2].F || p[4].F < p[3].F {
			for k := i; k < i+4; k++ {
				if pts[k].F < pts[k-1].F {
					dst = append(dst, int32(k))
				}
			}
		}
	}
	for ; i < len(pts); i++ {
		if pts[i].F < pts[i-1].F {
			dst = append(dst, int32(i))
		}
	}
	return dst
}

// extrapolation is what extrapolate computes from where a window's first
// and last samples sit in it, which ratePoints computes once for all the
// windows where they sit alike: with regular scrapes and step-aligned
// windows, every window of a series. Its divisions are most of the cost
// of a rate. Applied to a window's change, it gives extrapolate's value to
// the last bit (the same operations on the same operands).
type extrapolation struct {
	toStart, toEnd int64 // ms: first sample - window start, window end - last sample
	n              int   // intervals between the first and last samples
	// What extrapolate computes from them: seconds to extrapolate to the
	// start (before the counter's zero clamp) and to the end, the sampled
	// interval, and the factor when the clamp does not apply.
	durationToStart, durationToEnd, sampledInterval, factor float64
	// zeroRatio rules the clamp out cheaply: when the first value exceeds
	// the change times zeroRatio, the counter's extrapolated zero lies
	// before durationToStart (a margin of 1e-6 covers rounding).
	zeroRatio float64
}

func newExtrapolation(toStart, toEnd, sampled int64, n int, rng int64, isRate bool) extrapolation {
	x := extrapolation{toStart: toStart, toEnd: toEnd, n: n}
	x.durationToStart = float64(toStart) / 1000
	x.durationToEnd = float64(toEnd) / 1000
	x.sampledInterval = float64(sampled) / 1000
	avg := x.sampledInterval / float64(n)
	threshold := avg * 1.1
	if x.durationToStart >= threshold {
		x.durationToStart = avg / 2
	}
	if x.durationToEnd >= threshold {
		x.durationToEnd = avg / 2
	}
	x.factor = x.factorFor(x.durationToStart, rng, isRate)
	x.zeroRatio = math.Inf(1)
	if x.sampledInterval > 0 {
		x.zeroRatio = x.durationToStart / x.sampledInterval * (1 + 1e-6)
	}
	return x
}

func (x *extrapolation) factorFor(durationToStart float64, rng int64, isRate bool) float64 {
	factor := 1.0
	if x.sampledInterval != 0 {
		factor = (x.sampledInterval + durationToStart + x.durationToEnd) / x.sampledInterval
	}
	if isRate {
		factor /= float64(rng) / 1000
	}
	return factor
}

// apply returns extrapolate's value for a window of this shape whose
// change is result and whose first value is first.
func (x *extrapolation) apply(result, first float64, rng int64, isCounter, isRate bool) float64 {
	if isCounter && result > 0 && first >= 0 && !(first > result*x.zeroRatio) {
		// The counter may have started at zero inside the window.
		durationToStart := x.durationToStart
		if durationToZero := x.sampledInterval * (first / result); durationToZero < durationToStart {
			durationToStart = durationToZero
		}
		return result * x.factorFor(durationToStart, rng, isRate)
	}
	return result * x.factor
}

// instantValue implements irate and idelta from the last two samples.
func instantValue(p []FPoint, isRate bool) (float64, bool) {
	if len(p) < 2 {
		return 0, false
	}
	last, prev := p[len(p)-1], p[len(p)-2]
	interval := last.T - prev.T
	if interval == 0 {
		return 0, false
	}
	v := last.F
	if !isRate || !(last.F < prev.F) { // NaN compares false: its difference is NaN
		v = last.F - prev.F
	}
	if isRate {
		v /= float64(interval) / 1000
	}
	return v, true
}

func linearRegression(p []FPoint, interceptTime int64) (slope, intercept float64) {
	var n, sumX, cX, sumY, cY, sumXY, cXY, sumX2, cX2 float64
	initY := p[0].F
	constY := true
	for i, s := range p {
		if constY && i > 0 && s.F != initY {
			constY = false
		}
		n++
		x := float64(s.T-interceptTime) / 1e3
		sumX, cX = kahanInc(x, sumX, cX)
		sumY, cY = kahanInc(s.F, sumY, cY)
		sumXY, cXY = kahanInc(x*s.F, sumXY, cXY)
		sumX2, cX2 = kahanInc(x*x, sumX2, cX2)
	}
	if constY {
		if math.IsInf(initY, 0) {
			return math.NaN(), math.NaN()
		}
		return 0, initY
	}
	sumX += cX
	sumY += cY
	sumXY += cXY
	sumX2 += cX2
	covXY := sumXY - sumX*sumY/n
	varX := sumX2 - sumX*sumX/n
	slope = covXY / varX
	intercept = sumY/n - slope*sumX/n
	return slope, intercept
}

func funcDoubleExponentialSmoothing(p []FPoint, c *callCtx) (float64, bool) {
	sf, tf := c.params[1], c.params[2]
	if sf <= 0 || sf >= 1 {
		panic(evalError{fmt.Errorf("invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf)})
	}
	if tf <= 0 || tf >= 1 {
		panic(evalError{fmt.Errorf("invalid trend factor. Expected: 0 < tf < 1, got: %f", tf)})
	}
	if len(p) < 2 {
		return 0, false
	}
	var s0, s1, b float64
	s1 = p[0].F
	b = p[1].F - p[0].F
	for i := 1; i < len(p); i++ {
		x := sf * p[i].F
		if i > 1 {
			b = tf*(s1-s0) + (1-tf)*b
		}
		y := (1 - sf) * (s1 + b)
		s0, s1 = s1, x+y
	}
	return s1, true
}

func funcChanges(p []FPoint, _ *callCtx) (float64, bool) {
	if len(p) == 0 {
		return 0, false
	}
	n := 0
	for i := 1; i < len(p); i++ {
		a, b := p[i-1].F, p[i].F
		if b != a && !(math.IsNaN(a) && math.IsNaN(b)) {
			n++
		}
	}
	return float64(n), true
}

func funcResets(p []FPoint, _ *callCtx) (float64, bool) {
	if len(p) == 0 {
		return 0, false
	}
	n := 0
	for i := 1; i < len(p); i++ {
		if p[i].F < p[i-1].F {
			n++
		}
	}
	return float64(n), true
}

func avgOverTime(p []FPoint) float64 {
	sum, count := p[0].F, 1.0
	var mean, c float64
	incremental := false
	for i, f := range p[1:] {
		count = float64(i + 2)
		if !incremental {
			ns, nc := kahanInc(f.F, sum, c)
			if !math.IsInf(ns, 0) {
				sum, c = ns, nc
				continue
			}
			incremental = true
			mean = sum / (count - 1)
			c /= count - 1
		}
		q := (count - 1) / count
		mean, c = kahanInc(f.F/count, q*mean, q*c)
	}
	if incremental {
		return mean + c
	}
	return sum/count + c/count
}

func compareOverTime(better func(cur, acc float64) bool, timestamp bool) func([]FPoint) float64 {
	return func(p []FPoint) float64 {
		acc, at := p[0].F, p[0].T
		for _, f := range p {
			if better(f.F, acc) {
				acc, at = f.F, f.T
			}
		}
		if timestamp {
			return float64(at) / 1000
		}
		return acc
	}
}

func varianceOverTime(p []FPoint) float64 {
	var count, mean, cMean, aux, cAux float64
	for _, f := range p {
		count++
		delta := f.F - (mean + cMean)
		mean, cMean = kahanInc(delta/count, mean, cMean)
		aux, cAux = kahanInc(delta*(f.F-(mean+cMean)), aux, cAux)
	}
	return (aux + cAux) / count
}

// bucketGroup is one classic histogram at one step: its labels without le
// and its buckets.
type bucketGroup struct {
	metric  model.Labels
	buckets []bucket
}

// classicHistograms groups a vector of _bucket samples by their labels
// other than le, keeping the groups in first-seen order.
func classicHistograms(v Vector, ev func(string, ...any)) []*bucketGroup {
	index := map[string]*bucketGroup{}
	var order []*bucketGroup
	var key []byte
	for _, s := range v {
		le := s.Metric.Get("le")
		ub, err := strconv.ParseFloat(le, 64)
		if err != nil || math.IsNaN(ub) {
			ev("bucket label %q is missing or has a malformed value of %q", "le", le)
			continue
		}
		key = key[:0]
		for _, l := range s.Metric {
			if l.Name != "le" {
				key = model.AppendKey(key, model.Labels{l})
			}
		}
		g, ok := index[string(key)]
		if !ok {
			var b model.Builder
			b.Reset(s.Metric)
			b.Del("le")
			g = &bucketGroup{metric: dropMetricName(b.Labels())}
			index[string(key)] = g
			order = append(order, g)
		}
		g.buckets = append(g.buckets, bucket{upperBound: ub, count: s.F})
	}
	return order
}

func funcHistogramQuantile(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
	if len(args[0]) == 0 {
		return eh.out
	}
	q := args[0][0].F
	for _, g := range classicHistograms(args[1], func(string, ...any) {}) {
		v, _ := bucketQuantile(q, g.buckets)
		eh.out = append(eh.out, Sample{Metric: g.metric, F: v})
	}
	return eh.out
}

func funcHistogramFraction(args []Vector, _ *parser.Call, eh *evalHelper) Vector {
	if len(args[0]) == 0 || len(args[1]) == 0 {
		return eh.out
	}
	lower, upper := args[0][0].F, args[1][0].F
	for _, g := range classicHistograms(args[2], func(string, ...any) {}) {
		eh.out = append(eh.out, Sample{Metric: g.metric, F: bucketFraction(lower, upper, g.buckets)})
	}
	return eh.out
}
