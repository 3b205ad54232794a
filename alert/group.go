package alert

import (
	"context"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// rule is an alerting or recording rule inside a group.
type rule interface {
	eval(ctx context.Context, ts time.Time, env *evalEnv) ([]model.TimeSeries, error)
}

// Group is a loaded rule group: its rules are evaluated in order, on one
// schedule, by one goroutine that the Manager owns.
type Group struct {
	spec     GroupSpec
	key      string // File + ";" + Name: unique among loaded groups
	interval time.Duration
	rules    []rule
	env      evalEnv
	m        *Manager

	mu       sync.Mutex // guards lastEval, evalDur and lastErrs
	lastEval time.Time
	evalDur  time.Duration
	lastErrs []error

	// Touched only by the evaluating goroutine (and by Manager before it
	// starts or after it stopped).
	prevSeries map[string]model.Labels // series written by the last evaluation, by key
	savedState string                  // digest of the state last written to the state file
}

func newGroup(m *Manager, spec GroupSpec) *Group {
	g := &Group{
		spec:       spec,
		key:        spec.File + ";" + spec.Name,
		interval:   spec.Interval,
		m:          m,
		prevSeries: map[string]model.Labels{},
	}
	if g.interval <= 0 {
		g.interval = m.opts.EvaluationInterval
	}
	g.env = evalEnv{
		query:          m.opts.Query,
		externalURL:    m.externalURL,
		externalLabels: m.opts.ExternalLabels,
		groupLabels:    spec.Labels,
		limit:          spec.Limit,
		queryOffset:    spec.QueryOffset,
	}
	for _, rs := range spec.Rules {
		if rs.Alert != "" {
			g.rules = append(g.rules, newAlertingRule(rs))
		} else {
			g.rules = append(g.rules, newRecordingRule(rs))
		}
	}
	return g
}

// Name returns the group's name.
func (g *Group) Name() string { return g.spec.Name }

// File returns the file the group was loaded from.
func (g *Group) File() string { return g.spec.File }

// Interval returns the time between evaluations.
func (g *Group) Interval() time.Duration { return g.interval }

// offset spreads groups over the interval, so that groups loaded together
// do not all query at the same instant. It depends only on the group's key,
// so a group keeps its slot across restarts and reloads.
func (g *Group) offset() time.Duration {
	h := fnv.New64a()
	h.Write([]byte(g.key))
	return time.Duration(h.Sum64() % uint64(g.interval))
}

// nextEval returns the first evaluation slot strictly after now.
func (g *Group) nextEval(now time.Time) time.Time {
	iv, off := int64(g.interval), int64(g.offset())
	adj := now.UnixNano() - off
	base := adj - ((adj%iv)+iv)%iv
	return time.Unix(0, base+off+iv)
}

// run evaluates the group at each slot until ctx is done. A slot missed
// because an evaluation overran is skipped, not caught up.
func (g *Group) run(ctx context.Context) {
	for {
		next := g.nextEval(g.m.now())
		t := time.NewTimer(next.Sub(g.m.now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		g.Eval(ctx, next)
	}
}

// Eval evaluates every rule of the group at ts, writes the resulting
// series, persists the alert state and hands the alerts to the notifier.
// Each rule's output is written before the next rule runs, so that a rule
// reads what an earlier rule of its group recorded at the same time, as in
// Prometheus. The Manager's goroutine calls it at each slot; tests call it
// directly with exact times. It must not be called concurrently for one
// group.
func (g *Group) Eval(ctx context.Context, ts time.Time) {
	start := time.Now()
	var errs []error
	cur := make(map[string]model.Labels, len(g.prevSeries))
	for i, r := range g.rules {
		out, err := r.eval(ctx, ts, &g.env)
		if err != nil {
			g.m.logger.Warn("evaluate rule", "group", g.spec.Name, "file", g.spec.File, "err", err)
			errs = append(errs, &RuleError{File: g.spec.File, Line: g.spec.Rules[i].Line, Group: g.spec.Name, Rule: g.spec.Rules[i].Name(), Err: err})
			continue
		}
		for _, s := range out {
			cur[string(model.AppendKey(nil, s.Labels))] = s.Labels
		}
		g.append(out)
	}
	g.markStale(ts, cur)
	g.persist(ts)
	g.notify(ts)
	dur := time.Since(start)
	g.mu.Lock()
	g.lastEval, g.evalDur, g.lastErrs = ts, dur, errs
	g.mu.Unlock()
	g.m.metrics.evals.WithLabelValues(g.key).Add(float64(len(g.rules)))
	if len(errs) > 0 {
		g.m.metrics.evalFailures.WithLabelValues(g.key).Add(float64(len(errs)))
	}
	g.m.metrics.lastDuration.WithLabelValues(g.key).Set(dur.Seconds())
}

// LastErrors returns the errors of the rules that failed in the last
// evaluation, each a *RuleError naming the rule and its line; nil when
// every rule evaluated. `stratus rules test` fails a test on them, as
// promtool does, because a rule that cannot evaluate never fires.
func (g *Group) LastErrors() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.lastErrs)
}

// markStale writes a staleness marker for every series the previous
// evaluation wrote and this one (cur) did not, so that a resolved alert's
// ALERTS series ends at once instead of lingering for the lookback.
func (g *Group) markStale(ts time.Time, cur map[string]model.Labels) {
	var batch []model.TimeSeries
	for k, ls := range g.prevSeries {
		if _, ok := cur[k]; !ok {
			batch = append(batch, model.TimeSeries{Labels: ls, Samples: []model.Sample{{T: ts.UnixMilli(), V: model.StaleNaN()}}})
		}
	}
	g.prevSeries = cur
	g.append(batch)
}

// append writes a batch of rule output; a failure is logged, as the next
// evaluation writes again.
func (g *Group) append(batch []model.TimeSeries) {
	if g.m.opts.Appender == nil || len(batch) == 0 {
		return
	}
	res, err := g.m.opts.Appender.Append(batch)
	if err != nil {
		g.m.logger.Warn("write rule output", "group", g.spec.Name, "series", len(batch), "err", err)
		return
	}
	if res.Rejected > 0 {
		attrs := []any{"group", g.spec.Name, "rejected", res.Rejected}
		if len(res.Rejections) > 0 {
			attrs = append(attrs, "first", res.Rejections[0].Error())
		}
		g.m.logger.Log(context.Background(), slog.LevelWarn, "rule output rejected", attrs...)
	}
}

// notify hands the group's firing alerts, and those resolved recently, to
// the notifier and the pusher. A firing alert is valid for four intervals
// (at least four minutes, as Prometheus's resend delay): if the group stops
// being evaluated (removed by a reload), its alerts resolve by themselves
// then.
func (g *Group) notify(ts time.Time) {
	n, p := g.m.opts.Notifier, g.m.opts.Pusher
	if n == nil && p == nil {
		return
	}
	var send []*Alert
	for _, r := range g.rules {
		ar, ok := r.(*alertingRule)
		if !ok {
			continue
		}
		for _, a := range ar.alerts(true) {
			if a.State == StateFiring || (a.State == StateInactive && !a.FiredAt.IsZero()) {
				send = append(send, a)
			}
		}
	}
	if len(send) == 0 {
		return
	}
	validUntil := ts.Add(4 * max(g.interval, time.Minute))
	if n != nil {
		n.Send(send, validUntil)
	}
	if p != nil {
		p.Send(send, validUntil)
	}
}

// LastEvaluation returns the time of the last evaluation and how long it took.
func (g *Group) LastEvaluation() (time.Time, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lastEval, g.evalDur
}
