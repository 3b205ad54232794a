package query

// Hooks that let other query languages (the Atlas stack language in
// query/stacklang) run on this engine's execution layer: the same
// selection (one Querier.Select per query, each series decoded once into a
// reused buffer, the engine's series and sample limits, timeout and
// cancellation), the same aggregation arithmetic (Kahan summation,
// incremental means) and a step alignment that consolidates raw samples
// into fixed steps, which is what Atlas-style step series need.

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// SelectSeries selects the series matching ms with samples in [mint, maxt]
// (milliseconds, inclusive) and calls fn once per series, in label order,
// with its samples, which fn must neither keep nor modify: they are read
// in place from storage's decoding buffer, reused for the next series. Staleness markers are dropped. The
// engine's limits (MaxSeries, MaxSamples, Timeout) apply exactly as they
// do to a PromQL selector, and the returned Stats count the series and
// samples read. Errors are those of a PromQL query (ErrTooManySeries,
// ErrTooManySamples, ErrTimeout, ErrCanceled, or the storage's).
func (ng *Engine) SelectSeries(ctx context.Context, mint, maxt int64, ms []*model.Matcher, fn func(ls model.Labels, pts []FPoint)) (st Stats, err error) {
	began := time.Now()
	pms := make([]*labels.Matcher, len(ms))
	for i, m := range ms {
		if pms[i], err = promMatcher(m); err != nil {
			return st, err
		}
	}
	if ng.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ng.opts.Timeout)
		defer cancel()
	}
	ev := &evaluator{
		ctx:      ctx,
		q:        ng.q,
		start:    mint,
		end:      maxt,
		interval: 1,
		lookback: ng.opts.LookbackDelta.Milliseconds(),
		limits:   &ng.opts,
		stats:    &Stats{},
		warnings: map[string]bool{},
	}
	defer func() {
		st = *ev.stats
		st.EvalTime = time.Since(began)
		r := recover()
		if r == nil {
			return
		}
		if e, ok := r.(evalError); ok {
			err = e.err
			return
		}
		if re, ok := r.(runtime.Error); ok {
			err = fmt.Errorf("BUG: select %s: %v", matchersString(pms), re)
			return
		}
		panic(r)
	}()
	ev.checkContext()
	ev.selectSeries(pms, mint, maxt, false, fn)
	return *ev.stats, nil
}

// Consolidation says how the samples that fall into one step are combined
// into the step's value, as Atlas consolidates primary datapoints when the
// step is larger than the data's: the average for sums and counts, the
// minimum for min, the maximum for max (Atlas's :cf-* words override it).
type Consolidation uint8

// The consolidation functions of Atlas.
const (
	ConsolidateAvg Consolidation = iota
	ConsolidateSum
	ConsolidateMin
	ConsolidateMax
)

// String returns the Atlas name: avg, sum, min or max.
func (c Consolidation) String() string {
	switch c {
	case ConsolidateAvg:
		return "avg"
	case ConsolidateSum:
		return "sum"
	case ConsolidateMin:
		return "min"
	case ConsolidateMax:
		return "max"
	}
	return fmt.Sprintf("Consolidation(%d)", uint8(c))
}

// ConsolidateSteps aligns raw samples to n steps: the value of step i,
// whose timestamp is t = start + i*step, combines with cf the samples in
// the left-open interval (t - step, t], and is NaN when the interval has
// none. NaN samples are skipped. pts must be sorted by time. The result
// is appended to dst[:0], so callers reuse one buffer across series.
func ConsolidateSteps(dst []float64, pts []FPoint, start, step int64, n int, cf Consolidation) []float64 {
	dst = dst[:0]
	j := 0
	for j < len(pts) && pts[j].T <= start-step {
		j++
	}
	for i := range n {
		t := start + int64(i)*step
		v, cnt := math.NaN(), 0
		for ; j < len(pts) && pts[j].T <= t; j++ {
			f := pts[j].F
			if math.IsNaN(f) {
				continue
			}
			if cnt == 0 {
				v = f
			} else {
				switch cf {
				case ConsolidateAvg, ConsolidateSum:
					v += f
				case ConsolidateMin:
					v = math.Min(v, f)
				case ConsolidateMax:
					v = math.Max(v, f)
				}
			}
			cnt++
		}
		if cf == ConsolidateAvg && cnt > 1 {
			v /= float64(cnt)
		}
		dst = append(dst, v)
	}
	return dst
}

// StepAggregator folds step-aligned series into one, step by step, with
// the engine's aggregation arithmetic (Kahan-compensated sums, an
// incremental mean once a sum overflows). NaN values are missing data
// and are skipped, as Atlas's aggregates do; a step that no series had a
// value for aggregates to NaN (count included: Atlas counts the series
// with a value). It is not safe for concurrent use.
type StepAggregator struct {
	op     parser.ItemType
	states []aggState
}

// NewStepAggregator returns an aggregator of n steps for op, one of
// "sum", "count", "min", "max", "avg" and "stddev".
func NewStepAggregator(op string, n int) (*StepAggregator, error) {
	var it parser.ItemType
	switch op {
	case "sum":
		it = parser.SUM
	case "count":
		it = parser.COUNT
	case "min":
		it = parser.MIN
	case "max":
		it = parser.MAX
	case "avg":
		it = parser.AVG
	case "stddev":
		it = parser.STDDEV
	default:
		return nil, fmt.Errorf("unknown aggregation %q", op)
	}
	return &StepAggregator{op: it, states: make([]aggState, n)}, nil
}

// Add folds one series' values in; len(vals) must be the aggregator's
// number of steps (extra values are ignored, missing ones count as NaN).
func (a *StepAggregator) Add(vals []float64) {
	for i := range min(len(vals), len(a.states)) {
		if v := vals[i]; !math.IsNaN(v) {
			a.states[i].add(a.op, v)
		}
	}
}

// Result appends the aggregate of every step to dst[:0].
func (a *StepAggregator) Result(dst []float64) []float64 {
	dst = dst[:0]
	for i := range a.states {
		g := &a.states[i]
		if !g.seen {
			dst = append(dst, math.NaN())
			continue
		}
		dst = append(dst, g.result(a.op))
	}
	return dst
}
