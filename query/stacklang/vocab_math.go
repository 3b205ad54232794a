package stacklang

import (
	"slices"
	"strconv"
)

// The math vocabulary: arithmetic and comparisons between lines,
// functions of one line, aggregations across lines, distribution
// summaries and Spectator percentiles.

var mathWords = map[string]word{
	"add":          binaryWord("add"),
	"sub":          binaryWord("sub"),
	"mul":          binaryWord("mul"),
	"div":          binaryWord("div"),
	"pow":          binaryWord("pow"),
	"fadd":         binaryWord("fadd"),
	"fsub":         binaryWord("fsub"),
	"fmul":         binaryWord("fmul"),
	"fdiv":         binaryWord("fdiv"),
	"abs":          unaryWord("abs"),
	"neg":          unaryWord("neg"),
	"sqrt":         unaryWord("sqrt"),
	"per-step":     unaryWord("per-step"),
	"clamp-min":    clampWord("clamp-min"),
	"clamp-max":    clampWord("clamp-max"),
	"sum":          aggWord("sum"),
	"count":        aggWord("count"),
	"min":          aggWord("min"),
	"max":          aggWord("max"),
	"avg":          avgWord,
	"stddev":       exprWord("TimeSeriesExpr", func(t TimeSeriesExpr) TimeSeriesExpr { return &aggrExpr{op: "stddev", expr: t} }),
	"pct":          exprWord("TimeSeriesExpr", pct),
	"dist-avg":     distWord("dist-avg"),
	"dist-max":     distWord("dist-max"),
	"dist-stddev":  distWord("dist-stddev"),
	"percentiles":  percentilesWord,
	"median":       medianWord,
	"sample-count": sampleCountWord,
	"const": func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "Double -- TimeSeriesExpr"); err != nil {
			return err
		}
		v, ok := asFloat(in.peek(0))
		if !ok {
			return errAt(tok, "expects a number, got %s", describe(in.peek(0).v))
		}
		in.popN(1)
		return in.push(entry{constExpr{v}, tok})
	},
	"cq": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "Expr Query -- Expr"); err != nil {
			return err
		}
		q, ok := asQuery(in.peek(0))
		if !ok {
			return errAt(tok, "expects a query, got %s", describe(in.peek(0).v))
		}
		x := in.peek(1)
		switch v := x.v.(type) {
		case Query:
			in.popN(2)
			return in.push(entry{andQuery{v, q}, tok})
		case TimeSeriesExpr, *StyleExpr:
			return mapExpr(in, tok, 2, x, func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
				return andQueries(t, q), nil
			})
		}
		// Atlas leaves items that are not expressions alone.
		in.popN(1)
		return nil
	},
}

// andQueries ANDs q into every query of t.
func andQueries(t TimeSeriesExpr, q Query) TimeSeriesExpr {
	return t.rewrite(func(n TimeSeriesExpr) TimeSeriesExpr {
		switch x := n.(type) {
		case *DataExpr:
			c := x.clone()
			c.Query = andQuery{x.Query, q}
			return c
		case *percentilesExpr:
			c := *x
			c.data = x.data.clone()
			c.data.Query = andQuery{x.data.Query, q}
			return &c
		case *sampleCountExpr:
			c := *x
			c.data = x.data.clone()
			c.data.Query = andQuery{x.data.Query, q}
			return &c
		}
		return n
	})
}

// binaryWord is "a b -- a OP b" on lines; a styled operand keeps its style.
func binaryWord(op string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "TimeSeriesExpr TimeSeriesExpr"); err != nil {
			return err
		}
		ae, be := in.peek(1), in.peek(0)
		var style *StyleExpr
		if s, ok := ae.v.(*StyleExpr); ok {
			style, ae = s, entry{s.Expr, ae.tok}
		}
		if s, ok := be.v.(*StyleExpr); ok {
			style, be = s, entry{s.Expr, be.tok}
		}
		a, ok := asTSE(ae)
		if !ok {
			return errAt(tok, "expects an expression or a number as its first operand, got %s", describe(ae.v))
		}
		b, ok := asTSE(be)
		if !ok {
			return errAt(tok, "expects an expression or a number as its second operand, got %s", describe(be.v))
		}
		ga, gb := a.grouping(), b.grouping()
		if ga != nil && gb != nil && !isSubset(ga, gb) && !isSubset(gb, ga) {
			return errAt(tok, "expects both sides grouped by the same keys or one a subset of the other, got (%s) and (%s)", join(ga), join(gb))
		}
		in.popN(2)
		var r TimeSeriesExpr = &binaryExpr{op: op, a: a, b: b}
		if style != nil {
			c := style.clone()
			c.Expr = r
			return in.push(entry{c, tok})
		}
		return in.push(entry{r, tok})
	}
}

// exprWord is "TimeSeriesExpr -- f(TimeSeriesExpr)", style kept.
func exprWord(sig string, f func(TimeSeriesExpr) TimeSeriesExpr) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 1, sig); err != nil {
			return err
		}
		return mapExpr(in, tok, 1, in.peek(0), func(t TimeSeriesExpr) (TimeSeriesExpr, error) { return f(t), nil })
	}
}

func unaryWord(op string) word {
	return exprWord("TimeSeriesExpr -- TimeSeriesExpr", func(t TimeSeriesExpr) TimeSeriesExpr {
		return &unaryExpr{op: op, expr: t}
	})
}

func clampWord(op string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "TimeSeriesExpr Double"); err != nil {
			return err
		}
		v, ok := asFloat(in.peek(0))
		if !ok {
			return errAt(tok, "expects a number, got %s", describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 2, in.peek(1), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &unaryExpr{op: op, param: v, expr: t}, nil
		})
	}
}

// avgWord is :avg: sum over count, of a query's series (then :by applies
// to both) or of an expression's lines.
func avgWord(in *interp, tok Token) error {
	if err := in.need(tok, 1, "Query or TimeSeriesExpr"); err != nil {
		return err
	}
	e := in.peek(0)
	if q, ok := asQuery(e); ok {
		in.popN(1)
		return in.push(entry{&namedExpr{name: "avg", display: q.String(), lbl: q.label(),
			expr: &binaryExpr{op: "div", a: newDataExpr(q, "sum"), b: newDataExpr(q, "count")}}, tok})
	}
	return mapExpr(in, tok, 1, e, func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
		return &binaryExpr{op: "div", a: mathAggr("sum", t), b: mathAggr("count", t)}, nil
	})
}

// pct is each line as a percentage of the sum of all lines.
func pct(t TimeSeriesExpr) TimeSeriesExpr {
	return &binaryExpr{op: "mul", a: &binaryExpr{op: "div", a: t, b: mathAggr("sum", t)}, b: constExpr{100}}
}

// distWord is :dist-avg, :dist-max and :dist-stddev over the statistic
// series of a Spectator timer or distribution summary (count, totalTime
// or totalAmount, totalOfSquares, max).
func distWord(name string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "Query"); err != nil {
			return err
		}
		q, ok := asQuery(in.peek(0))
		if !ok {
			return errAt(tok, "expects a query, got %s", describe(in.peek(0).v))
		}
		stat := func(vs ...string) Query {
			if len(vs) == 1 {
				return andQuery{q, eqQuery{"statistic", vs[0]}}
			}
			return andQuery{q, inQuery{"statistic", vs}}
		}
		sum := func(q Query) TimeSeriesExpr { return newDataExpr(q, "sum") }
		var t TimeSeriesExpr
		switch name {
		case "dist-avg":
			t = &binaryExpr{op: "div", a: sum(stat("totalTime", "totalAmount")), b: sum(stat("count"))}
		case "dist-max":
			t = newDataExpr(stat("max"), "max")
		case "dist-stddev":
			// sqrt((N * sum(x^2) - sum(x)^2) / N^2)
			n := sum(stat("count"))
			sx := sum(stat("totalAmount", "totalTime"))
			v := &binaryExpr{op: "div",
				a: &binaryExpr{op: "sub",
					a: &binaryExpr{op: "mul", a: n, b: sum(stat("totalOfSquares"))},
					b: &binaryExpr{op: "mul", a: sx, b: sx}},
				b: &binaryExpr{op: "mul", a: n, b: n}}
			t = &unaryExpr{op: "sqrt", expr: v}
		}
		in.popN(1)
		return in.push(entry{&namedExpr{name: name, display: q.String(), lbl: q.label(), expr: t}, tok})
	}
}

// percentilesOf builds :percentiles over a query or a data aggregate; any
// aggregate becomes a sum grouped by percentile and the caller's keys.
func percentilesOf(tok Token, e entry, pcts []float64) (TimeSeriesExpr, error) {
	var d *DataExpr
	switch x := e.v.(type) {
	case Query:
		d = newDataExpr(x, "sum")
	case *DataExpr:
		if x.AF == "all" {
			return nil, errAt(tok, "expects a query, an aggregate or a :by, got :all")
		}
		d = newDataExpr(x.Query, "sum")
		d.Keys, d.Offset = x.Keys, x.Offset
	default:
		return nil, errAt(tok, "expects a query or a data aggregate, got %s", describe(e.v))
	}
	for _, p := range pcts {
		if !(p >= 0 && p <= 100) {
			return nil, errAt(tok, "expects percentiles in [0, 100], got %s", formatFloat(p))
		}
	}
	pcts = slices.Compact(slices.Sorted(slices.Values(pcts)))
	keys := slices.Clone(d.Keys)
	d.Keys = append(slices.Clone(keys), percentileKey)
	return &percentilesExpr{data: d, keys: keys, pcts: pcts}, nil
}

func percentilesWord(in *interp, tok Token) error {
	if err := in.need(tok, 2, "DataExpr percentiles:List"); err != nil {
		return err
	}
	ps, ok := asStringList(in.peek(0))
	if !ok || len(ps) == 0 {
		return errAt(tok, "expects a list of percentiles, got %s", describe(in.peek(0).v))
	}
	pcts := make([]float64, len(ps))
	for i, s := range ps {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return errAt(tok, "expects numeric percentiles, got %q", s)
		}
		pcts[i] = f
	}
	t, err := percentilesOf(tok, in.peek(1), pcts)
	if err != nil {
		return err
	}
	in.popN(2)
	return in.push(entry{t, tok})
}

func medianWord(in *interp, tok Token) error {
	if err := in.need(tok, 1, "DataExpr"); err != nil {
		return err
	}
	t, err := percentilesOf(tok, in.peek(0), []float64{50})
	if err != nil {
		return err
	}
	in.popN(1)
	return in.push(entry{t, tok})
}

func sampleCountWord(in *interp, tok Token) error {
	if err := in.need(tok, 3, "Query min:Double max:Double"); err != nil {
		return err
	}
	q, ok := asQuery(in.peek(2))
	if !ok {
		return errAt(tok, "expects a query, got %s", describe(in.peek(2).v))
	}
	lo, lok := asFloat(in.peek(1))
	hi, hok := asFloat(in.peek(0))
	if !lok || !hok || lo > hi {
		return errAt(tok, "expects min and max numbers with min <= max, got %s and %s", describe(in.peek(1).v), describe(in.peek(0).v))
	}
	d := newDataExpr(q, "sum")
	d.Keys = []string{percentileKey}
	in.popN(3)
	return in.push(entry{&sampleCountExpr{data: d, min: lo, max: hi}, tok})
}
