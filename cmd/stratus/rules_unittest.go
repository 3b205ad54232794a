package main

// The runner of `stratus rules test`: rule unit tests in the file format of
// `promtool test rules`, evaluated by Stratus's own rule evaluator
// (alert.Manager and Group.Eval) over Stratus's own store and PromQL
// engine, so that a test that passes here passes against what serve runs.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	commonmodel "github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/stratus-metrics/stratus/alert"
	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/tsdb"
)

// ruleTestFile is a unit-test file, field for field promtool's.
type ruleTestFile struct {
	RuleFiles          []string        `yaml:"rule_files"`
	EvaluationInterval promDuration    `yaml:"evaluation_interval"`
	GroupEvalOrder     []string        `yaml:"group_eval_order"`
	Tests              []ruleTestGroup `yaml:"tests"`
}

// ruleTestGroup is one test: input series and the expectations on them.
type ruleTestGroup struct {
	Name           string            `yaml:"name"` // newer promtool versions; shown in failures
	Interval       promDuration      `yaml:"interval"`
	InputSeries    []inputSeries     `yaml:"input_series"`
	AlertRuleTests []alertRuleTest   `yaml:"alert_rule_test"`
	PromQLTests    []promqlExprTest  `yaml:"promql_expr_test"`
	ExternalLabels map[string]string `yaml:"external_labels"`
	ExternalURL    string            `yaml:"external_url"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertRuleTest struct {
	EvalTime  promDuration `yaml:"eval_time"`
	Alertname string       `yaml:"alertname"`
	ExpAlerts []struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	} `yaml:"exp_alerts"`
}

type promqlExprTest struct {
	Expr       string       `yaml:"expr"`
	EvalTime   promDuration `yaml:"eval_time"`
	ExpSamples []struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	} `yaml:"exp_samples"`
}

// promDuration is a duration in Prometheus's syntax ("1m", "1h30m", "2d").
type promDuration time.Duration

// UnmarshalYAML parses Prometheus's duration syntax.
func (d *promDuration) UnmarshalYAML(n *yaml.Node) error {
	v, err := commonmodel.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: duration %q: %w", n.Line, n.Value, err)
	}
	*d = promDuration(v)
	return nil
}

func (d promDuration) String() string { return commonmodel.Duration(d).String() }

// seriesParser parses input series and expected labels; its options are
// the ones rule files are checked with.
var seriesParser = parser.NewParser(parser.Options{})

// testEpoch is time zero of every test, as in promtool: input sample i is
// at i*interval after it, eval_time counts from it.
var testEpoch = time.Unix(0, 0).UTC()

// runRuleTestFile runs every test of the file and returns one message per
// failed expectation (nil when all passed).
func runRuleTestFile(ctx context.Context, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{unwrapPathError(err).Error()}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var tf ruleTestFile
	if err := dec.Decode(&tf); err != nil && !errors.Is(err, io.EOF) {
		return []string{fmt.Sprintf("parse %s: %v", path, err)}
	}
	if tf.EvaluationInterval == 0 {
		tf.EvaluationInterval = promDuration(time.Minute)
	}
	if tf.EvaluationInterval < 0 {
		return []string{fmt.Sprintf("evaluation_interval %s: must be positive", tf.EvaluationInterval)}
	}
	seen := map[string]bool{}
	for _, g := range tf.GroupEvalOrder {
		if seen[g] {
			return []string{fmt.Sprintf("group_eval_order: group %q is listed twice", g)}
		}
		seen[g] = true
	}
	// Rule files are relative to the test file, as in promtool; each entry
	// may be a glob but must match something, so a typo is not a test
	// that silently evaluates no rules.
	var ruleFiles []string
	for _, rf := range tf.RuleFiles {
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(path), rf)
		}
		m, err := filepath.Glob(rf)
		if err != nil {
			return []string{fmt.Sprintf("rule_files entry %q: %v", rf, err)}
		}
		if len(m) == 0 {
			return []string{fmt.Sprintf("rule_files entry %q matches no file", rf)}
		}
		ruleFiles = append(ruleFiles, rf)
	}
	var problems []string
	for i, tg := range tf.Tests {
		name := fmt.Sprintf("test %d", i+1)
		if tg.Name != "" {
			name += fmt.Sprintf(" (%s)", tg.Name)
		}
		for _, p := range runRuleTestGroup(ctx, &tf, &tg, ruleFiles) {
			problems = append(problems, name+": "+p)
		}
	}
	return problems
}

// runRuleTestGroup runs one test the way promtool does: from time zero to
// the latest eval_time, every evaluation_interval, it adds the input
// samples up to that time, evaluates every group in order (a rule that
// fails to evaluate fails the test), and compares the firing alerts with
// the alert_rule_test entries whose eval_time falls in [t, t+interval).
// The promql_expr_test entries are evaluated at the end, over the input and
// everything the rules wrote.
func runRuleTestGroup(ctx context.Context, tf *ruleTestFile, tg *ruleTestGroup, ruleFiles []string) []string {
	interval := time.Duration(tg.Interval)
	if interval == 0 {
		interval = time.Duration(tf.EvaluationInterval)
	}
	if interval < 0 {
		return []string{fmt.Sprintf("interval %s: must be positive", tg.Interval)}
	}
	input, err := parseInputSeries(tg.InputSeries, interval)
	if err != nil {
		return []string{err.Error()}
	}

	// The store's clock stays at time zero: no window of the test's
	// (1970) data is ever sealed and retention drops nothing, so samples
	// may arrive in any window. Each series is appended in time order.
	now := func() time.Time { return testEpoch }
	opts := tsdb.DefaultOptions()
	opts.Now = now
	opts.MaintenanceInterval = 24 * time.Hour
	opts.HeadSnapshotInterval = 0
	db, err := tsdb.Open("", opts, nil, nil)
	if err != nil {
		return []string{fmt.Sprintf("open in-memory store: %v", err)}
	}
	defer db.Close()
	engOpts := query.DefaultEngineOptions()
	engOpts.Now = now
	engine := query.NewEngine(db, engOpts)

	m, err := alert.NewManager(alert.Options{
		Query: engineQueryFunc(engine), Appender: db, EvaluationInterval: interval,
		ExternalURL: tg.ExternalURL, ExternalLabels: tg.ExternalLabels, Now: now,
	})
	if err != nil {
		return []string{err.Error()}
	}
	defer m.Close()
	if err := m.Reload(ruleFiles); err != nil {
		return []string{fmt.Sprintf("load rules:\n%v", err)}
	}
	groups, err := orderGroups(m.Groups(), tf.GroupEvalOrder)
	if err != nil {
		return []string{err.Error()}
	}

	alertTests := slices.Clone(tg.AlertRuleTests)
	sort.SliceStable(alertTests, func(i, j int) bool { return alertTests[i].EvalTime < alertTests[j].EvalTime })
	var maxEval time.Duration
	for _, at := range alertTests {
		if at.Alertname == "" {
			return []string{fmt.Sprintf("alert_rule_test at %s: alertname is required", at.EvalTime)}
		}
		maxEval = max(maxEval, time.Duration(at.EvalTime))
	}
	for _, pt := range tg.PromQLTests {
		maxEval = max(maxEval, time.Duration(pt.EvalTime))
	}

	var problems []string
	evalEvery := time.Duration(tf.EvaluationInterval)
	next := 0 // index into alertTests of the next one to check
	for ts := testEpoch; !ts.After(testEpoch.Add(maxEval)); ts = ts.Add(evalEvery) {
		if err := input.appendUntil(db, ts.UnixMilli()); err != nil {
			return append(problems, err.Error())
		}
		var evalErrs []string
		for _, g := range groups {
			g.Eval(ctx, ts)
			for _, err := range g.LastErrors() {
				evalErrs = append(evalErrs, fmt.Sprintf("time %s: %v", promDuration(ts.Sub(testEpoch)), err))
			}
		}
		if len(evalErrs) > 0 {
			// As promtool: a rule that cannot be evaluated ends the test.
			return append(problems, evalErrs...)
		}
		for next < len(alertTests) && ts.Sub(testEpoch) <= time.Duration(alertTests[next].EvalTime) &&
			time.Duration(alertTests[next].EvalTime) < ts.Add(evalEvery).Sub(testEpoch) {
			if p := checkAlerts(m, &alertTests[next]); p != "" {
				problems = append(problems, p)
			}
			next++
		}
	}

	if err := input.appendUntil(db, math.MaxInt64); err != nil {
		return append(problems, err.Error())
	}
	for i := range tg.PromQLTests {
		if p := checkPromQL(ctx, engine, &tg.PromQLTests[i]); p != "" {
			problems = append(problems, p)
		}
	}
	return problems
}

// orderGroups puts the groups named in order first, in that order, then
// the rest in load order. promtool orders by the same list; a name that
// no rule file defines is reported, since it can only be a typo.
func orderGroups(groups []*alert.Group, order []string) ([]*alert.Group, error) {
	if len(order) == 0 {
		return groups, nil
	}
	out := make([]*alert.Group, 0, len(groups))
	for _, name := range order {
		found := false
		for _, g := range groups {
			if g.Name() == name {
				out = append(out, g)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("group_eval_order: no rule file defines a group %q", name)
		}
	}
	for _, g := range groups {
		if !slices.Contains(order, g.Name()) {
			out = append(out, g)
		}
	}
	return out, nil
}

// testInput is the parsed input series and how far each has been appended.
type testInput struct {
	series []model.TimeSeries
	done   []int // per series, samples already appended
}

// parseInputSeries expands promtool's series notation
// (`metric{a="b"}` and `1+1x10 _ stale 5x3`) into samples at
// i*interval from time zero; `_` leaves a gap, `stale` writes a staleness
// marker.
func parseInputSeries(in []inputSeries, interval time.Duration) (*testInput, error) {
	ti := &testInput{}
	for i, s := range in {
		lbls, vals, err := seriesParser.ParseSeriesDesc(s.Series + " " + s.Values)
		if err != nil {
			return nil, fmt.Errorf("input_series %d (%s): %w", i+1, s.Series, err)
		}
		ts := model.TimeSeries{Labels: fromPromLabels(lbls)}
		for j, v := range vals {
			if v.Histogram != nil {
				return nil, fmt.Errorf("input_series %d (%s): native histogram values are not supported; Stratus stores float samples", i+1, s.Series)
			}
			if v.Omitted {
				continue
			}
			ts.Samples = append(ts.Samples, model.Sample{T: int64(j) * interval.Milliseconds(), V: v.Value})
		}
		ti.series = append(ti.series, ts)
	}
	ti.done = make([]int, len(ti.series))
	return ti, nil
}

// appendUntil appends every sample at or before t not yet appended.
// Feeding the store step by step, as the evaluation advances, keeps each
// series in time order even when the rules write to a series the input
// also has.
func (ti *testInput) appendUntil(db *tsdb.DB, t int64) error {
	var batch []model.TimeSeries
	for i, s := range ti.series {
		end := ti.done[i]
		for end < len(s.Samples) && s.Samples[end].T <= t {
			end++
		}
		if end > ti.done[i] {
			batch = append(batch, model.TimeSeries{Labels: s.Labels, Samples: s.Samples[ti.done[i]:end]})
			ti.done[i] = end
		}
	}
	if len(batch) == 0 {
		return nil
	}
	res, err := db.Append(batch)
	if err != nil {
		return fmt.Errorf("store input samples: %w", err)
	}
	if len(res.Rejections) > 0 {
		return fmt.Errorf("store input samples: %d rejected, first: %v", res.Rejected, res.Rejections[0])
	}
	return nil
}

func fromPromLabels(ls labels.Labels) model.Labels {
	out := model.Labels{}
	ls.Range(func(l labels.Label) { out = append(out, model.Label{Name: l.Name, Value: l.Value}) })
	out.Sort()
	return out
}

// checkAlerts compares the firing alerts named at.Alertname with the
// expected ones, as promtool does (labels and annotations exactly; pending
// alerts do not count), and describes the difference.
func checkAlerts(m *alert.Manager, at *alertRuleTest) string {
	var got []diffItem
	for _, a := range m.Alerts() {
		if a.State == alert.StateFiring && a.Labels.Get("alertname") == at.Alertname {
			got = append(got, diffItem{a.Labels.String(), a.Annotations.Map()})
		}
	}
	var want []diffItem
	for _, e := range at.ExpAlerts {
		ls := map[string]string{}
		for k, v := range e.ExpLabels {
			ls[k] = v
		}
		ls["alertname"] = at.Alertname
		ann := map[string]string{}
		for k, v := range e.ExpAnnotations {
			if v != "" { // an empty annotation is absent, as an empty label
				ann[k] = v
			}
		}
		want = append(want, diffItem{model.FromMap(ls).String(), ann})
	}
	d := diff(want, got, func(w, g map[string]string) []string {
		var out []string
		for _, k := range sortedUnion(w, g) {
			if w[k] != g[k] {
				out = append(out, fmt.Sprintf("annotation %s: got %q, want %q", k, g[k], w[k]))
			}
		}
		return out
	}, "expected, not firing", "firing, not expected")
	if d == "" {
		return ""
	}
	return fmt.Sprintf("alertname: %s, time: %s: %d firing, want %d%s", at.Alertname, at.EvalTime, len(got), len(want), d)
}

// diffItem is one alert (key: labels, val: annotations) or one sample
// (key: labels, val: value) in a comparison.
type diffItem struct {
	key string
	val map[string]string
}

// diff pairs want and got by key. Pairs that differ are described by
// explain, line by line under their key; unpaired items are listed under
// the two titles. It returns "" when want and got are equal as multisets.
func diff(want, got []diffItem, explain func(w, g map[string]string) []string, missingTitle, unexpectedTitle string) string {
	used := make([]bool, len(got))
	var changed, missing []string
	var unpairedWant []diffItem
	// Exact matches first, so that a duplicate key pairs with its equal.
	for _, w := range want {
		matched := false
		for i, g := range got {
			if !used[i] && g.key == w.key && len(explain(w.val, g.val)) == 0 {
				used[i], matched = true, true
				break
			}
		}
		if !matched {
			unpairedWant = append(unpairedWant, w)
		}
	}
	for _, w := range unpairedWant {
		paired := false
		for i, g := range got {
			if !used[i] && g.key == w.key {
				used[i], paired = true, true
				changed = append(changed, w.key+":\n      "+strings.Join(explain(w.val, g.val), "\n      "))
				break
			}
		}
		if !paired {
			missing = append(missing, itemString(w))
		}
	}
	var unexpected []string
	for i, g := range got {
		if !used[i] {
			unexpected = append(unexpected, itemString(g))
		}
	}
	if len(changed)+len(missing)+len(unexpected) == 0 {
		return ""
	}
	slices.Sort(changed)
	slices.Sort(missing)
	slices.Sort(unexpected)
	var b strings.Builder
	writeList(&b, "different", changed)
	writeList(&b, missingTitle, missing)
	writeList(&b, unexpectedTitle, unexpected)
	return b.String()
}

func itemString(it diffItem) string {
	if v, ok := it.val[""]; ok && len(it.val) == 1 {
		return it.key + " " + v
	}
	return it.key + " annotations " + model.FromMap(it.val).String()
}

func sortedUnion(a, b map[string]string) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// checkPromQL evaluates one promql_expr_test and describes the difference
// from its expected samples. Values are compared exactly (NaN equals NaN).
func checkPromQL(ctx context.Context, engine *query.Engine, pt *promqlExprTest) string {
	head := fmt.Sprintf("expr: %q, time: %s", pt.Expr, pt.EvalTime)
	res, err := engine.Instant(ctx, pt.Expr, testEpoch.Add(time.Duration(pt.EvalTime)))
	if err != nil {
		return head + ": " + err.Error()
	}
	var got []diffItem
	switch v := res.Value.(type) {
	case query.Vector:
		for _, s := range v {
			got = append(got, sampleItem(s.Metric, s.F))
		}
	case query.Scalar:
		got = append(got, sampleItem(nil, v.V))
	default:
		return fmt.Sprintf("%s: the expression returns a %s; a test can compare an instant vector or a scalar", head, res.Value.Type())
	}
	var want []diffItem
	for _, s := range pt.ExpSamples {
		var ls model.Labels
		if strings.TrimSpace(s.Labels) != "" {
			pl, err := seriesParser.ParseMetric(s.Labels)
			if err != nil {
				return fmt.Sprintf("%s: exp_samples labels %q: %v", head, s.Labels, err)
			}
			ls = fromPromLabels(pl)
		}
		want = append(want, sampleItem(ls, s.Value))
	}
	d := diff(want, got, func(w, g map[string]string) []string {
		if w[""] == g[""] {
			return nil
		}
		return []string{fmt.Sprintf("value: got %s, want %s", g[""], w[""])}
	}, "expected, not returned", "returned, not expected")
	if d == "" {
		return ""
	}
	return fmt.Sprintf("%s: %d samples, want %d%s", head, len(got), len(want), d)
}

// sampleItem renders a sample for diff; every NaN, staleness markers
// included, compares equal to every other.
func sampleItem(ls model.Labels, v float64) diffItem {
	if ls == nil {
		ls = model.Labels{}
	}
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if math.IsNaN(v) {
		s = "NaN"
	}
	return diffItem{ls.String(), map[string]string{"": s}}
}

func writeList(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n  %s:", title)
	for _, it := range items {
		fmt.Fprintf(b, "\n    %s", it)
	}
}
