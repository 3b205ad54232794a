package stacklang

import (
	"slices"
	"strings"
)

// The filter vocabulary: choose lines by their statistics.

var filterWords = map[string]word{
	"stat": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "TimeSeriesExpr stat:String"); err != nil {
			return err
		}
		s, ok := asString(in.peek(0))
		if !ok || !slices.Contains(statNames, s) {
			return errAt(tok, "expects a statistic (%s), got %s", strings.Join(statNames, ", "), describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 2, in.peek(1), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &statExpr{stat: s, expr: t}, nil
		})
	},
	"stat-avg":   statPlaceholderWord("avg"),
	"stat-max":   statPlaceholderWord("max"),
	"stat-min":   statPlaceholderWord("min"),
	"stat-last":  statPlaceholderWord("last"),
	"stat-total": statPlaceholderWord("total"),
	"stat-count": statPlaceholderWord("count"),
	"filter": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "TimeSeriesExpr TimeSeriesExpr"); err != nil {
			return err
		}
		cond, ok := asTSE(in.peek(0))
		if !ok {
			return errAt(tok, "expects a condition expression, got %s", describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 2, in.peek(1), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			c := cond.rewrite(func(n TimeSeriesExpr) TimeSeriesExpr {
				if p, ok := n.(statPlaceholder); ok {
					return &statExpr{stat: p.stat, expr: t}
				}
				return n
			})
			return &filterExpr{expr: t, cond: c}, nil
		})
	},
	"head": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "TimeSeriesExpr n:Int"); err != nil {
			return err
		}
		n, ok := asInt(in.peek(0))
		if !ok || n < 1 {
			return errAt(tok, "expects a positive count, got %s", describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 2, in.peek(1), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &headExpr{n: n, expr: t}, nil
		})
	},
}

func init() {
	for _, dir := range []string{"topk", "bottomk"} {
		filterWords[dir] = priorityWord(dir, dir == "bottomk", "")
		for _, o := range []string{"sum", "avg", "min", "max"} {
			name := dir + "-others-" + o
			filterWords[name] = priorityWord(name, dir == "bottomk", o)
		}
	}
}

func statPlaceholderWord(stat string) word {
	return func(in *interp, tok Token) error { return in.push(entry{statPlaceholder{stat}, tok}) }
}

func priorityWord(op string, bottom bool, others string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 3, "TimeSeriesExpr stat:String k:Int"); err != nil {
			return err
		}
		s, ok := asString(in.peek(1))
		if !ok || !slices.Contains(statNames, s) {
			return errAt(tok, "expects a statistic (%s), got %s", strings.Join(statNames, ", "), describe(in.peek(1).v))
		}
		k, ok := asInt(in.peek(0))
		if !ok || k < 1 {
			return errAt(tok, "expects a positive k, got %s", describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 3, in.peek(2), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &priorityExpr{op: op, stat: s, k: k, expr: t, bottom: bottom, others: others}, nil
		})
	}
}
