package alert

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// Names of the series an alerting rule writes, as in Prometheus.
const (
	alertsMetric         = "ALERTS"
	alertsForStateMetric = "ALERTS_FOR_STATE"
	alertNameLabel       = "alertname"
	alertStateLabel      = "alertstate"
)

// resolvedRetention is how long a resolved alert is kept (and sent to the
// notifier) after it resolved, as in Prometheus.
const resolvedRetention = 15 * time.Minute

// ruleHealth is what the rules API reports about a rule's last evaluation.
type ruleHealth struct {
	health   string // "unknown", "ok" or "err"
	lastErr  error
	lastEval time.Time
	evalDur  time.Duration
}

func (h *ruleHealth) record(ts time.Time, dur time.Duration, err error) {
	h.lastEval, h.evalDur, h.lastErr = ts, dur, err
	h.health = "ok"
	if err != nil {
		h.health = "err"
	}
}

// evalEnv is what a rule needs from its group to evaluate.
type evalEnv struct {
	query          QueryFunc
	externalURL    *url.URL
	externalLabels map[string]string
	groupLabels    map[string]string
	limit          int
	queryOffset    time.Duration
}

// alertingRule is the state machine of one `alert:` rule.
type alertingRule struct {
	spec RuleSpec

	mu sync.Mutex // guards active and health; the API reads while the group evaluates
	// active holds the alerts that are pending, firing, or resolved less
	// than resolvedRetention ago, by fingerprint.
	active map[uint64]*Alert
	health ruleHealth
}

func newAlertingRule(spec RuleSpec) *alertingRule {
	return &alertingRule{spec: spec, active: map[uint64]*Alert{}, health: ruleHealth{health: "unknown"}}
}

// generatorURL links an alert to its expression in the UI.
func generatorURL(base *url.URL, lang, expr string) string {
	prefix := ""
	if base != nil {
		prefix = base.String()
	}
	if lang == LangAtlas {
		return prefix + "/api/v1/graph?q=" + url.QueryEscape(expr)
	}
	return prefix + "/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1"
}

// eval runs the rule at ts and advances its alerts' states. It returns the
// ALERTS and ALERTS_FOR_STATE series to write. A query error leaves every
// alert as it was: an engine failure must neither page nor resolve.
func (r *alertingRule) eval(ctx context.Context, ts time.Time, env *evalEnv) ([]model.TimeSeries, error) {
	start := time.Now()
	samples, err := env.query(ctx, r.spec.Lang, r.spec.Expr, ts.Add(-env.queryOffset))
	if err != nil {
		err = fmt.Errorf("query %s: %w", r.spec.Lang, err)
		r.mu.Lock()
		r.health.record(ts, time.Since(start), err)
		r.mu.Unlock()
		return nil, err
	}
	genURL := generatorURL(env.externalURL, r.spec.Lang, r.spec.Expr)
	exp := &expander{ctx: ctx, query: env.query, ts: ts, externalURL: env.externalURL}

	// Build this evaluation's alerts: labels and annotations expanded with
	// the sample's labels and value.
	current := make(map[uint64]*Alert, len(samples))
	for _, s := range samples {
		a := r.buildAlert(exp, env, s, ts)
		a.GeneratorURL = genURL
		fp := a.Fingerprint()
		if _, dup := current[fp]; dup {
			err := errors.New("vector contains metrics with the same labelset after applying alert labels")
			r.mu.Lock()
			r.health.record(ts, time.Since(start), err)
			r.mu.Unlock()
			return nil, err
		}
		current[fp] = a
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for fp, a := range current {
		if old, ok := r.active[fp]; ok && old.State != StateInactive {
			// Still active: ActiveAt stays, so `for` keeps counting.
			old.Value, old.Annotations, old.GeneratorURL = a.Value, a.Annotations, a.GeneratorURL
			continue
		}
		r.active[fp] = a
	}

	numActive := 0
	for fp, a := range r.active {
		if _, ok := current[fp]; !ok {
			keepFiring := false
			if a.State == StateFiring && r.spec.KeepFiringFor > 0 {
				if a.KeepFiringSince.IsZero() {
					a.KeepFiringSince = ts
				}
				keepFiring = ts.Sub(a.KeepFiringSince) < r.spec.KeepFiringFor
			}
			// A pending alert that stops holding is forgotten; a resolved
			// one is kept for resolvedRetention so its resolution is sent.
			if a.State == StatePending || (!a.ResolvedAt.IsZero() && ts.Sub(a.ResolvedAt) > resolvedRetention) {
				delete(r.active, fp)
			}
			if a.State != StateInactive && !keepFiring {
				a.State = StateInactive
				a.ResolvedAt = ts
				a.KeepFiringSince = time.Time{}
			}
			if !keepFiring {
				continue
			}
		} else {
			a.KeepFiringSince = time.Time{}
		}
		numActive++
		if a.State == StatePending && ts.Sub(a.ActiveAt) >= r.spec.For {
			a.State = StateFiring
			a.FiredAt = ts
		}
	}
	if env.limit > 0 && numActive > env.limit {
		r.active = map[uint64]*Alert{}
		err := fmt.Errorf("exceeded limit of %d with %d alerts", env.limit, numActive)
		r.health.record(ts, time.Since(start), err)
		return nil, err
	}

	var out []model.TimeSeries
	tms := ts.UnixMilli()
	for _, a := range r.active {
		if a.State == StateInactive {
			continue
		}
		out = append(out,
			model.TimeSeries{Labels: withLabels(a.Labels, model.MetricName, alertsMetric, alertStateLabel, a.State.String()),
				Samples: []model.Sample{{T: tms, V: 1}}},
			model.TimeSeries{Labels: withLabels(a.Labels, model.MetricName, alertsForStateMetric),
				Samples: []model.Sample{{T: tms, V: float64(a.ActiveAt.Unix())}}},
		)
	}
	r.health.record(ts, time.Since(start), nil)
	return out, nil
}

// buildAlert turns one sample into a pending alert: the sample's labels
// without the metric name, the group's then the rule's (expanded) labels,
// and alertname.
func (r *alertingRule) buildAlert(exp *expander, env *evalEnv, s Sample, ts time.Time) *Alert {
	data := templateData{
		Labels:         s.Labels.Map(),
		ExternalLabels: env.externalLabels,
		ExternalURL:    "",
		Value:          s.V,
	}
	if env.externalURL != nil {
		data.ExternalURL = env.externalURL.String()
	}
	name := "__alert_" + r.spec.Alert
	lb := map[string]string{}
	for _, l := range s.Labels {
		if l.Name != model.MetricName {
			lb[l.Name] = l.Value
		}
	}
	for k, v := range env.groupLabels {
		if _, ok := r.spec.Labels[k]; !ok {
			lb[k] = v
		}
	}
	for k, v := range r.spec.Labels {
		lb[k], _ = exp.expand(name, v, data)
	}
	lb[alertNameLabel] = r.spec.Alert
	ann := map[string]string{}
	for k, v := range r.spec.Annotations {
		ann[k], _ = exp.expand(name, v, data)
	}
	return &Alert{
		Labels:      labelsFromMap(lb),
		Annotations: labelsFromMap(ann),
		State:       StatePending,
		Value:       s.V,
		ActiveAt:    ts,
	}
}

// alerts returns copies of the rule's alerts, sorted by labels; with
// withInactive false only the pending and firing ones.
func (r *alertingRule) alerts(withInactive bool) []*Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Alert, 0, len(r.active))
	for _, a := range r.active {
		if a.State != StateInactive || withInactive {
			out = append(out, a.clone())
		}
	}
	slices.SortFunc(out, func(a, b *Alert) int { return model.Compare(a.Labels, b.Labels) })
	return out
}

// state is the highest state among the rule's alerts.
func (r *alertingRule) state() AlertState {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := StateInactive
	for _, a := range r.active {
		s = max(s, a.State)
	}
	return s
}

// labelsFromMap builds sorted Labels, dropping empty values: as in
// Prometheus, an empty value means the label is absent.
func labelsFromMap(m map[string]string) model.Labels {
	ls := make(model.Labels, 0, len(m))
	for k, v := range m {
		if v != "" {
			ls = append(ls, model.Label{Name: k, Value: v})
		}
	}
	ls.Sort()
	return ls
}

// withLabels returns a copy of ls with the name/value pairs set.
func withLabels(ls model.Labels, nv ...string) model.Labels {
	m := ls.Map()
	for i := 0; i+1 < len(nv); i += 2 {
		m[nv[i]] = nv[i+1]
	}
	return labelsFromMap(m)
}

// formatValue renders a sample value the way Prometheus's API does.
func formatValue(v float64) string { return strconv.FormatFloat(v, 'e', -1, 64) }
