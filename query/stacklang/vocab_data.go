package stacklang

import (
	"slices"

	"github.com/stratus-metrics/stratus/query"
)

// The data vocabulary: aggregate the series a query selects. :sum, :count,
// :min and :max on a query are data expressions; on other expressions
// they are the math aggregations (vocab_math.go).

var dataWords = map[string]word{
	"all":    func(in *interp, tok Token) error { return aggWord("all")(in, tok) },
	"by":     groupByWord,
	"offset": offsetWord,
	"cf-avg": cfWord(query.ConsolidateAvg),
	"cf-sum": cfWord(query.ConsolidateSum),
	"cf-min": cfWord(query.ConsolidateMin),
	"cf-max": cfWord(query.ConsolidateMax),
}

// aggWord is :sum, :count, :min, :max (data on a query, math on an
// expression) and :all (data only).
func aggWord(op string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "Query or TimeSeriesExpr"); err != nil {
			return err
		}
		e := in.peek(0)
		if q, ok := asQuery(e); ok {
			in.popN(1)
			return in.push(entry{newDataExpr(q, op), tok})
		}
		if op == "all" {
			return errAt(tok, "expects a query, got %s", describe(e.v))
		}
		if s, ok := e.v.(*StyleExpr); ok {
			c := s.clone()
			c.Expr = mathAggr(op, s.Expr)
			in.popN(1)
			return in.push(entry{c, tok})
		}
		t, ok := asTSE(e)
		if !ok {
			return errAt(tok, "expects a query or an expression, got %s", describe(e.v))
		}
		in.popN(1)
		return in.push(entry{mathAggr(op, t), tok})
	}
}

// mathAggr aggregates the lines of t into one, undoing a data :by with the
// same aggregate (the sum of a grouped sum is the sum) as Atlas does.
func mathAggr(op string, t TimeSeriesExpr) TimeSeriesExpr {
	if d, ok := t.(*DataExpr); ok && d.AF != "all" {
		if d.Keys != nil && d.AF == op && op != "count" {
			c := d.clone()
			c.Keys = nil
			return c
		}
		if d.Keys == nil && op != "count" {
			return d
		}
	}
	return &aggrExpr{op: op, expr: t}
}

func groupByWord(in *interp, tok Token) error {
	if err := in.need(tok, 2, "expression keys:List"); err != nil {
		return err
	}
	le, xe := in.peek(0), in.peek(1)
	keys, ok := asStringList(le)
	if !ok {
		return errAt(tok, "expects a list of keys, got %s", describe(le.v))
	}
	if len(keys) == 0 {
		return errAt(tok, "expects at least one key in its list")
	}
	var style *StyleExpr
	if s, ok := xe.v.(*StyleExpr); ok {
		style = s
		xe = entry{s.Expr, xe.tok}
	}
	t, ok := asTSE(xe)
	if !ok {
		return errAt(tok, "expects a query or an expression to group, got %s", describe(xe.v))
	}
	g, err := groupBy(t, keys)
	if err != nil {
		return errAt(tok, "%v", err)
	}
	in.popN(2)
	if style != nil {
		c := style.clone()
		c.Expr = g
		return in.push(entry{c, tok})
	}
	return in.push(entry{g, tok})
}

// groupBy applies :by keys: to a data aggregate directly; to an already
// grouped expression as a second-level aggregation (sum unless the
// expression is an explicit math aggregate); otherwise to every data
// aggregate and math aggregate inside the expression.
func groupBy(t TimeSeriesExpr, keys []string) (TimeSeriesExpr, error) {
	switch x := t.(type) {
	case *DataExpr:
		if x.AF == "all" {
			return nil, errorf("cannot group :all; use a data aggregate such as :sum")
		}
		if x.Keys == nil {
			c := x.clone()
			c.Keys = slices.Clone(keys)
			return c, nil
		}
	case *aggrExpr:
		if x.keys == nil && x.expr.grouping() != nil {
			if !isSubset(keys, x.expr.grouping()) {
				return nil, errorf("keys (%s) are not a subset of the grouping (%s)", join(keys), join(x.expr.grouping()))
			}
			c := *x
			c.keys = slices.Clone(keys)
			return &c, nil
		}
	case *percentilesExpr:
		c := *x
		c.keys = slices.Clone(keys)
		c.data = x.data.clone()
		c.data.Keys = append(slices.Clone(keys), percentileKey)
		return &c, nil
	}
	if g := t.grouping(); g != nil {
		if !isSubset(keys, g) {
			return nil, errorf("keys (%s) are not a subset of the grouping (%s)", join(keys), join(g))
		}
		return &aggrExpr{op: "sum", expr: t, keys: slices.Clone(keys)}, nil
	}
	changed := false
	r := t.rewrite(func(n TimeSeriesExpr) TimeSeriesExpr {
		switch x := n.(type) {
		case *DataExpr:
			if x.Keys == nil && x.AF != "all" {
				c := x.clone()
				c.Keys = slices.Clone(keys)
				changed = true
				return c
			}
		case *aggrExpr:
			if x.keys == nil && x.expr.grouping() != nil && isSubset(keys, x.expr.grouping()) {
				c := *x
				c.keys = slices.Clone(keys)
				changed = true
				return &c
			}
		}
		return n
	})
	if !changed {
		return nil, errorf("found nothing to group in %s", t)
	}
	return r, nil
}

func offsetWord(in *interp, tok Token) error {
	if err := in.need(tok, 2, "expression duration"); err != nil {
		return err
	}
	de, xe := in.peek(0), in.peek(1)
	ds, ok := asString(de)
	if !ok {
		return errAt(tok, "expects a duration, got %s", describe(de.v))
	}
	d, err := ParseDuration(ds)
	if err != nil {
		return errAt(tok, "%v", err)
	}
	return mapExpr(in, tok, 2, xe, func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
		return t.rewrite(func(n TimeSeriesExpr) TimeSeriesExpr {
			switch x := n.(type) {
			case *DataExpr:
				c := x.clone()
				c.Offset = d
				return c
			case *percentilesExpr:
				c := *x
				c.data = x.data.clone()
				c.data.Offset = d
				return &c
			case *sampleCountExpr:
				c := *x
				c.data = x.data.clone()
				c.data.Offset = d
				return &c
			}
			return n
		}), nil
	})
}

func cfWord(cf query.Consolidation) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "AggregateFunction"); err != nil {
			return err
		}
		e := in.peek(0)
		var d *DataExpr
		switch x := e.v.(type) {
		case Query:
			d = newDataExpr(x, "sum")
		case *DataExpr:
			if x.AF == "all" {
				return errAt(tok, "expects an aggregate (:sum, :count, :min, :max, :by), got %s", describe(e.v))
			}
			d = x.clone()
		default:
			return errAt(tok, "expects an aggregate (:sum, :count, :min, :max, :by), got %s", describe(e.v))
		}
		d.CF = cf
		in.popN(1)
		return in.push(entry{d, tok})
	}
}

// mapExpr replaces the n top items with f applied to the expression xe,
// keeping the style of a styled expression.
func mapExpr(in *interp, tok Token, n int, xe entry, f func(TimeSeriesExpr) (TimeSeriesExpr, error)) error {
	if s, ok := xe.v.(*StyleExpr); ok {
		r, err := f(s.Expr)
		if err != nil {
			return errAt(tok, "%v", err)
		}
		c := s.clone()
		c.Expr = r
		in.popN(n)
		return in.push(entry{c, tok})
	}
	t, ok := asTSE(xe)
	if !ok {
		return errAt(tok, "expects an expression, got %s", describe(xe.v))
	}
	r, err := f(t)
	if err != nil {
		return errAt(tok, "%v", err)
	}
	in.popN(n)
	return in.push(entry{r, tok})
}
