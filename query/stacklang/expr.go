package stacklang

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/stratus-metrics/stratus/query"
)

// TimeSeries is one evaluated line: tags (Atlas keys), a legend label and
// one value per step of the evaluation grid, NaN where there is no data.
type TimeSeries struct {
	Tags   map[string]string
	Label  string
	Values []float64
}

// evalCtx is the grid an expression is evaluated on: n steps from start.
// The first `first` steps are history before the graph's start, which
// rolling windows and delays read; integrals, DES and statistics start at
// step first, as they start at the graph's start in Atlas.
type evalCtx struct {
	start, step int64
	n, first    int
	data        map[*DataExpr][]TimeSeries
}

func (c *evalCtx) nan() []float64 {
	v := make([]float64, c.n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

func (c *evalCtx) noData() TimeSeries {
	return TimeSeries{Tags: map[string]string{nameKey: "NO_DATA"}, Label: "NO DATA", Values: c.nan()}
}

// TimeSeriesExpr is an expression that evaluates to lines: a data
// expression, math on lines, a stateful or filter operation.
type TimeSeriesExpr interface {
	// String is the expression in stack-language form.
	String() string
	eval(c *evalCtx) ([]TimeSeries, error)
	// walk calls fn with every data expression, so the evaluator can
	// fetch them before evaluating.
	walk(fn func(*DataExpr))
	// grouping returns the keys the lines are grouped by; nil means not
	// grouped (one line, or :all's raw lines).
	grouping() []string
	// rewrite returns the expression with f applied bottom-up to every
	// node; f returns its argument when it changes nothing.
	rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr
	// preroll is how many steps before the graph's start it reads.
	preroll(step int64) int
}

// DataExpr selects series with a query and aggregates them per step: the
// Atlas :sum, :count, :min, :max, :all, optionally :by keys, with a
// consolidation function and an offset.
type DataExpr struct {
	Query Query
	// AF is the aggregate: sum, count, min, max or all.
	AF string
	// CF consolidates the samples within one step; see query.Consolidation.
	CF query.Consolidation
	// Keys groups the result (:by); nil for a single aggregate.
	Keys []string
	// Offset shifts the data window back, in milliseconds.
	Offset int64
}

func newDataExpr(q Query, af string) *DataExpr {
	cf := query.ConsolidateAvg
	switch af {
	case "min":
		cf = query.ConsolidateMin
	case "max":
		cf = query.ConsolidateMax
	}
	return &DataExpr{Query: q, AF: af, CF: cf}
}

func (d *DataExpr) clone() *DataExpr {
	c := *d
	c.Keys = slices.Clone(d.Keys)
	return &c
}

// String implements TimeSeriesExpr.
func (d *DataExpr) String() string {
	s := d.Query.String() + ",:" + d.AF
	if d.CF != defaultCF(d.AF) {
		s += ",:cf-" + d.CF.String()
	}
	if d.Keys != nil {
		s += ",(," + strings.Join(d.Keys, ",") + ",),:by"
	}
	if d.Offset != 0 {
		s += "," + formatDuration(d.Offset) + ",:offset"
	}
	return s
}

func defaultCF(af string) query.Consolidation { return newDataExpr(nil, af).CF }

func (d *DataExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	ts, ok := c.data[d]
	if !ok {
		return nil, fmt.Errorf("BUG: data expression %s was not fetched", d)
	}
	if len(ts) == 0 && d.Keys == nil && d.AF != "all" {
		return []TimeSeries{c.noData()}, nil
	}
	return ts, nil
}

func (d *DataExpr) walk(fn func(*DataExpr)) { fn(d) }
func (d *DataExpr) grouping() []string      { return d.Keys }
func (d *DataExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	return f(d)
}
func (d *DataExpr) preroll(int64) int { return 0 }

// constExpr is a number used as a line.
type constExpr struct{ v float64 }

func (e constExpr) String() string { return formatFloat(e.v) }
func (e constExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	vals := make([]float64, c.n)
	for i := range vals {
		vals[i] = e.v
	}
	s := formatFloat(e.v)
	return []TimeSeries{{Tags: map[string]string{nameKey: s}, Label: s, Values: vals}}, nil
}
func (e constExpr) walk(func(*DataExpr)) {}
func (e constExpr) grouping() []string   { return nil }
func (e constExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	return f(e)
}
func (e constExpr) preroll(int64) int { return 0 }

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// unaryExpr applies a function to every value: :abs, :neg, :sqrt,
// :per-step, :clamp-min, :clamp-max.
type unaryExpr struct {
	op    string
	param float64
	expr  TimeSeriesExpr
}

func (e *unaryExpr) String() string {
	if e.op == "clamp-min" || e.op == "clamp-max" {
		return e.expr.String() + "," + formatFloat(e.param) + ",:" + e.op
	}
	return e.expr.String() + ",:" + e.op
}

func (e *unaryExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	out := make([]TimeSeries, len(in))
	mult := float64(c.step) / 1000
	for i, s := range in {
		vals := make([]float64, len(s.Values))
		for j, v := range s.Values {
			switch e.op {
			case "abs":
				v = math.Abs(v)
			case "neg":
				v = -v
			case "sqrt":
				v = math.Sqrt(v)
			case "per-step":
				v *= mult
			case "clamp-min":
				if v < e.param {
					v = e.param
				}
			case "clamp-max":
				if v > e.param {
					v = e.param
				}
			}
			vals[j] = v
		}
		label := e.op + "(" + s.Label + ")"
		if e.op == "clamp-min" || e.op == "clamp-max" {
			label = e.op + "(" + s.Label + ", " + formatFloat(e.param) + ")"
		}
		out[i] = TimeSeries{Tags: s.Tags, Label: label, Values: vals}
	}
	return out, nil
}
func (e *unaryExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn) }
func (e *unaryExpr) grouping() []string      { return e.expr.grouping() }
func (e *unaryExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr = e.expr.rewrite(f)
	return f(&c)
}
func (e *unaryExpr) preroll(step int64) int { return e.expr.preroll(step) }

// binaryExpr combines two expressions step by step. When both sides are
// grouped, one side's keys must be a subset of the other's, and lines are
// joined on the smaller set of keys; an ungrouped side of one line joins
// every line of the other; two ungrouped sides of several lines (:all)
// join lines with the same tags. The result keeps the tags of the side
// with more keys.
type binaryExpr struct {
	op   string
	a, b TimeSeriesExpr
}

var binaryOps = map[string]struct {
	fmt string
	f   func(a, b float64) float64
}{
	"add":  {"(%s + %s)", addNaN},
	"sub":  {"(%s - %s)", subNaN},
	"mul":  {"(%s * %s)", func(a, b float64) float64 { return a * b }},
	"div":  {"(%s / %s)", divAtlas},
	"pow":  {"pow(%s, %s)", math.Pow},
	"fadd": {"(%s + %s)", func(a, b float64) float64 { return a + b }},
	"fsub": {"(%s - %s)", func(a, b float64) float64 { return a - b }},
	"fmul": {"(%s * %s)", func(a, b float64) float64 { return a * b }},
	"fdiv": {"(%s / %s)", func(a, b float64) float64 { return a / b }},
	"gt":   {"(%s > %s)", func(a, b float64) float64 { return b2f(a > b) }},
	"ge":   {"(%s >= %s)", func(a, b float64) float64 { return b2f(a >= b) }},
	"lt":   {"(%s < %s)", func(a, b float64) float64 { return b2f(a < b) }},
	"le":   {"(%s <= %s)", func(a, b float64) float64 { return b2f(a <= b) }},
	"and":  {"(%s AND %s)", func(a, b float64) float64 { return b2f(truthy(a) && truthy(b)) }},
	"or":   {"(%s OR %s)", func(a, b float64) float64 { return b2f(truthy(a) || truthy(b)) }},
}

// addNaN treats a missing value as zero unless both are missing.
func addNaN(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return a + b
}

// subNaN treats a missing value as zero unless both are missing.
func subNaN(a, b float64) float64 {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return math.NaN()
	case math.IsNaN(a):
		return -b
	case math.IsNaN(b):
		return a
	}
	return a - b
}

// divAtlas is 0 for 0/0 (no activity) and NaN for x/0, as Atlas's :div.
func divAtlas(a, b float64) float64 {
	if b == 0 {
		if a == 0 {
			return 0
		}
		return math.NaN()
	}
	return a / b
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func truthy(v float64) bool { return !math.IsNaN(v) && v != 0 }

func (e *binaryExpr) String() string { return e.a.String() + "," + e.b.String() + ",:" + e.op }

func isSubset(a, b []string) bool {
	for _, k := range a {
		if !slices.Contains(b, k) {
			return false
		}
	}
	return true
}

func (e *binaryExpr) grouping() []string {
	ga, gb := e.a.grouping(), e.b.grouping()
	if isSubset(gb, ga) && ga != nil {
		return ga
	}
	return gb
}

// groupKey joins the values of keys in tags; ok is false when one is
// missing.
func groupKey(keys []string, tags map[string]string) (string, bool) {
	var b strings.Builder
	for _, k := range keys {
		v, ok := tags[k]
		if !ok {
			return "", false
		}
		b.WriteString(v)
		b.WriteByte(0xff)
	}
	return b.String(), true
}

func (e *binaryExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	ra, err := e.a.eval(c)
	if err != nil {
		return nil, err
	}
	rb, err := e.b.eval(c)
	if err != nil {
		return nil, err
	}
	op := binaryOps[e.op]
	ga, gb := e.a.grouping(), e.b.grouping()
	if ga != nil && gb != nil && !isSubset(ga, gb) && !isSubset(gb, ga) {
		return nil, fmt.Errorf(":%s: both sides must have the same grouping or one side's keys must be a subset of the other's: (%s) vs (%s)",
			e.op, strings.Join(ga, ","), strings.Join(gb, ","))
	}
	// big is iterated, small is looked up by the small side's keys.
	big, small, keys, swapped := ra, rb, gb, false
	if !isSubset(gb, ga) || (ga == nil && gb == nil && len(rb) > 1 && len(ra) == 1) {
		big, small, keys, swapped = rb, ra, ga, true
	}
	// Two sides of several ungrouped lines each (say, :all and :all) join
	// line by line on all their tags, as PromQL's one-to-one matching.
	byTags := ga == nil && gb == nil && len(ra) > 1 && len(rb) > 1
	key := func(tags map[string]string) (string, bool) {
		if byTags {
			return tagsKey(tags), true
		}
		return groupKey(keys, tags)
	}
	index := make(map[string]*TimeSeries, len(small))
	for i := range small {
		k, ok := key(small[i].Tags)
		if !ok {
			continue
		}
		if _, dup := index[k]; dup {
			return nil, fmt.Errorf(":%s: more than one line on the %s side for the same group; group both sides by the same keys",
				e.op, map[bool]string{false: "right", true: "left"}[swapped])
		}
		index[k] = &small[i]
	}
	out := make([]TimeSeries, 0, len(big))
	for _, s := range big {
		k, ok := key(s.Tags)
		if !ok {
			continue
		}
		o, ok := index[k]
		if !ok {
			continue
		}
		l, r := s, *o
		if swapped {
			l, r = r, l
		}
		vals := make([]float64, c.n)
		for i := range vals {
			vals[i] = op.f(l.Values[i], r.Values[i])
		}
		out = append(out, TimeSeries{Tags: s.Tags, Label: fmt.Sprintf(op.fmt, l.Label, r.Label), Values: vals})
	}
	return out, nil
}
func (e *binaryExpr) walk(fn func(*DataExpr)) { e.a.walk(fn); e.b.walk(fn) }
func (e *binaryExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.a, c.b = e.a.rewrite(f), e.b.rewrite(f)
	return f(&c)
}
func (e *binaryExpr) preroll(step int64) int { return max(e.a.preroll(step), e.b.preroll(step)) }

// aggrExpr aggregates every line of an expression into one (math :sum,
// :count, :min, :max, :stddev), or, with keys, into one line per group
// (a second-level :by).
type aggrExpr struct {
	op   string
	expr TimeSeriesExpr
	keys []string
}

func (e *aggrExpr) String() string {
	s := e.expr.String() + ",:" + e.op
	if e.keys != nil {
		s += ",(," + strings.Join(e.keys, ",") + ",),:by"
	}
	return s
}

func (e *aggrExpr) grouping() []string { return e.keys }

func (e *aggrExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	in, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	type grp struct {
		agg   *query.StepAggregator
		tags  map[string]string
		label string
	}
	groups := map[string]*grp{}
	var order []string
	for _, s := range in {
		k, ok := groupKey(e.keys, s.Tags)
		if !ok {
			continue
		}
		g := groups[k]
		if g == nil {
			agg, err := query.NewStepAggregator(e.op, c.n)
			if err != nil {
				return nil, err
			}
			g = &grp{agg: agg, tags: maps.Clone(s.Tags)}
			if e.keys != nil {
				g.label = keyLabel(e.keys, s.Tags)
			} else {
				g.label = e.op + "(" + s.Label + ")"
			}
			groups[k] = g
			order = append(order, k)
		} else {
			// Keep the tags all lines of the group agree on.
			for tk, tv := range g.tags {
				if s.Tags[tk] != tv {
					delete(g.tags, tk)
				}
			}
		}
		g.agg.Add(s.Values)
	}
	if len(order) == 0 {
		if e.keys != nil {
			return nil, nil
		}
		return []TimeSeries{c.noData()}, nil
	}
	slices.Sort(order)
	out := make([]TimeSeries, 0, len(order))
	for _, k := range order {
		g := groups[k]
		out = append(out, TimeSeries{Tags: g.tags, Label: g.label, Values: g.agg.Result(nil)})
	}
	return out, nil
}
func (e *aggrExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn) }
func (e *aggrExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr = e.expr.rewrite(f)
	return f(&c)
}
func (e *aggrExpr) preroll(step int64) int { return e.expr.preroll(step) }

// keyLabel is the legend of a group: "(k1=v1 k2=v2)".
func keyLabel(keys []string, tags map[string]string) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k + "=" + tags[k])
	}
	b.WriteByte(')')
	return b.String()
}

// namedExpr is a macro's result (:avg, :dist-avg, ...): it evaluates
// expr, shows as name in labels of ungrouped lines, and prints as
// display,:name.
type namedExpr struct {
	name    string
	display string // the input in stack-language form
	lbl     string // the input as a legend
	expr    TimeSeriesExpr
}

func (e *namedExpr) String() string { return e.display + ",:" + e.name }
func (e *namedExpr) eval(c *evalCtx) ([]TimeSeries, error) {
	out, err := e.expr.eval(c)
	if err != nil {
		return nil, err
	}
	if g := e.expr.grouping(); g != nil {
		for i := range out {
			out[i].Label = keyLabel(g, out[i].Tags)
		}
		return out, nil
	}
	for i := range out {
		if out[i].Label != "NO DATA" {
			out[i].Label = e.name + "(" + e.lbl + ")"
		}
	}
	return out, nil
}
func (e *namedExpr) walk(fn func(*DataExpr)) { e.expr.walk(fn) }
func (e *namedExpr) grouping() []string      { return e.expr.grouping() }
func (e *namedExpr) rewrite(f func(TimeSeriesExpr) TimeSeriesExpr) TimeSeriesExpr {
	c := *e
	c.expr = e.expr.rewrite(f)
	return f(&c)
}
func (e *namedExpr) preroll(step int64) int { return e.expr.preroll(step) }
