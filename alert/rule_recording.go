package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// recordingRule evaluates a `record:` rule: its result is written back as
// new series named after the rule.
type recordingRule struct {
	spec RuleSpec

	mu     sync.Mutex // guards health
	health ruleHealth
}

func newRecordingRule(spec RuleSpec) *recordingRule {
	return &recordingRule{spec: spec, health: ruleHealth{health: "unknown"}}
}

// eval runs the query at ts and returns the series to write, stamped with
// ts, named after the rule, with the group's and the rule's labels.
func (r *recordingRule) eval(ctx context.Context, ts time.Time, env *evalEnv) ([]model.TimeSeries, error) {
	start := time.Now()
	out, err := r.evalQuery(ctx, ts, env)
	r.mu.Lock()
	r.health.record(ts, time.Since(start), err)
	r.mu.Unlock()
	return out, err
}

func (r *recordingRule) evalQuery(ctx context.Context, ts time.Time, env *evalEnv) ([]model.TimeSeries, error) {
	samples, err := env.query(ctx, r.spec.Lang, r.spec.Expr, ts.Add(-env.queryOffset))
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", r.spec.Lang, err)
	}
	if env.limit > 0 && len(samples) > env.limit {
		return nil, fmt.Errorf("exceeded limit of %d with %d series", env.limit, len(samples))
	}
	out := make([]model.TimeSeries, 0, len(samples))
	seen := make(map[string]bool, len(samples))
	tms := ts.UnixMilli()
	for _, s := range samples {
		m := s.Labels.Map()
		for k, v := range env.groupLabels {
			m[k] = v
		}
		for k, v := range r.spec.Labels {
			m[k] = v
		}
		m[model.MetricName] = r.spec.Record
		ls := labelsFromMap(m)
		key := string(model.AppendKey(nil, ls))
		if seen[key] {
			return nil, errors.New("vector contains metrics with the same labelset after applying rule labels")
		}
		seen[key] = true
		out = append(out, model.TimeSeries{Labels: ls, Samples: []model.Sample{{T: tms, V: s.V}}})
	}
	return out, nil
}
