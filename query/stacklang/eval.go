package stacklang

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
)

// Engine evaluates stack-language programs on the PromQL engine's
// execution layer (query.Engine.SelectSeries): the same store, limits,
// timeout and statistics. It is safe for concurrent use.
type Engine struct {
	ng *query.Engine
}

// NewEngine returns an engine that selects through ng.
func NewEngine(ng *query.Engine) *Engine { return &Engine{ng: ng} }

// Series is one evaluated, styled line of a Result.
type Series struct {
	TimeSeries
	// Style is the expression's style; Label above has the legend applied.
	Style *StyleExpr
	// Expr is the index of the expression in the program that made it.
	Expr int
}

// Result is the evaluation of a program on a step grid.
type Result struct {
	// Start is the timestamp of the first value, Step the distance
	// between values, in milliseconds; every series has N values.
	Start, Step int64
	N           int
	Series      []Series
	// Stats counts the series and samples read from storage.
	Stats query.Stats
}

// MaxSteps bounds the steps of one evaluation, history included.
const MaxSteps = 1 << 20

// Eval evaluates p at the n steps start, start+step, ... (milliseconds);
// the value at t covers the samples in (t-step, t].
func (e *Engine) Eval(ctx context.Context, p *Program, start, step int64, n int) (*Result, error) {
	if step <= 0 || n <= 0 {
		return nil, fmt.Errorf("step %dms and %d steps: both must be positive", step, n)
	}
	first := 0
	for _, x := range p.Exprs {
		first = max(first, x.Expr.preroll(step))
	}
	if n+first > MaxSteps {
		return nil, fmt.Errorf("%d steps exceed the limit of %d; use a larger step", n+first, MaxSteps)
	}
	c := &evalCtx{start: start - int64(first)*step, step: step, n: n + first, first: first, data: map[*DataExpr][]TimeSeries{}}
	stats, err := e.fetch(ctx, c, p)
	if err != nil {
		return nil, err
	}
	res := &Result{Start: start, Step: step, N: n, Stats: stats}
	for i, x := range p.Exprs {
		lines, err := x.Expr.eval(c)
		if err != nil {
			return nil, fmt.Errorf("evaluate %s: %w", x.Expr, err)
		}
		for _, l := range lines {
			l.Values = l.Values[first:]
			l.Label = x.label(l)
			res.Series = append(res.Series, Series{TimeSeries: l, Style: x, Expr: i})
		}
	}
	return res, nil
}

// consumer is one data expression being filled while its query's series
// stream past: a single aggregate, groups, or (for :all) every series.
type consumer struct {
	d      *DataExpr
	agg    *query.StepAggregator
	groups map[string]*groupAgg
	all    []TimeSeries
	tags   map[string]string
}

type groupAgg struct {
	agg  *query.StepAggregator
	tags map[string]string
}

// fetch reads the data of every data expression in p: one SelectSeries
// per distinct query, each series decoded once and consolidated for each
// (offset, consolidation) that uses it, then folded into each consumer.
func (e *Engine) fetch(ctx context.Context, c *evalCtx, p *Program) (query.Stats, error) {
	type fetchGroup struct {
		q         Query
		consumers []*consumer
	}
	var total query.Stats
	groups := map[string]*fetchGroup{}
	var order []string
	seen := map[*DataExpr]bool{}
	for _, x := range p.Exprs {
		x.Expr.walk(func(d *DataExpr) {
			if seen[d] {
				return
			}
			seen[d] = true
			k := d.Query.String()
			g := groups[k]
			if g == nil {
				g = &fetchGroup{q: d.Query}
				groups[k] = g
				order = append(order, k)
			}
			cons := &consumer{d: d}
			if d.AF != "all" {
				cons.tags = map[string]string{}
				exactKeys(d.Query, cons.tags)
				if d.Keys == nil {
					cons.agg, _ = query.NewStepAggregator(d.AF, c.n)
				} else {
					cons.groups = map[string]*groupAgg{}
				}
			}
			g.consumers = append(g.consumers, cons)
		})
	}
	type alignKey struct {
		offset int64
		cf     query.Consolidation
	}
	// Buffers reused across series: one per (offset, consolidation).
	bufs := map[alignKey][]float64{}
	done := map[alignKey]bool{}
	var keyBuf []byte
	for _, k := range order {
		g := groups[k]
		mint, maxt := int64(math.MaxInt64), int64(math.MinInt64)
		for _, cons := range g.consumers {
			mint = min(mint, c.start-c.step+1-cons.d.Offset)
			maxt = max(maxt, c.start+int64(c.n-1)*c.step-cons.d.Offset)
		}
		var ferr error
		st, err := e.ng.SelectSeries(ctx, mint, maxt, selectMatchers(g.q), func(ls model.Labels, pts []query.FPoint) {
			if ferr != nil || !g.q.Matches(ls) {
				return
			}
			clear(done)
			var tags map[string]string
			for _, cons := range g.consumers {
				ak := alignKey{cons.d.Offset, cons.d.CF}
				vals := bufs[ak]
				if !done[ak] {
					vals = query.ConsolidateSteps(vals, pts, c.start-cons.d.Offset, c.step, c.n, cons.d.CF)
					bufs[ak], done[ak] = vals, true
				}
				switch {
				case cons.agg != nil:
					cons.agg.Add(vals)
				case cons.groups != nil:
					// The key is read from the labels: no map per series.
					keyBuf = keyBuf[:0]
					ok := true
					for _, key := range cons.d.Keys {
						v, has := get(ls, key)
						if !has {
							ok = false
							break
						}
						keyBuf = append(append(keyBuf, v...), 0xff)
					}
					if !ok {
						continue
					}
					ga := cons.groups[string(keyBuf)]
					if ga == nil {
						agg, _ := query.NewStepAggregator(cons.d.AF, c.n)
						gt := maps.Clone(cons.tags)
						for _, key := range cons.d.Keys {
							gt[key], _ = get(ls, key)
						}
						ga = &groupAgg{agg: agg, tags: gt}
						cons.groups[string(keyBuf)] = ga
					}
					ga.agg.Add(vals)
				default:
					if tags == nil {
						tags = atlasTags(ls)
					}
					cons.all = append(cons.all, TimeSeries{Tags: tags, Label: model.Labels(ls).String(), Values: slices.Clone(vals)})
				}
			}
		})
		total.Series += st.Series
		total.Samples += st.Samples
		total.EvalTime += st.EvalTime
		if err != nil {
			return total, err
		}
		if ferr != nil {
			return total, ferr
		}
		for _, cons := range g.consumers {
			c.data[cons.d] = cons.result(c)
		}
	}
	return total, nil
}

func (cons *consumer) result(c *evalCtx) []TimeSeries {
	d := cons.d
	switch {
	case cons.agg != nil:
		vals := cons.agg.Result(nil)
		if !slices.ContainsFunc(vals, func(v float64) bool { return !math.IsNaN(v) }) {
			return nil
		}
		return []TimeSeries{{Tags: cons.tags, Label: d.Query.label(), Values: vals}}
	case cons.groups != nil:
		keys := slices.Sorted(maps.Keys(cons.groups))
		out := make([]TimeSeries, 0, len(keys))
		for _, k := range keys {
			ga := cons.groups[k]
			out = append(out, TimeSeries{Tags: ga.tags, Label: keyLabel(d.Keys, ga.tags), Values: ga.agg.Result(nil)})
		}
		return out
	}
	return cons.all
}

// atlasTags converts a series' labels to Atlas tags (__name__ as name).
func atlasTags(ls model.Labels) map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[atlasKey(l.Name)] = l.Value
	}
	return m
}
