package alert

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

type testEnv struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	q     *fakeQuery
	app   *fakeAppender
	m     *Manager
}

func newTestEnv(t *testing.T, rules string, mod func(*Options)) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: t.TempDir(), clock: newClock(), q: newFakeQuery(), app: &fakeAppender{}}
	writeFile(t, e.dir, "rules.yml", rules)
	e.m = e.newManager(mod)
	return e
}

func (e *testEnv) newManager(mod func(*Options)) *Manager {
	opts := Options{Query: e.q.Query, Appender: e.app, Now: e.clock.Now, DataDir: filepath.Join(e.dir, "data"),
		ExternalURL: "http://stratus.example:7101"}
	if mod != nil {
		mod(&opts)
	}
	m, err := NewManager(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := m.Reload([]string{filepath.Join(e.dir, "rules.yml")}); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// evalAt sets the clock and evaluates every group at ts.
func (e *testEnv) evalAt(ts time.Time) {
	e.clock.Set(ts)
	for _, g := range e.m.Groups() {
		g.Eval(context.Background(), ts)
	}
}

func (e *testEnv) alerts() []*Alert {
	var out []*Alert
	for _, g := range e.m.Groups() {
		for _, r := range g.rules {
			if ar, ok := r.(*alertingRule); ok {
				out = append(out, ar.alerts(true)...)
			}
		}
	}
	return out
}

const stateRules = `groups:
- name: g
  interval: 1m
  rules:
  - alert: Lag
    expr: lag > 5
    for: 2m
    labels:
      severity: page
  - alert: Sticky
    expr: sticky > 5
    for: 1m
    keep_firing_for: 3m
  - alert: Instant
    expr: instant > 5
`

func TestStateMachine(t *testing.T) {
	type step struct {
		present bool
		want    string // state of the alert after the evaluation, "" = gone
	}
	for _, tc := range []struct {
		name, expr, alert string
		steps             []step
	}{
		{"pending then firing after for", "lag > 5", "Lag", []step{
			{true, "pending"}, {true, "pending"}, {true, "firing"}, {true, "firing"}, {false, "inactive"}}},
		{"pending that stops is forgotten", "lag > 5", "Lag", []step{
			{true, "pending"}, {false, ""}, {true, "pending"}, {true, "pending"}, {true, "firing"}}},
		{"flapping faster than for never fires", "lag > 5", "Lag", []step{
			{true, "pending"}, {true, "pending"}, {false, ""}, {true, "pending"}, {false, ""}, {true, "pending"}, {true, "pending"}}},
		{"resolved then firing again starts over", "lag > 5", "Lag", []step{
			{true, "pending"}, {true, "pending"}, {true, "firing"}, {false, "inactive"}, {true, "pending"}, {true, "pending"}, {true, "firing"}}},
		{"keep_firing_for holds through gaps", "sticky > 5", "Sticky", []step{
			{true, "pending"}, {true, "firing"}, {false, "firing"}, {false, "firing"}, {true, "firing"}, {false, "firing"},
			{false, "firing"}, {false, "firing"}, {false, "inactive"}}},
		{"keep_firing_for does not apply to pending", "sticky > 5", "Sticky", []step{
			{true, "pending"}, {false, ""}}},
		{"for 0 fires at once", "instant > 5", "Instant", []step{{true, "firing"}, {false, "inactive"}, {false, "inactive"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, stateRules, nil)
			for i, s := range tc.steps {
				if s.present {
					e.q.set(tc.expr, sample(10, "__name__", "x", "instance", "a"))
				} else {
					e.q.set(tc.expr)
				}
				e.evalAt(t0.Add(time.Duration(i) * time.Minute))
				got := ""
				for _, a := range e.alerts() {
					if a.Labels.Get("alertname") == tc.alert {
						got = a.State.String()
					}
				}
				if got != s.want {
					t.Fatalf("step %d: state %q, want %q", i, got, s.want)
				}
			}
		})
	}
}

func TestAlertLabelsAnnotationsAndSeries(t *testing.T) {
	rules := `groups:
- name: g
  labels:
    team: migration
  rules:
  - alert: Lag
    expr: lag > 5
    for: 1m
    labels:
      severity: '{{ if gt $value 100.0 }}page{{ else }}ticket{{ end }}'
      empty: ''
    annotations:
      summary: '{{ $labels.country }} lag {{ $value | humanizeDuration }} ({{ $value | humanize }}, {{ 0.256 | humanizePercentage }})'
      url: '{{ $externalURL }}/x'
`
	e := newTestEnv(t, rules, nil)
	e.q.set("lag > 5", sample(400, "__name__", "lag", "country", "de"))
	e.evalAt(t0)
	as := e.alerts()
	if len(as) != 1 {
		t.Fatalf("alerts = %v", as)
	}
	a := as[0]
	if got, want := a.Labels.String(), `{alertname="Lag", country="de", severity="page", team="migration"}`; got != want {
		t.Errorf("labels = %s, want %s", got, want)
	}
	if got, want := a.Annotations.Get("summary"), "de lag 6m 40s (400, 25.6%)"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if got, want := a.Annotations.Get("url"), "http://stratus.example:7101/x"; got != want {
		t.Errorf("url = %q, want %q", got, want)
	}
	if !strings.HasPrefix(a.GeneratorURL, "http://stratus.example:7101/graph?g0.expr=lag+%3E+5") {
		t.Errorf("generator URL = %s", a.GeneratorURL)
	}
	got := e.app.take()
	if len(got) != 2 {
		t.Fatalf("series = %v", got)
	}
	want := map[string]float64{
		`{__name__="ALERTS", alertname="Lag", alertstate="pending", country="de", severity="page", team="migration"}`: 1,
		`{__name__="ALERTS_FOR_STATE", alertname="Lag", country="de", severity="page", team="migration"}`:             float64(t0.Unix()),
	}
	for _, s := range got {
		if v, ok := want[s.Labels.String()]; !ok || s.Samples[0].V != v || s.Samples[0].T != t0.UnixMilli() {
			t.Errorf("unexpected series %s %v", s.Labels, s.Samples)
		}
	}
	// Firing: ALERTS pending gets a staleness marker, ALERTS firing appears.
	e.evalAt(t0.Add(time.Minute))
	got = e.app.take()
	var stale, firing bool
	for _, s := range got {
		if s.Labels.Get("alertstate") == "pending" && model.IsStaleNaN(s.Samples[0].V) {
			stale = true
		}
		if s.Labels.Get("alertstate") == "firing" && s.Samples[0].V == 1 {
			firing = true
		}
	}
	if !stale || !firing {
		t.Errorf("after firing: series %v", got)
	}
}

func TestTemplateFailureIsVisible(t *testing.T) {
	exp := &expander{ctx: context.Background(), ts: t0}
	got, err := exp.expand("x", `{{ "abc" | humanize }}`, templateData{})
	if err == nil || !strings.HasPrefix(got, "<error expanding template") {
		t.Errorf("got %q, %v", got, err)
	}
	for _, tc := range []struct {
		in   any
		f    func(any) (string, error)
		want string
	}{
		{1234567.0, humanize, "1.235M"}, {0.00123, humanize, "1.23m"}, {0.0, humanize, "0"},
		{2048.0, humanize1024, "2ki"}, {math.Inf(1), humanize, "+Inf"},
	} {
		if got, _ := tc.f(tc.in); got != tc.want {
			t.Errorf("%v -> %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQueryErrorKeepsState(t *testing.T) {
	e := newTestEnv(t, stateRules, nil)
	e.q.set("instant > 5", sample(10, "instance", "a"))
	e.evalAt(t0)
	e.q.fail("instant > 5", errors.New("engine down"))
	e.evalAt(t0.Add(time.Minute))
	as := e.alerts()
	if len(as) != 1 || as[0].State != StateFiring {
		t.Fatalf("alerts after a query error = %v", as)
	}
	var found bool
	for _, r := range e.m.Groups()[0].rules {
		if ar, ok := r.(*alertingRule); ok && ar.spec.Alert == "Instant" {
			found = ar.health.health == "err" && strings.Contains(ar.health.lastErr.Error(), "engine down")
		}
	}
	if !found {
		t.Error("rule health does not show the query error")
	}
}

func TestLimitAndDuplicates(t *testing.T) {
	rules := `groups:
- name: g
  limit: 1
  rules:
  - alert: A
    expr: a
  - record: r:sum
    expr: r
`
	e := newTestEnv(t, rules, nil)
	e.q.set("a", sample(1, "i", "1"), sample(1, "i", "2"))
	e.q.set("r", sample(1, "i", "1"))
	e.evalAt(t0)
	if as := e.alerts(); len(as) != 0 {
		t.Errorf("alerts over the limit kept: %v", as)
	}
	got := e.app.take()
	if len(got) != 1 || got[0].Labels.String() != `{__name__="r:sum", i="1"}` || got[0].Samples[0].V != 1 {
		t.Errorf("recorded %v", got)
	}
	e.q.set("a", sample(1, "__name__", "x", "i", "1"), sample(1, "__name__", "y", "i", "1"))
	e.evalAt(t0.Add(time.Minute))
	if as := e.alerts(); len(as) != 0 {
		t.Errorf("duplicate label sets produced alerts: %v", as)
	}
}

func TestRecordingRuleAndAtlasLang(t *testing.T) {
	rules := `groups:
- name: g
  rules:
  - record: svc:rps
    atlas: name,rps,:eq,(,service,),:by
    labels:
      source: atlas
`
	e := newTestEnv(t, rules, nil)
	e.q.set("name,rps,:eq,(,service,),:by", sample(3, "service", "api"))
	e.evalAt(t0)
	got := e.app.take()
	if len(got) != 1 || got[0].Labels.String() != `{__name__="svc:rps", service="api", source="atlas"}` {
		t.Errorf("got %v", got)
	}
	if e.q.calls[0] != "atlas:name,rps,:eq,(,service,),:by" {
		t.Errorf("query calls = %v", e.q.calls)
	}
}

// TestRuleReadsEarlierRuleOfItsGroup: a rule sees what an earlier rule of
// its group recorded at the same evaluation, as in Prometheus (each rule's
// output is written before the next rule runs).
func TestRuleReadsEarlierRuleOfItsGroup(t *testing.T) {
	rules := `groups:
- name: g
  rules:
  - record: x:doubled
    expr: x * 2
  - alert: Doubled
    expr: x:doubled > 5
`
	e := newTestEnv(t, rules, func(o *Options) {
		inner := o.Query
		o.Query = func(ctx context.Context, lang, expr string, ts time.Time) ([]Sample, error) {
			if expr != "x:doubled > 5" {
				return inner(ctx, lang, expr, ts)
			}
			// Answer from what was appended at ts, as the store would.
			e := o.Appender.(*fakeAppender)
			e.mu.Lock()
			defer e.mu.Unlock()
			var out []Sample
			for _, s := range e.series {
				if s.Labels.Get("__name__") == "x:doubled" && s.Samples[0].T == ts.UnixMilli() && s.Samples[0].V > 5 {
					out = append(out, Sample{Labels: model.FromStrings(), V: s.Samples[0].V})
				}
			}
			return out, nil
		}
	})
	e.q.set("x * 2", sample(20))
	e.evalAt(t0)
	if as := e.alerts(); len(as) != 1 || as[0].Value != 20 {
		t.Fatalf("alerts %v: the alert did not see the value recorded before it", as)
	}
}

func TestReloadKeepsOldRulesOnError(t *testing.T) {
	e := newTestEnv(t, stateRules, nil)
	e.q.set("lag > 5", sample(10, "instance", "a"))
	e.evalAt(t0)
	e.evalAt(t0.Add(time.Minute))
	writeFile(t, e.dir, "rules.yml", "groups:\n- name: g\n  rules:\n  - alert: Lag\n    expr: lag >\n")
	err := e.m.Reload([]string{filepath.Join(e.dir, "rules.yml")})
	if err == nil || !strings.Contains(err.Error(), "rules.yml:5: ") {
		t.Fatalf("reload error = %v", err)
	}
	if n := len(e.m.Groups()[0].rules); n != 3 {
		t.Fatalf("rules after a failed reload = %d", n)
	}
	// A valid reload keeps the pending clock of an unchanged rule.
	writeFile(t, e.dir, "rules.yml", stateRules+"  - alert: New\n    expr: new\n")
	if err := e.m.Reload([]string{filepath.Join(e.dir, "rules.yml")}); err != nil {
		t.Fatal(err)
	}
	e.evalAt(t0.Add(2 * time.Minute))
	for _, a := range e.alerts() {
		if a.Labels.Get("alertname") == "Lag" && (a.State != StateFiring || !a.ActiveAt.Equal(t0)) {
			t.Errorf("after reload: %+v", a)
		}
	}
}

func TestRestartRestoresState(t *testing.T) {
	e := newTestEnv(t, stateRules, nil)
	e.q.set("lag > 5", sample(10, "instance", "a"))
	e.q.set("instant > 5", sample(10, "instance", "b"))
	e.evalAt(t0)
	e.evalAt(t0.Add(time.Minute)) // Lag pending for 1m, Instant firing

	// "Restart": a new manager on the same data dir, 30s later.
	e.m = e.newManager(nil)
	as := e.alerts()
	if len(as) != 2 {
		t.Fatalf("restored %v", as)
	}
	e.evalAt(t0.Add(2 * time.Minute))
	for _, a := range e.alerts() {
		switch a.Labels.Get("alertname") {
		case "Lag":
			if a.State != StateFiring || !a.ActiveAt.Equal(t0) {
				t.Errorf("Lag after restart: state %s active %s; the for clock restarted", a.State, a.ActiveAt)
			}
		case "Instant":
			if a.State != StateFiring || !a.FiredAt.Equal(t0) {
				t.Errorf("Instant after restart: state %s fired %s", a.State, a.FiredAt)
			}
		}
	}

	// After a long outage, pending alerts start over; firing ones stay.
	e.q.set("lag > 5")
	e.evalAt(t0.Add(3 * time.Minute))
	e.q.set("lag > 5", sample(10, "instance", "a"))
	e.evalAt(t0.Add(4 * time.Minute)) // Lag pending again since 4m
	e.clock.Set(t0.Add(3 * time.Hour))
	e.m = e.newManager(nil)
	for _, a := range e.alerts() {
		if a.Labels.Get("alertname") == "Lag" {
			t.Errorf("pending alert restored after a 3h outage: %+v", a)
		}
		if a.Labels.Get("alertname") == "Instant" && a.State != StateFiring {
			t.Errorf("firing alert not restored after a 3h outage: %+v", a)
		}
	}
}

func TestRunSchedulesAndCloses(t *testing.T) {
	e := newTestEnv(t, "groups:\n- name: fast\n  interval: 20ms\n  rules:\n  - alert: A\n    expr: a\n", func(o *Options) { o.Now = nil })
	e.q.set("a", sample(1, "i", "1"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.m.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(e.alerts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(e.alerts()) == 0 {
		t.Fatal("no evaluation within 5s")
	}
	// Reload while running restarts the goroutines.
	if err := e.m.Reload([]string{filepath.Join(e.dir, "rules.yml")}); err != nil {
		t.Fatal(err)
	}
	e.m.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.m.Close() // idempotent
}

func TestEvalOffsetSpreadsGroups(t *testing.T) {
	e := newTestEnv(t, "groups:\n- name: a\n  rules: []\n- name: b\n  rules: []\n- name: c\n  rules: []\n", nil)
	offsets := map[time.Duration]bool{}
	for _, g := range e.m.Groups() {
		next := g.nextEval(t0)
		if !next.After(t0) || next.Sub(t0) > g.Interval() {
			t.Errorf("group %s: next %s not within one interval after %s", g.Name(), next, t0)
		}
		if again := g.nextEval(next); again.Sub(next) != g.Interval() {
			t.Errorf("group %s: slots %s apart", g.Name(), again.Sub(next))
		}
		offsets[g.offset()] = true
	}
	if len(offsets) != 3 {
		t.Errorf("offsets not spread: %v", offsets)
	}
}
