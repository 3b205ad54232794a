package sim

import (
	"math"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

func find(series []model.TimeSeries, name string, kv ...string) []model.TimeSeries {
	var out []model.TimeSeries
outer:
	for _, s := range series {
		if s.Labels.Get(model.MetricName) != name {
			continue
		}
		for i := 0; i < len(kv); i += 2 {
			if s.Labels.Get(kv[i]) != kv[i+1] {
				continue outer
			}
		}
		out = append(out, s)
	}
	return out
}

// TestIncidentsRotateAndResolve checks that each incident kind shows in the
// metrics the rules watch while it runs, and is gone after it ends.
func TestIncidentsRotateAndResolve(t *testing.T) {
	cfg := Config{IncidentEvery: time.Minute, IncidentLength: 40 * time.Second, FirstIncidentAfter: 10 * time.Second, Seed: 7}
	start := time.Unix(1_800_000_000, 0)
	s := New(cfg, start)
	seen := map[string]bool{}
	for step := 1; step <= 6*60/5; step++ {
		now := start.Add(time.Duration(step) * 5 * time.Second)
		b := s.Step(now)
		if err := validate(b); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		inc, ok := s.IncidentAt(now)
		if !ok || now.Sub(inc.Start) < 30*time.Second {
			continue
		}
		seen[inc.Kind] = true
		switch inc.Kind {
		case IncidentLagSpike:
			for _, ts := range find(b.Atlas, "migration_replication_lag_seconds", "country", inc.Target) {
				if ts.Samples[0].V < 200 {
					t.Fatalf("lag spike in %s: lag %v", inc.Target, ts.Samples[0].V)
				}
			}
		case IncidentBreakerOpen:
			open := find(b.RemoteWrite, "resilience4j_circuitbreaker_state", "service", inc.Target, "state", "open")
			if len(open) != 1 || open[0].Samples[0].V != 1 {
				t.Fatalf("breaker of %s not open: %v", inc.Target, open)
			}
		}
	}
	for _, k := range []string{IncidentLagSpike, IncidentErrorBurst, IncidentCutoverStalled, IncidentParityDrift, IncidentBreakerOpen} {
		if !seen[k] {
			t.Errorf("incident %s never ran in 6 minutes", k)
		}
	}
	// After an incident the lag falls back.
	quiet := start.Add(6*time.Minute + 50*time.Second)
	if _, ok := s.IncidentAt(quiet); ok {
		t.Fatalf("expected a quiet period at %v", quiet)
	}
	b := s.Step(quiet)
	for _, ts := range find(b.Atlas, "migration_replication_lag_seconds") {
		if ts.Samples[0].V > 100 {
			t.Fatalf("lag stays high after the incident: %v %v", ts.Labels, ts.Samples[0].V)
		}
	}
}

// validate checks that every series is a valid, distinct label set with a
// finite value (or the stale marker).
func validate(b Batch) error {
	seen := map[string]bool{}
	for _, group := range [][]model.TimeSeries{b.Atlas, b.RemoteWrite} {
		for _, s := range group {
			if err := s.Labels.Validate(); err != nil {
				return err
			}
			k := s.Labels.String()
			if seen[k] {
				return &dupError{k}
			}
			seen[k] = true
			if v := s.Samples[0].V; math.IsInf(v, 0) || (math.IsNaN(v) && !model.IsStaleNaN(v)) {
				return &dupError{"bad value in " + k}
			}
		}
	}
	return nil
}

type dupError struct{ s string }

func (e *dupError) Error() string { return "duplicate or bad series " + e.s }

func TestDeterministic(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	a, b := New(Config{Seed: 3}, start), New(Config{Seed: 3}, start)
	for step := 1; step < 20; step++ {
		now := start.Add(time.Duration(step) * 10 * time.Second)
		x, y := a.Step(now), b.Step(now)
		if len(x.Atlas) != len(y.Atlas) || len(x.RemoteWrite) != len(y.RemoteWrite) {
			t.Fatal("same seed, different batches")
		}
		for i := range x.Atlas {
			if x.Atlas[i].Samples[0] != y.Atlas[i].Samples[0] {
				t.Fatalf("same seed, different values: %v %v", x.Atlas[i], y.Atlas[i])
			}
		}
	}
}
