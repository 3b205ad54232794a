package stacklang_test

// Equivalence of the stack language and PromQL: each pair is a stack
// expression and the PromQL expression that means the same thing. Both
// run on one query.Engine over one querytest.MemQuerier, over the same
// steps, and must return the same series (label sets, with the Atlas
// "name" tag read as __name__) and the same values within 1e-9 relative.
//
// How the two languages line up, and what the pairs rely on:
//
//   - The stack language's value at step t consolidates the samples in
//     (t-step, t]. PromQL's selector takes the newest sample in
//     [t-5m, t]. On data with one sample per step on the step grid the
//     two agree; on gappy or denser data the twin of a stack query is a
//     range function over one step (last_over_time, avg_over_time,
//     max_over_time, ... of x[1m]).
//   - Aggregates keep the tags a query fixes with :eq (Atlas does), so
//     name,x,:eq,:sum is sum by (__name__) (x).
//   - PromQL drops __name__ in arithmetic and most functions; the stack
//     language keeps the name tag of the side it keeps. Pairs where that
//     happens say so (dropsName) and compare without __name__.
//   - Where the languages differ on purpose, there is no pair; the cases
//     are listed in doc.go ("Atlas and PromQL") and in
//     TestEquivalenceDeliberateDifferences below, which shows each one.

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/querytest"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

// The evaluation grid: 90 one-minute steps from 60m, over data from 0 to
// 3h, so that offsets and rolling windows have history.
const (
	eqStep  = time.Minute
	eqStart = int64(60 * 60_000)
	eqSteps = 90
	eqEnd   = int64(3 * 3600_000)
)

// equivData is the data set of the equivalence pairs. Series are on the
// one-minute grid without gaps unless their name says otherwise.
func equivData() []model.TimeSeries {
	var out []model.TimeSeries
	add := func(every int64, f func(t int64) float64, kv ...string) {
		ts := model.TimeSeries{Labels: model.FromStrings(kv...)}
		for t := int64(0); t <= eqEnd; t += every {
			v := f(t)
			if math.IsNaN(v) {
				continue // a gap
			}
			ts.Samples = append(ts.Samples, model.Sample{T: t, V: v})
		}
		out = append(out, ts)
	}
	minutes := func(t int64) float64 { return float64(t) / 60_000 }
	// Requests by app, code and (for two apps) zone: positive, varied.
	for ai, app := range []string{"api", "web", "db"} {
		for ci, code := range []string{"200", "404", "500", "503"} {
			kv := []string{"__name__", "http_requests", "app", app, "code", code}
			if app != "db" {
				kv = append(kv, "zone", []string{"us-east-1a", "eu-west-1b"}[(ai+ci)%2])
			}
			base := float64(100*(ai+1)) / float64(ci+1)
			add(60_000, func(t int64) float64 {
				return base + 10*math.Sin(minutes(t)/7+float64(ai*4+ci)) + float64(ci)*0.25
			}, kv...)
		}
	}
	// CPU by app and instance, in [0, 100], lines that cross; one instance
	// dips below zero after a (broken) counter rollover, for :abs and :sqrt.
	for ai, app := range []string{"api", "web", "db"} {
		for inst := range 2 {
			add(60_000, func(t int64) float64 {
				v := 50 + 45*math.Sin(minutes(t)/(11+float64(inst))+float64(ai))
				if app == "db" && inst == 1 {
					v -= 60
				}
				return v
			}, "__name__", "cpu_usage", "app", app, "instance", fmt.Sprintf("i-%d", inst))
		}
	}
	// Latency by service: lines that never cross (each within its band),
	// so a per-step top k is the same k at every step.
	for si, svc := range []string{"a", "b", "c", "d", "e"} {
		add(60_000, func(t int64) float64 {
			return float64(100*(si+1)) + 40*math.Sin(minutes(t)/5+float64(si))
		}, "__name__", "latency_ms", "service", svc)
	}
	// Errors by app: the numerator of ratios, never zero denominators.
	for ai, app := range []string{"api", "web", "db"} {
		add(60_000, func(t int64) float64 {
			return 1 + float64(ai) + 0.5*math.Cos(minutes(t)/3)
		}, "__name__", "http_errors", "app", app)
	}
	// A metric in which some series lack the key that others are grouped by.
	for i, kv := range [][]string{{"team", "red"}, {"team", "blue"}, {"team", "red"}, {"other", "x"}} {
		add(60_000, func(t int64) float64 { return float64(i+1) * (2 + math.Sin(minutes(t)/9)) },
			append([]string{"__name__", "jobs_running", "host", fmt.Sprintf("h%d", i)}, kv...)...)
	}
	// Samples every 15 s: four per step, for consolidation.
	for i, app := range []string{"api", "web"} {
		add(15_000, func(t int64) float64 {
			return 20 + float64(i)*5 + 8*math.Sin(float64(t)/37_000)
		}, "__name__", "fine_requests", "app", app)
	}
	// Two gappy series: each misses different minutes.
	for i, name := range []string{"gappy_a", "gappy_b"} {
		add(60_000, func(t int64) float64 {
			m := int64(minutes(t))
			if (i == 0 && m%7 == 3) || (i == 1 && (m%5 == 1 || m%11 == 0)) {
				return math.NaN()
			}
			return 3 + float64(i) + math.Sin(minutes(t)/4)
		}, "__name__", name, "app", "api")
	}
	return out
}

// equivPair is one stack expression and its PromQL twin.
type equivPair struct {
	stack, promql string
	// dropsName: PromQL drops __name__ where the stack language keeps the
	// name tag (arithmetic, most functions); compare without it.
	dropsName bool
}

// equivPairs are grouped by what they cover.
var equivPairs = []equivPair{
	// Selection: :all is every selected series, as a PromQL selector.
	{stack: "name,http_requests,:eq,:all", promql: `http_requests`},
	{stack: "name,http_requests,:eq,app,api,:eq,:and,:all", promql: `http_requests{app="api"}`},
	{stack: "name,http_requests,:eq,code,5,:re,:and,:all", promql: `http_requests{code=~"5.*"}`},
	{stack: "name,http_requests,:eq,zone,US-EAST,:reic,:and,:all", promql: `http_requests{zone=~"(?i)us-east.*"}`},
	{stack: "name,http_requests,:eq,app,(,web,db,),:in,:and,:all", promql: `http_requests{app=~"web|db"}`},
	{stack: "name,http_requests,:eq,zone,:has,:and,:all", promql: `http_requests{zone!=""}`},
	{stack: "name,http_requests,:eq,code,200,:eq,:not,:and,:all", promql: `http_requests{code!="200"}`},
	{stack: "name,http_requests,:eq,code,5,:re,:not,:and,:all", promql: `http_requests{code!~"5.*"}`},
	{stack: "name,http_requests,:eq,zone,west,:contains,:and,:all", promql: `http_requests{zone=~".*west.*"}`},
	{stack: "name,http_requests,:eq,zone,eu-,:starts,:and,:all", promql: `http_requests{zone=~"eu-.*"}`},
	{stack: "name,http_requests,:eq,zone,-1a,:ends,:and,:all", promql: `http_requests{zone=~".*-1a"}`},
	// Tag comparisons are lexicographic; on three-digit codes they are
	// these character classes.
	{stack: "name,http_requests,:eq,code,500,:ge,:and,:all", promql: `http_requests{code=~"[5-9][0-9][0-9]"}`},
	{stack: "name,http_requests,:eq,code,404,:lt,:and,:all", promql: `http_requests{code=~"[0-3][0-9][0-9]|40[0-3]"}`},
	{stack: "name,http_requests,:eq,code,404,:gt,app,db,:le,:and,:and,:all", promql: `http_requests{code=~"40[5-9]|4[1-9][0-9]|[5-9][0-9][0-9]", app=~"[a-c].*|d|da.*|db"}`},
	{stack: "name,latency_ms,:eq,name,http_errors,:eq,:or,:all", promql: `latency_ms or http_errors`},
	{stack: "name,latency_ms,:eq,name,http_errors,:eq,:or,service,a,:eq,app,db,:eq,:or,:and,:all",
		promql: `{__name__=~"latency_ms|http_errors", service="a"} or {__name__=~"latency_ms|http_errors", app="db"}`},

	// Aggregations keep the tags fixed by :eq.
	{stack: "name,http_requests,:eq,:sum", promql: `sum by (__name__) (http_requests)`},
	{stack: "name,http_requests,:eq,:count", promql: `count by (__name__) (http_requests)`},
	{stack: "name,http_requests,:eq,:min", promql: `min by (__name__) (http_requests)`},
	{stack: "name,http_requests,:eq,:max", promql: `max by (__name__) (http_requests)`},
	{stack: "name,http_requests,:eq,:avg", promql: `avg by (__name__) (http_requests)`},
	{stack: "name,http_requests,:eq,app,web,:eq,:and,:sum", promql: `sum by (__name__, app) (http_requests{app="web"})`},
	{stack: "name,http_requests,:eq,:sum,(,app,),:by", promql: `sum by (__name__, app) (http_requests)`},
	{stack: "name,http_requests,:eq,:count,(,zone,),:by", promql: `count by (__name__, zone) (http_requests{zone!=""})`},
	{stack: "name,http_requests,:eq,:min,(,app,code,),:by", promql: `min by (__name__, app, code) (http_requests)`},
	{stack: "name,cpu_usage,:eq,:max,(,instance,),:by", promql: `max by (__name__, instance) (cpu_usage)`},
	{stack: "name,cpu_usage,:eq,:avg,(,app,),:by", promql: `avg by (__name__, app) (cpu_usage)`},
	// :by leaves out the series without the key; PromQL groups them under "".
	{stack: "name,jobs_running,:eq,:sum,(,team,),:by", promql: `sum by (__name__, team) (jobs_running{team!=""})`},
	{stack: "name,http_.*,:re,:sum,(,name,),:by", promql: `sum by (__name__) ({__name__=~"http_.*"})`},
	// A second-level aggregate of grouped lines.
	{stack: "name,cpu_usage,:eq,:sum,(,app,),:by,:max", promql: `max by (__name__) (sum by (__name__, app) (cpu_usage))`},
	{stack: "name,cpu_usage,:eq,:max,(,app,instance,),:by,:min,(,instance,),:by", promql: `min by (__name__, instance) (max by (__name__, app, instance) (cpu_usage))`},
	{stack: "name,http_requests,:eq,:sum,(,app,),:by,:stddev", promql: `stddev by (__name__) (sum by (__name__, app) (http_requests))`},
	{stack: "name,http_requests,:eq,:sum,(,app,),:by,:count", promql: `count by (__name__) (sum by (__name__, app) (http_requests))`},

	// Math with constants.
	{stack: "name,http_requests,:eq,:sum,10,:add", promql: `sum(http_requests) + 10`, dropsName: true},
	{stack: "name,http_requests,:eq,:sum,(,app,),:by,10,:sub", promql: `sum by (app) (http_requests) - 10`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:max,(,app,),:by,0.01,:mul", promql: `max by (app) (cpu_usage) * 0.01`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,4,:div", promql: `cpu_usage / 4`, dropsName: true},
	{stack: "2,name,http_errors,:eq,:all,:div", promql: `2 / http_errors`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,:abs", promql: `abs(cpu_usage)`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,:neg", promql: `-cpu_usage`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,:sqrt", promql: `sqrt(cpu_usage)`, dropsName: true},
	{stack: "name,http_errors,:eq,:all,2,:pow", promql: `http_errors ^ 2`, dropsName: true},
	{stack: "2,name,http_errors,:eq,:sum,:pow", promql: `2 ^ sum(http_errors)`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,20,:clamp-min", promql: `clamp_min(cpu_usage, 20)`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,80,:clamp-max", promql: `clamp_max(cpu_usage, 80)`, dropsName: true},
	{stack: "name,http_requests,:eq,:sum,:per-step", promql: `sum(http_requests) * 60`, dropsName: true},

	// Math between expressions: joined on the :by keys.
	{stack: "name,http_errors,:eq,:sum,name,http_requests,:eq,:sum,:div", promql: `sum(http_errors) / sum(http_requests)`, dropsName: true},
	{stack: "name,http_errors,:eq,:sum,(,app,),:by,name,http_requests,:eq,:sum,(,app,),:by,:div",
		promql: `sum by (app) (http_errors) / sum by (app) (http_requests)`, dropsName: true},
	{stack: "name,http_requests,:eq,:sum,(,app,code,),:by,name,http_errors,:eq,:sum,(,app,),:by,:mul",
		promql: `sum by (app, code) (http_requests) * on (app) group_left sum by (app) (http_errors)`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:sum,(,app,),:by,name,http_errors,:eq,:max,:sub",
		promql: `sum by (app) (cpu_usage) - on () group_left max(http_errors)`, dropsName: true},
	{stack: "name,http_requests,:eq,:sum,(,app,),:by,:pct",
		promql: `sum by (app) (http_requests) / on () group_left sum(http_requests) * 100`, dropsName: true},
	{stack: "name,http_requests,:eq,:max,name,http_requests,:eq,:min,:sub,name,http_requests,:eq,:avg,:div",
		promql: `(max(http_requests) - min(http_requests)) / avg(http_requests)`, dropsName: true},

	// Comparisons are 1 or 0, as PromQL's bool modifier.
	{stack: "name,cpu_usage,:eq,:all,50,:gt", promql: `cpu_usage > bool 50`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,50,:ge", promql: `cpu_usage >= bool 50`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,50,:lt", promql: `cpu_usage < bool 50`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:max,(,app,),:by,name,cpu_usage,:eq,:avg,:le",
		promql: `max by (app) (cpu_usage) <= bool on () group_left avg(cpu_usage)`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,30,:gt,name,cpu_usage,:eq,:all,70,:lt,:and",
		promql: `(cpu_usage > bool 30) * (cpu_usage < bool 70)`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,20,:lt,name,cpu_usage,:eq,:all,80,:gt,:or",
		promql: `clamp_max((cpu_usage < bool 20) + (cpu_usage > bool 80), 1)`, dropsName: true},

	// Missing data: :fadd is PromQL's +, and :add (a missing side counts
	// as 0 unless both are missing) is + falling back to either side.
	{stack: "name,gappy_a,:eq,:sum,name,gappy_b,:eq,:sum,:fadd",
		promql: `sum(last_over_time(gappy_a[1m])) + sum(last_over_time(gappy_b[1m]))`, dropsName: true},
	{stack: "name,gappy_a,:eq,:sum,name,gappy_b,:eq,:sum,:add",
		promql:    `(sum(last_over_time(gappy_a[1m])) + sum(last_over_time(gappy_b[1m]))) or sum(last_over_time(gappy_a[1m])) or sum(last_over_time(gappy_b[1m]))`,
		dropsName: true},
	{stack: "name,gappy_a,:eq,:all", promql: `last_over_time(gappy_a[1m])`},

	// Offset.
	{stack: "name,http_requests,:eq,:sum,(,app,),:by,1h,:offset", promql: `sum by (__name__, app) (http_requests offset 1h)`},
	{stack: "name,cpu_usage,:eq,:all,37m,:offset", promql: `cpu_usage offset 37m`},

	// Consolidation of four samples per step: avg for :sum, max for :max,
	// and the :cf-* choices.
	{stack: "name,fine_requests,:eq,:sum", promql: `sum(avg_over_time(fine_requests[1m]))`, dropsName: true},
	{stack: "name,fine_requests,:eq,:max,(,app,),:by", promql: `max by (app) (max_over_time(fine_requests[1m]))`, dropsName: true},
	{stack: "name,fine_requests,:eq,:min", promql: `min(min_over_time(fine_requests[1m]))`, dropsName: true},
	{stack: "name,fine_requests,:eq,:sum,:cf-max", promql: `sum(max_over_time(fine_requests[1m]))`, dropsName: true},
	{stack: "name,fine_requests,:eq,:sum,(,app,),:by,:cf-sum", promql: `sum by (app) (sum_over_time(fine_requests[1m]))`, dropsName: true},
	{stack: "name,fine_requests,:eq,:max,:cf-min", promql: `max(min_over_time(fine_requests[1m]))`, dropsName: true},

	// Top and bottom k: by a statistic of the whole graph in Atlas, per
	// step in PromQL. On lines that never cross they pick the same lines;
	// on any lines, @ end() over a subquery spanning the graph is the twin.
	{stack: "name,latency_ms,:eq,(,service,),:by,max,2,:topk", promql: `topk(2, sum by (__name__, service) (latency_ms))`},
	{stack: "name,latency_ms,:eq,(,service,),:by,min,3,:bottomk", promql: `bottomk(3, sum by (__name__, service) (latency_ms))`},
	{stack: "name,cpu_usage,:eq,(,app,),:by,max,1,:topk",
		promql: `sum by (__name__, app) (cpu_usage) and on (app) topk(1, max_over_time(sum by (app) (cpu_usage)[90m:1m] @ end()))`},

	// Rolling windows of n steps are *_over_time over n minutes.
	{stack: "name,cpu_usage,:eq,:all,5,:rolling-sum", promql: `sum_over_time(cpu_usage[5m])`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,5,:rolling-min", promql: `min_over_time(cpu_usage[5m])`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,7,:rolling-max", promql: `max_over_time(cpu_usage[7m])`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,10,1,:rolling-mean", promql: `avg_over_time(cpu_usage[10m])`, dropsName: true},
	{stack: "name,gappy_b,:eq,:sum,4,:rolling-sum", promql: `sum(sum_over_time(gappy_b[4m]))`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:all,50,:gt,5,:rolling-count", promql: `sum_over_time((cpu_usage > bool 50)[5m:1m])`, dropsName: true},
	{stack: "name,cpu_usage,:eq,:sum,(,app,),:by,3,:delay", promql: `sum by (__name__, app) (cpu_usage offset 3m)`},
	{stack: "name,cpu_usage,:eq,:all,:derivative", promql: `cpu_usage - cpu_usage offset 1m`, dropsName: true},
}

// equivEngines returns the PromQL engine and the stack-language engine
// over the equivalence data.
func equivEngines() (*query.Engine, *stacklang.Engine) {
	ng := query.NewEngine(querytest.NewMemQuerier(equivData()...), query.DefaultEngineOptions())
	return ng, stacklang.NewEngine(ng)
}

// stackLines evaluates a stack expression into label string -> values.
func stackLines(t *testing.T, e *stacklang.Engine, expr string, dropName bool) map[string][]float64 {
	t.Helper()
	p, err := stacklang.Parse(expr)
	if err != nil {
		t.Fatalf("parse %q: %v", expr, err)
	}
	r, err := e.Eval(context.Background(), p, eqStart, eqStep.Milliseconds(), eqSteps)
	if err != nil {
		t.Fatalf("eval %q: %v", expr, err)
	}
	out := map[string][]float64{}
	for _, s := range r.Series {
		ls := map[string]string{}
		for k, v := range s.Tags {
			if k == "name" {
				k = model.MetricName
			}
			ls[k] = v
		}
		if dropName {
			delete(ls, model.MetricName)
		}
		k := querytest.LabelsString(ls)
		if _, dup := out[k]; dup {
			t.Fatalf("%q: two lines with labels %s", expr, k)
		}
		out[k] = s.Values
	}
	return out
}

// promLines evaluates a PromQL range query on the same grid; steps without
// a point are NaN.
func promLines(t *testing.T, ng *query.Engine, expr string) map[string][]float64 {
	t.Helper()
	end := eqStart + int64(eqSteps-1)*eqStep.Milliseconds()
	r, err := ng.Range(context.Background(), expr, time.UnixMilli(eqStart), time.UnixMilli(end), eqStep)
	if err != nil {
		t.Fatalf("promql %q: %v", expr, err)
	}
	m, ok := r.Value.(query.Matrix)
	if !ok {
		t.Fatalf("promql %q: result %T, want a matrix", expr, r.Value)
	}
	out := map[string][]float64{}
	for _, s := range m {
		vals := make([]float64, eqSteps)
		for i := range vals {
			vals[i] = math.NaN()
		}
		for _, p := range s.Floats {
			vals[(p.T-eqStart)/eqStep.Milliseconds()] = p.F
		}
		ls := map[string]string{}
		for _, l := range s.Metric {
			ls[l.Name] = l.Value
		}
		out[querytest.LabelsString(ls)] = vals
	}
	return out
}

// diffLines returns what differs between got (stack) and want (PromQL).
func diffLines(got, want map[string][]float64) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		if !ok {
			diffs = append(diffs, "missing "+k)
			continue
		}
		for i := range want[k] {
			if !querytest.FloatsMatch(g[i], want[k][i]) {
				diffs = append(diffs, fmt.Sprintf("%s step %d: got %v, want %v", k, i, g[i], want[k][i]))
				break
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "unexpected "+k)
		}
	}
	return diffs
}

func TestEquivalence(t *testing.T) {
	ng, e := equivEngines()
	if len(equivPairs) < 40 {
		t.Fatalf("%d pairs; the issue asks for at least 40", len(equivPairs))
	}
	seen := map[string]bool{}
	for _, p := range equivPairs {
		t.Run(p.stack, func(t *testing.T) {
			if seen[p.stack] {
				t.Fatalf("duplicate pair")
			}
			seen[p.stack] = true
			got := stackLines(t, e, p.stack, p.dropsName)
			want := promLines(t, ng, p.promql)
			if len(want) == 0 {
				t.Fatalf("PromQL %s returns nothing: the pair proves nothing", p.promql)
			}
			// Every pair must cover several steps with values.
			for k, vs := range want {
				if n := len(vs) - countNaN(vs); n < eqSteps/2 {
					t.Fatalf("PromQL series %s has %d values of %d steps", k, n, eqSteps)
				}
			}
			if d := diffLines(got, want); len(d) > 0 {
				t.Errorf("stack %s\npromql %s\n%s", p.stack, p.promql, strings.Join(d, "\n"))
			}
		})
	}
}

func countNaN(vs []float64) int {
	n := 0
	for _, v := range vs {
		if math.IsNaN(v) {
			n++
		}
	}
	return n
}

// TestEquivalenceDeliberateDifferences shows, on the same data, each place
// where the stack language means something else than the nearest PromQL,
// as Atlas does; doc.go lists them. Each case checks the difference, so
// that a change to either side that removes it is noticed.
func TestEquivalenceDeliberateDifferences(t *testing.T) {
	ng, e := equivEngines()
	for _, c := range []struct {
		name, stack, promql string
		dropsName           bool
		check               func(got, want map[string][]float64) error
	}{
		{
			name:  "NaN-aware :add fills a missing side with 0; + has no value",
			stack: "name,gappy_a,:eq,:sum,name,gappy_b,:eq,:sum,:add", promql: `sum(last_over_time(gappy_a[1m])) + sum(last_over_time(gappy_b[1m]))`,
			dropsName: true,
			check: func(got, want map[string][]float64) error {
				g, w := got["{}"], want["{}"]
				for i := range w {
					if math.IsNaN(w[i]) && !math.IsNaN(g[i]) {
						return nil
					}
				}
				return fmt.Errorf("no step where :add has a value and + has none: %v / %v", g, w)
			},
		},
		{
			name:  "a step without samples is NaN; a selector looks back 5m",
			stack: "name,gappy_a,:eq,:all", promql: `gappy_a`,
			check: func(got, want map[string][]float64) error {
				k := `{__name__="gappy_a", app="api"}`
				if countNaN(got[k]) == 0 || countNaN(want[k]) != 0 {
					return fmt.Errorf("stack NaNs %d, PromQL NaNs %d", countNaN(got[k]), countNaN(want[k]))
				}
				return nil
			},
		},
		{
			name:  "an aggregate of nothing is a NO DATA line; PromQL returns no series",
			stack: "name,no_such_metric,:eq,:sum", promql: `sum(no_such_metric)`,
			check: func(got, want map[string][]float64) error {
				if _, ok := got[`{__name__="NO_DATA"}`]; !ok || len(want) != 0 {
					return fmt.Errorf("stack %v, PromQL %v", slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(want)))
				}
				return nil
			},
		},
		{
			name:  ":div of 0 by 0 is 0 (no activity), PromQL's is NaN",
			stack: "0,0,:div", promql: `vector(0) / 0`, dropsName: true,
			check: func(got, want map[string][]float64) error {
				for _, g := range got {
					if g[0] == 0 && math.IsNaN(want["{}"][0]) {
						return nil
					}
				}
				return fmt.Errorf("stack %v, PromQL %v", got, want)
			},
		},
		{
			name:  "aggregates skip NaN samples; PromQL's sum is NaN",
			stack: "name,nan_metric,:eq,:sum", promql: `sum(nan_metric)`, dropsName: true,
			check: func(got, want map[string][]float64) error {
				for _, g := range got {
					if !math.IsNaN(g[0]) && math.IsNaN(want["{}"][0]) {
						return nil
					}
				}
				return fmt.Errorf("stack %v, PromQL %v", got, want)
			},
		},
		{
			name:  "comparisons with a missing value are 0; PromQL's bool has no value",
			stack: "name,gappy_a,:eq,:sum,1,:gt", promql: `sum(last_over_time(gappy_a[1m])) > bool 1`, dropsName: true,
			check: func(got, want map[string][]float64) error {
				if countNaN(got["{}"]) == 0 && countNaN(want["{}"]) > 0 {
					return nil
				}
				return fmt.Errorf("stack NaNs %d, PromQL NaNs %d", countNaN(got["{}"]), countNaN(want["{}"]))
			},
		},
		{
			name:  ":rolling-count counts non-zero values; count_over_time counts samples",
			stack: "name,cpu_usage,:eq,:all,50,:gt,5,:rolling-count", promql: `count_over_time((cpu_usage > bool 50)[5m:1m])`, dropsName: true,
			check: func(got, want map[string][]float64) error {
				for k, w := range want {
					for i := range w {
						if got[k][i] < w[i] {
							return nil
						}
					}
				}
				return fmt.Errorf("no step where the counts differ")
			},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			ng := ng
			e := e
			if strings.Contains(c.stack, "nan_metric") {
				data := append(equivData(),
					model.TimeSeries{Labels: model.FromStrings("__name__", "nan_metric", "i", "1"), Samples: []model.Sample{{T: eqStart, V: math.NaN()}}},
					model.TimeSeries{Labels: model.FromStrings("__name__", "nan_metric", "i", "2"), Samples: []model.Sample{{T: eqStart, V: 5}}})
				ng = query.NewEngine(querytest.NewMemQuerier(data...), query.DefaultEngineOptions())
				e = stacklang.NewEngine(ng)
			}
			got := stackLines(t, e, c.stack, c.dropsName)
			want := promLines(t, ng, c.promql)
			if err := c.check(got, want); err != nil {
				t.Error(err)
			}
		})
	}
}
