package query

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query/querytest"
)

// newMemQuerier returns an empty in-memory Querier for tests.
func newMemQuerier() *querytest.MemQuerier { return querytest.NewMemQuerier() }

// TestScripts runs the semantic tests in testdata/*.test. The format is a
// subset of Prometheus' promqltest:
//
//	load <interval>
//	  <series> <values>          e.g. http_total{code="200"} 0+10x100 _ stale
//	clear
//	eval instant at <time> <expr>
//	  <labels> <value>           one line per expected sample; a bare number for a scalar
//	eval range from <t> to <t> step <d> <expr>
//	  <labels> <values>          values per step, _ for no value
//	eval_ordered instant at <time> <expr>   the order of samples must match
//	eval_fail instant at <time> <expr>
//	  [error substring]
func TestScripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.test")
	if len(files) == 0 {
		t.Fatal("no testdata/*.test files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			runScript(t, string(data))
		})
	}
}

var (
	evalInstantRe = regexp.MustCompile(`^eval(_ordered|_fail)? instant at (\S+) (.+)$`)
	evalRangeRe   = regexp.MustCompile(`^eval(_ordered|_fail)? range from (\S+) to (\S+) step (\S+) (.+)$`)
	testParser    = parser.NewParser(parser.Options{})
)

func parseTestDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := parsePromDuration(s)
	if err != nil {
		t.Fatalf("bad duration %q: %v", s, err)
	}
	return d
}

func runScript(t *testing.T, script string) {
	lines := strings.Split(script, "\n")
	q := newMemQuerier()
	ng := NewEngine(q, DefaultEngineOptions())
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// The block is the command's indented lines.
		var block []string
		for i+1 < len(lines) && strings.HasPrefix(lines[i+1], " ") && strings.TrimSpace(lines[i+1]) != "" {
			i++
			block = append(block, strings.TrimSpace(lines[i]))
		}
		lineNo := i + 1 - len(block)
		switch {
		case line == "clear":
			q = newMemQuerier()
			ng = NewEngine(q, DefaultEngineOptions())
		case strings.HasPrefix(line, "load "):
			interval := parseTestDuration(t, strings.TrimPrefix(line, "load "))
			for _, b := range block {
				ls, vals, err := testParser.ParseSeriesDesc(b)
				if err != nil {
					t.Fatalf("line %d: %v", lineNo, err)
				}
				var samples []model.Sample
				for j, v := range vals {
					if v.Omitted {
						continue
					}
					if v.Histogram != nil {
						t.Fatalf("line %d: %v", lineNo, ErrNativeHistograms)
					}
					samples = append(samples, model.Sample{T: int64(j) * interval.Milliseconds(), V: v.Value})
				}
				q.Add(fromPromLabels(ls), samples...)
			}
		case strings.HasPrefix(line, "eval"):
			runEval(t, ng, lineNo, line, block)
		default:
			t.Fatalf("line %d: unknown command %q", lineNo, line)
		}
	}
}

func runEval(t *testing.T, ng *Engine, lineNo int, line string, block []string) {
	t.Helper()
	var (
		res     *Result
		err     error
		mode    string
		expr    string
		start   time.Time
		step    time.Duration
		isRange bool
	)
	if m := evalInstantRe.FindStringSubmatch(line); m != nil {
		mode, expr = m[1], m[3]
		start = time.UnixMilli(parseTestDuration(t, m[2]).Milliseconds())
		res, err = ng.Instant(context.Background(), expr, start)
	} else if m := evalRangeRe.FindStringSubmatch(line); m != nil {
		mode, expr, isRange = m[1], m[5], true
		start = time.UnixMilli(parseTestDuration(t, m[2]).Milliseconds())
		end := time.UnixMilli(parseTestDuration(t, m[3]).Milliseconds())
		step = parseTestDuration(t, m[4])
		res, err = ng.Range(context.Background(), expr, start, end, step)
	} else {
		t.Fatalf("line %d: malformed eval %q", lineNo, line)
	}
	where := fmt.Sprintf("line %d: %s", lineNo, expr)
	if mode == "_fail" {
		if err == nil {
			t.Errorf("%s: want an error, got %v", where, res.Value)
		} else if len(block) > 0 && !strings.Contains(err.Error(), block[0]) {
			t.Errorf("%s: error %q does not contain %q", where, err, block[0])
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	// Expected samples as labels -> values per step.
	type exp struct {
		key  string
		vals []parser.SequenceValue
	}
	var want []exp
	for _, b := range block {
		if f, err := strconv.ParseFloat(b, 64); err == nil {
			want = append(want, exp{key: "scalar", vals: []parser.SequenceValue{{Value: f}}})
			continue
		}
		ls, vals, err := testParser.ParseSeriesDesc(b)
		if err != nil {
			t.Fatalf("%s: expected line %q: %v", where, b, err)
		}
		want = append(want, exp{key: fromPromLabels(ls).String(), vals: vals})
	}
	var got []exp
	switch v := res.Value.(type) {
	case Scalar:
		got = append(got, exp{key: "scalar", vals: []parser.SequenceValue{{Value: v.V}}})
	case Vector:
		for _, s := range v {
			got = append(got, exp{key: s.Metric.String(), vals: []parser.SequenceValue{{Value: s.F}}})
		}
	case Matrix:
		for _, s := range v {
			var vals []parser.SequenceValue
			if isRange {
				j := 0
				for ts := start.UnixMilli(); j < len(s.Floats); ts += step.Milliseconds() {
					if s.Floats[j].T == ts {
						vals = append(vals, parser.SequenceValue{Value: s.Floats[j].F})
						j++
					} else {
						vals = append(vals, parser.SequenceValue{Omitted: true})
					}
				}
			} else {
				for _, p := range s.Floats {
					vals = append(vals, parser.SequenceValue{Value: p.F})
				}
			}
			got = append(got, exp{key: s.Metric.String(), vals: vals})
		}
	default:
		t.Fatalf("%s: unexpected result %T", where, res.Value)
	}
	if mode != "_ordered" {
		slices.SortFunc(got, func(a, b exp) int { return strings.Compare(a.key, b.key) })
		slices.SortFunc(want, func(a, b exp) int { return strings.Compare(a.key, b.key) })
	}
	format := func(es []exp) string {
		var sb strings.Builder
		for _, e := range es {
			sb.WriteString("\n  " + e.key)
			for _, v := range e.vals {
				if v.Omitted {
					sb.WriteString(" _")
				} else {
					sb.WriteString(" " + FormatFloat(v.Value))
				}
			}
		}
		return sb.String()
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], want[i]
		// Trailing omitted values in the expectation are not in the result.
		for len(w.vals) > 0 && w.vals[len(w.vals)-1].Omitted {
			w.vals = w.vals[:len(w.vals)-1]
		}
		if g.key != w.key || len(g.vals) != len(w.vals) {
			ok = false
			break
		}
		for j := range g.vals {
			if g.vals[j].Omitted != w.vals[j].Omitted || (!g.vals[j].Omitted && !floatsMatch(g.vals[j].Value, w.vals[j].Value)) {
				ok = false
			}
		}
	}
	if !ok {
		t.Errorf("%s:\ngot:%s\nwant:%s", where, format(got), format(want))
	}
}

// floatsMatch compares with a relative tolerance of 1e-9; NaN matches NaN.
func floatsMatch(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}
