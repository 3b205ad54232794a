package stacklang

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/stratus-metrics/stratus/query"
)

// statNames are the statistics :stat, :topk and friends accept.
var statNames = []string{"avg", "max", "min", "last", "total", "count"}

// seriesStat computes a statistic of vals over the graph window, NaN
// values skipped; NaN when there is no value.
func seriesStat(stat string, vals []float64) float64 {
	sum, cnt, mn, mx, last := 0.0, 0, math.Inf(1), math.Inf(-1), math.NaN()
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		sum += v
		cnt++
		mn, mx, last = math.Min(mn, v), math.Max(mx, v), v
	}
	if cnt == 0 {
		if stat == "count" {
			return 0
		}
		return math.NaN()
	}
	switch stat {
	case "avg":
		return sum / float64(cnt)
	case "max":
		return mx
	case "min":
		return mn
	case "last":
		return last
	case "total":
		return sum
	}
	return float64(cnt)
}

// statExpr is :stat: each line replaced by a constant line of one of its
// statistics over the graph window.
type statExpr struct {
	stat string
	expr TimeSeriesExpr
}

func (e *statExpr) String() string { return e.expr.String() + "," + e.stat + ",:stat" }
func (e *statExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	out := make([]TimeSeries, len(in))
	for i, s := range in {
		v := seriesStat(e.stat, s.Values[c.first:])
		vals := make([]float64, c.n)
		for j := range vals {
			vals[j] = v
		}
		out[i] = TimeSeries{Tags: s.Tags, Label: "stat-" + e.stat + "(" + s.Label + ")", Values: vals}
	}
	return out, nil
}
func (e *statExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn) }
func (e *statExpr) grouping() []string      { return e.expr.grouping() }
func (e *statExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr = e.expr.rewrite(f)
	return f(&c)
}
func (e *statExpr) preroll(step int64) int { return e.expr.preroll(step) }

// statPlaceholder is :stat-avg and friends: a stand-in that :filter
// replaces with the statistic of the lines it filters.
type statPlaceholder struct{ stat string }

func (e statPlaceholder) String() string { return ":stat-" + e.stat }
func (e statPlaceholder) eval(*evalCtx) ([]TimeSeries, error) {
	return nil, fmt.Errorf(":stat-%s can only be used in the second argument of :filter", e.stat)
}
func (e statPlaceholder) walk(func(*DataExpr)) {}
func (e statPlaceholder) grouping() []string   { return nil }
func (e statPlaceholder) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	return f(e)
}
func (e statPlaceholder) preroll(int64) int { return 0 }

// filterExpr is :filter: keeps the lines of expr for which the matching
// line of cond (joined on all tags) is true (non-zero) at some step of
// the graph window.
type filterExpr struct {
	expr, cond TimeSeriesExpr
}

func (e *filterExpr) String() string { return e.expr.String() + "," + e.cond.String() + ",:filter" }

func tagsKey(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\xfe" + tags[k] + "\xff")
	}
	return b.String()
}

func (e *filterExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	conds, err := e.cond.eval(c)
	if err != nil {
		return nil, err
	}
	keep := make(map[string]bool, len(conds))
	var any1 *bool
	for _, s := range conds {
		t := slices.ContainsFunc(s.Values[c.first:], truthy)
		keep[tagsKey(s.Tags)] = keep[tagsKey(s.Tags)] || t
		if len(conds) == 1 {
			any1 = &t
		}
	}
	var out []TimeSeries
	for _, s := range in {
		k, found := keep[tagsKey(s.Tags)]
		if !found && any1 != nil {
			// An ungrouped condition (say, on the sum) applies to all.
			k = *any1
		}
		if k {
			out = append(out, s)
		}
	}
	return out, nil
}
func (e *filterExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn); e.cond.walk(fn) }
func (e *filterExpr) grouping() []string      { return e.expr.grouping() }
func (e *filterExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr, c.cond = e.expr.rewrite(f), e.cond.rewrite(f)
	return f(&c)
}
func (e *filterExpr) preroll(step int64) int { return max(e.expr.preroll(step), e.cond.preroll(step)) }

// priorityExpr is :topk, :bottomk and their -others- variants: the k lines
// with the highest (lowest) statistic, and optionally one line that
// aggregates the rest.
type priorityExpr struct {
	op     string // topk, bottomk, topk-others-sum, ...
	stat   string
	k      int
	expr   TimeSeriesExpr
	bottom bool
	others string // "", sum, avg, min, max
}

func (e *priorityExpr) String() string {
	return e.expr.String() + "," + e.stat + "," + strconv.Itoa(e.k) + ",:" + e.op
}

func (e *priorityExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	type ranked struct {
		s TimeSeries
		v float64
	}
	rs := make([]ranked, len(in))
	for i, s := range in {
		rs[i] = ranked{s, seriesStat(e.stat, s.Values[c.first:])}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i].v, rs[j].v
		if math.IsNaN(a) || math.IsNaN(b) {
			return !math.IsNaN(a) && math.IsNaN(b)
		}
		if e.bottom {
			return a < b
		}
		return a > b
	})
	n := min(e.k, len(rs))
	out := make([]TimeSeries, 0, n+1)
	for _, r := range rs[:n] {
		out = append(out, r.s)
	}
	if e.others != "" && len(rs) > n {
		agg, err := query.NewStepAggregator(e.others, c.n)
		if err != nil {
			return nil, err
		}
		for _, r := range rs[n:] {
			agg.Add(r.s.Values)
		}
		out = append(out, TimeSeries{Tags: map[string]string{nameKey: "--others--"}, Label: "--others--", Values: agg.Result(nil)})
	}
	return out, nil
}
func (e *priorityExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn) }
func (e *priorityExpr) grouping() []string      { return e.expr.grouping() }
func (e *priorityExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr = e.expr.rewrite(f)
	return f(&c)
}
func (e *priorityExpr) preroll(step int64) int { return e.expr.preroll(step) }

// headExpr is :head: the first n lines in label order.
type headExpr struct {
	n    int
	expr TimeSeriesExpr
}

func (e *headExpr) String() string { return e.expr.String() + "," + strconv.Itoa(e.n) + ",:head" }
func (e *headExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	in = slices.Clone(in)
	slices.SortStableFunc(in, func(a, b TimeSeries) int { return strings.Compare(a.Label, b.Label) })
	return in[:min(e.n, len(in))], nil
}
func (e *headExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn) }
func (e *headExpr) grouping() []string      { return e.expr.grouping() }
func (e *headExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr = e.expr.rewrite(f)
	return f(&c)
}
func (e *headExpr) preroll(step int64) int { return e.expr.preroll(step) }
