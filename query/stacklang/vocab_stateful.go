package stacklang

import "strconv"

// The stateful vocabulary: operations over a line's earlier steps.

var statefulWords = map[string]word{
	"rolling-count": windowWord("rolling-count"),
	"rolling-min":   windowWord("rolling-min"),
	"rolling-max":   windowWord("rolling-max"),
	"rolling-sum":   windowWord("rolling-sum"),
	"delay":         windowWord("delay"),
	"rolling-mean": func(in *interp, tok Token) error {
		if err := in.need(tok, 3, "TimeSeriesExpr n:Int minNumValues:Int"); err != nil {
			return err
		}
		n, nok := asInt(in.peek(1))
		m, mok := asInt(in.peek(0))
		if !nok || !mok || n < 1 || n > maxWindow || m < 0 {
			return errAt(tok, "expects a window of 1 to %d steps and a minimum count, got %s and %s", maxWindow, describe(in.peek(1).v), describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 3, in.peek(2), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &statefulExpr{op: "rolling-mean", expr: t, n: n, minCount: m}, nil
		})
	},
	"derivative": exprWord("TimeSeriesExpr", func(t TimeSeriesExpr) TimeSeriesExpr { return &statefulExpr{op: "derivative", expr: t} }),
	"integral":   exprWord("TimeSeriesExpr", func(t TimeSeriesExpr) TimeSeriesExpr { return &statefulExpr{op: "integral", expr: t} }),
	"trend": func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "TimeSeriesExpr window:Duration"); err != nil {
			return err
		}
		s, _ := asString(in.peek(0))
		d, err := ParseDuration(s)
		if err != nil || d <= 0 {
			return errAt(tok, "expects a window duration such as 10m, got %s", describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 2, in.peek(1), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &statefulExpr{op: "trend", expr: t, window: d}, nil
		})
	},
	"des":         desWord("des"),
	"sdes":        desWord("sdes"),
	"des-simple":  desMacro("des", 10, 0.1, 0.5),
	"des-fast":    desMacro("des", 10, 0.1, 0.02),
	"des-slower":  desMacro("des", 10, 0.05, 0.03),
	"des-slow":    desMacro("des", 10, 0.03, 0.04),
	"sdes-simple": desMacro("sdes", 10, 0.1, 0.5),
	"sdes-fast":   desMacro("sdes", 10, 0.1, 0.02),
	"sdes-slower": desMacro("sdes", 10, 0.05, 0.03),
	"sdes-slow":   desMacro("sdes", 10, 0.03, 0.04),
	"des-epic-signal": func(in *interp, tok Token) error {
		if err := in.need(tok, 7, "line training:Int alpha beta maxPercent minPercent noise"); err != nil {
			return err
		}
		return in.callList(desEpicSignal, tok)
	},
}

// maxWindow bounds window sizes in steps.
const maxWindow = 100_000

func windowWord(op string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 2, "TimeSeriesExpr n:Int"); err != nil {
			return err
		}
		n, ok := asInt(in.peek(0))
		if !ok || n < 1 || n > maxWindow {
			return errAt(tok, "expects a window of 1 to %d steps, got %s", maxWindow, describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 2, in.peek(1), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &statefulExpr{op: op, expr: t, n: n}, nil
		})
	}
}

func desWord(op string) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 4, "TimeSeriesExpr training:Int alpha:Double beta:Double"); err != nil {
			return err
		}
		n, nok := asInt(in.peek(2))
		a, aok := asFloat(in.peek(1))
		b, bok := asFloat(in.peek(0))
		if !nok || !aok || !bok || n < 1 || n > maxWindow {
			return errAt(tok, "expects training steps, alpha and beta, got %s, %s and %s", describe(in.peek(2).v), describe(in.peek(1).v), describe(in.peek(0).v))
		}
		return mapExpr(in, tok, 4, in.peek(3), func(t TimeSeriesExpr) (TimeSeriesExpr, error) {
			return &statefulExpr{op: op, expr: t, n: n, alpha: a, beta: b}, nil
		})
	}
}

func desMacro(op string, n int, a, b float64) word {
	return func(in *interp, tok Token) error {
		if err := in.need(tok, 1, "TimeSeriesExpr"); err != nil {
			return err
		}
		for _, s := range []string{strconv.Itoa(n), formatFloat(a), formatFloat(b)} {
			if err := in.push(entry{s, tok}); err != nil {
				return err
			}
		}
		return desWord(op)(in, tok)
	}
}

// desEpicSignal is Atlas's :des-epic-signal macro: 1 where the line
// leaves both the noise band and the percent band around its DES
// prediction, 0 elsewhere.
var desEpicSignal = func() []any {
	words := []string{
		"noise", ":sset", "minPercent", ":sset", "maxPercent", ":sset",
		"beta", ":sset", "alpha", ":sset", "trainingSize", ":sset", "line", ":sset",
		"pred", "line", ":get", "trainingSize", ":get", "alpha", ":get", "beta", ":get", ":des", ":set",
		"minPredNoiseBound", "pred", ":get", "noise", ":get", ":sub", ":set",
		"minPredPercentBound", "pred", ":get", "1.0", ":const", "minPercent", ":get", ":const", ":fsub", ":fmul", ":set",
		"maxPredNoiseBound", "pred", ":get", "noise", ":get", ":add", ":set",
		"maxPredPercentBound", "pred", ":get", "2.0", ":const", "1.0", ":const", "maxPercent", ":get", ":const", ":fsub", ":fsub", ":fmul", ":set",
		"line", ":get", "minPredNoiseBound", ":get", ":lt", "line", ":get", "minPredPercentBound", ":get", ":lt", ":and",
		"line", ":get", "maxPredNoiseBound", ":get", ":gt", "line", ":get", "maxPredPercentBound", ":get", ":gt", ":and",
		":or",
	}
	out := make([]any, len(words))
	for i, w := range words {
		out[i] = w
	}
	return out
}()
