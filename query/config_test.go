package query

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsMatchEngine(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	got := c.APIOptions(slog.Default(), BuildInfo{})
	want := DefaultEngineOptions()
	if got.Engine.LookbackDelta != want.LookbackDelta || got.Engine.SubqueryStep != want.SubqueryStep ||
		got.Engine.Timeout != want.Timeout || got.Engine.MaxSamples != want.MaxSamples ||
		got.Engine.MaxSeries != want.MaxSeries || got.Engine.SlowQueryThreshold != want.SlowQueryThreshold {
		t.Errorf("engine options %+v, want %+v", got.Engine, want)
	}
	if got.MaxPointsPerSeries != 11_000 || got.Engine.Logger == nil {
		t.Errorf("max points %d, logger %v", got.MaxPointsPerSeries, got.Engine.Logger)
	}
	c.SlowQueryThreshold = -1
	if c.APIOptions(slog.Default(), BuildInfo{}).Engine.Logger != nil {
		t.Error("a negative slow_query_threshold must disable the query log")
	}
}

func TestConfigValidateNamesEveryBadKey(t *testing.T) {
	c := Config{LookbackDelta: 0, SubqueryStep: 1500 * time.Microsecond, Timeout: -1, MaxSamples: -1, MaxSeries: -2, MaxPointsPerSeries: 0}
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, key := range []string{"lookback_delta", "subquery_step", "timeout", "max_samples", "max_series", "max_points_per_series"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
}
