package alert

import (
	"context"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// Sample is one element of an instant vector.
type Sample struct {
	Labels model.Labels
	T      int64 // milliseconds since the Unix epoch
	V      float64
}

// QueryFunc evaluates an instant query at t (PromQL, or an Atlas stack
// expression when lang is "atlas"). The alert package depends on this
// function rather than on the engine, which cmd/ wires in. It must be safe
// for concurrent use: every rule group calls it from its own goroutine. The
// returned slice and its labels belong to the caller.
type QueryFunc func(ctx context.Context, lang, expr string, t time.Time) ([]Sample, error)

// Appender writes ALERTS / ALERTS_FOR_STATE and recording-rule output
// (satisfied by *tsdb.DB via an adapter in cmd/). It must be safe for
// concurrent use. The batch belongs to the caller and may be reused once
// Append returns. Rejected samples are reported in the result, not as an
// error; an error means the batch was not stored.
type Appender interface {
	Append([]model.TimeSeries) (model.AppendResult, error)
}
