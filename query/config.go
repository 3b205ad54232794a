package query

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config is the query section of Stratus' configuration file: the
// engine's lookback, limits and query log, and the HTTP API's limits.
// Start from DefaultConfig and change fields; cmd/ maps the file into it
// and calls Validate before APIOptions.
type Config struct {
	// LookbackDelta is how far back an instant vector selector looks for
	// a series' latest sample (Prometheus' --query.lookback-delta). A
	// series whose newest sample is older is absent from the result.
	LookbackDelta time.Duration `yaml:"lookback_delta"`
	// SubqueryStep is the resolution of subqueries written without a step
	// (`x[1h:]`); Prometheus takes its global evaluation_interval.
	SubqueryStep time.Duration `yaml:"subquery_step"`
	// Timeout bounds one query's evaluation (Prometheus'
	// --query.timeout); a request's own `timeout` parameter can only
	// shorten it. Zero leaves only the client's deadline.
	Timeout time.Duration `yaml:"timeout"`
	// MaxSamples caps the samples one query may decode from storage
	// (Prometheus' --query.max-samples counts samples held in memory,
	// which is close); zero means no limit. It keeps one query from
	// reading the whole store.
	MaxSamples int `yaml:"max_samples"`
	// MaxSeries caps the series one query may select; zero means no limit.
	MaxSeries int `yaml:"max_series"`
	// MaxPointsPerSeries caps (end - start) / step of a range query, as
	// Prometheus' fixed 11,000 does.
	MaxPointsPerSeries int `yaml:"max_points_per_series"`
	// SlowQueryThreshold is the evaluation time from which a query is
	// logged with the series and samples it touched. Zero logs every
	// query (useful when debugging); a negative value logs none.
	SlowQueryThreshold time.Duration `yaml:"slow_query_threshold"`
}

// DefaultConfig returns Prometheus' defaults (5m lookback, 1m subquery
// step, 11,000 points per series) with generous limits: 2 minutes, 50 M
// samples and 1 M series per query, queries slower than 5 s logged.
func DefaultConfig() Config {
	e := DefaultEngineOptions()
	return Config{
		LookbackDelta:      e.LookbackDelta,
		SubqueryStep:       e.SubqueryStep,
		Timeout:            e.Timeout,
		MaxSamples:         e.MaxSamples,
		MaxSeries:          e.MaxSeries,
		MaxPointsPerSeries: 11_000,
		SlowQueryThreshold: e.SlowQueryThreshold,
	}
}

// Validate reports every invalid setting at once, naming its key.
func (c *Config) Validate() error {
	var errs []error
	positiveMs := func(key string, d time.Duration) {
		if d <= 0 || d%time.Millisecond != 0 {
			errs = append(errs, fmt.Errorf("%s %v: must be positive and whole milliseconds", key, d))
		}
	}
	positiveMs("lookback_delta", c.LookbackDelta)
	positiveMs("subquery_step", c.SubqueryStep)
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v: must not be negative (0 means no limit)", c.Timeout))
	}
	if c.MaxSamples < 0 {
		errs = append(errs, fmt.Errorf("max_samples %d: must not be negative (0 means no limit)", c.MaxSamples))
	}
	if c.MaxSeries < 0 {
		errs = append(errs, fmt.Errorf("max_series %d: must not be negative (0 means no limit)", c.MaxSeries))
	}
	if c.MaxPointsPerSeries <= 0 {
		errs = append(errs, fmt.Errorf("max_points_per_series %d: must be positive", c.MaxPointsPerSeries))
	}
	return errors.Join(errs...)
}

// APIOptions returns the options of the HTTP API and its engine for a
// valid Config. logger receives the slow query log.
func (c *Config) APIOptions(logger *slog.Logger, bi BuildInfo) APIOptions {
	e := DefaultEngineOptions()
	e.LookbackDelta = c.LookbackDelta
	e.SubqueryStep = c.SubqueryStep
	e.Timeout = c.Timeout
	e.MaxSamples = c.MaxSamples
	e.MaxSeries = c.MaxSeries
	e.SlowQueryThreshold = c.SlowQueryThreshold
	if c.SlowQueryThreshold >= 0 {
		e.Logger = logger
	}
	return APIOptions{Engine: e, BuildInfo: bi, MaxPointsPerSeries: c.MaxPointsPerSeries}
}
