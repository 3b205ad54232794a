package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// EngineOptions configures an Engine. The zero value is not usable; start
// from DefaultEngineOptions.
type EngineOptions struct {
	// LookbackDelta is how far back an instant vector selector looks for
	// the latest sample of a series. Prometheus' default is 5m.
	LookbackDelta time.Duration
	// SubqueryStep is the resolution of subqueries written without a step
	// (`x[1h:]`); Prometheus uses its global evaluation interval, 1m by
	// default.
	SubqueryStep time.Duration
	// MaxSamples caps the samples one query may decode from storage; 0
	// means no limit. It protects the process from a query that would read
	// the whole store.
	MaxSamples int
	// MaxSeries caps the series one query may select; 0 means no limit.
	MaxSeries int
	// Timeout bounds one query's evaluation; 0 means only the caller's
	// context applies.
	Timeout time.Duration
	// Logger receives the query log; nil disables it.
	Logger *slog.Logger
	// SlowQueryThreshold is the evaluation time from which a query is
	// logged (at Info level, with series touched and samples decoded).
	// Zero logs every query, which is useful when debugging.
	SlowQueryThreshold time.Duration
	// Now returns the current time; it is the default evaluation time of
	// the HTTP API. Tests inject a fixed clock.
	Now func() time.Time
	// Parallelism is how many goroutines one query may use to decode a
	// selector's series and compute a range function over them (rate,
	// *_over_time, ...): the bulk of most queries' work. Zero means
	// GOMAXPROCS; 1 keeps each query on the caller's goroutine.
	Parallelism int
}

// DefaultEngineOptions returns Prometheus' defaults plus generous limits.
func DefaultEngineOptions() EngineOptions {
	return EngineOptions{
		LookbackDelta:      5 * time.Minute,
		SubqueryStep:       time.Minute,
		MaxSamples:         50_000_000,
		MaxSeries:          1_000_000,
		Timeout:            2 * time.Minute,
		SlowQueryThreshold: 5 * time.Second,
		Now:                time.Now,
	}
}

// Validate reports the first option that is out of range.
func (o *EngineOptions) Validate() error {
	if o.LookbackDelta <= 0 || o.LookbackDelta%time.Millisecond != 0 {
		return fmt.Errorf("lookback delta %v: must be positive whole milliseconds", o.LookbackDelta)
	}
	if o.SubqueryStep <= 0 || o.SubqueryStep%time.Millisecond != 0 {
		return fmt.Errorf("subquery step %v: must be positive whole milliseconds", o.SubqueryStep)
	}
	if o.MaxSamples < 0 || o.MaxSeries < 0 || o.Timeout < 0 {
		return fmt.Errorf("max samples %d, max series %d, timeout %v: must not be negative", o.MaxSamples, o.MaxSeries, o.Timeout)
	}
	if o.Parallelism < 0 {
		return fmt.Errorf("parallelism %d: must not be negative", o.Parallelism)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Engine evaluates PromQL expressions over a Querier. It is safe for
// concurrent use; every query gets its own evaluator.
type Engine struct {
	q    Querier
	opts EngineOptions

	noFastPaths bool // see evaluator.noFastPaths
	chunkSeries int  // see evaluator.chunkSeries
}

// NewEngine returns an engine reading from q. Invalid options are replaced
// by their defaults field by field, so a partially filled struct works.
func NewEngine(q Querier, opts EngineOptions) *Engine {
	def := DefaultEngineOptions()
	if opts.LookbackDelta <= 0 {
		opts.LookbackDelta = def.LookbackDelta
	}
	if opts.SubqueryStep <= 0 {
		opts.SubqueryStep = def.SubqueryStep
	}
	if opts.Now == nil {
		opts.Now = def.Now
	}
	return &Engine{q: q, opts: opts}
}

// Options returns the engine's options after defaults were applied.
func (ng *Engine) Options() EngineOptions { return ng.opts }

// Errors a query can fail with. The HTTP API maps them to Prometheus'
// error types; check them with errors.Is.
var (
	// ErrTooManySamples: the query decoded more samples than MaxSamples.
	ErrTooManySamples = errors.New("query processing would load too many samples into memory")
	// ErrTooManySeries: the query selected more series than MaxSeries.
	ErrTooManySeries = errors.New("query selects too many series")
	// ErrTimeout: the query ran longer than its timeout.
	ErrTimeout = errors.New("query timed out")
	// ErrCanceled: the caller canceled the query.
	ErrCanceled = errors.New("query was canceled")
	// ErrNativeHistograms: the expression needs native histograms, which
	// Stratus does not store.
	ErrNativeHistograms = errors.New("native histograms are not supported")
)

// ParseError is a syntax or type error in the expression, reported with
// its position by the Prometheus parser. The HTTP API answers it with
// bad_data.
type ParseError struct{ Err error }

func (e *ParseError) Error() string { return e.Err.Error() }
func (e *ParseError) Unwrap() error { return e.Err }

// Stats counts the work of one query; the query log reports it.
type Stats struct {
	Series        int           // series selected from storage
	Samples       int           // samples decoded from storage
	EvalTime      time.Duration // time spent evaluating
	ResultSeries  int           // series (or samples) in the result
	ResultSamples int           // points in the result
}

// Result is the outcome of a query: a Vector, Matrix, Scalar or String, and
// the warnings Prometheus would attach.
type Result struct {
	Value    Value
	Warnings []string
	Stats    Stats
}

// Close hands the result's point arrays back to the engine for later
// queries to reuse, and empties the result, which must not be used
// afterwards. Calling it is optional: it spares the allocator and the
// garbage collector when the caller is done with a large result (the
// HTTP API calls it once the answer is written), as Prometheus' own
// Query.Close does.
func (r *Result) Close() {
	if m, ok := r.Value.(Matrix); ok {
		recycleMatrix(m)
	}
	r.Value = nil
}

// engineParser accepts the experimental functions we implement
// (double_exponential_smoothing, mad_over_time, limitk, ...); the shared
// promql parser stays conservative for selectors.
var engineParser = parser.NewParser(parser.Options{
	EnableExperimentalFunctions: true,
	Functions:                   supportedParserFunctions(),
})

// supportedParserFunctions is the parser's function table minus the
// experimental functions the engine does not implement, so that using them
// is a positioned parse error instead of a failure at evaluation.
func supportedParserFunctions() map[string]*parser.Function {
	fs := make(map[string]*parser.Function, len(parser.Functions))
	for name, f := range parser.Functions {
		if _, ok := functions[name]; ok || specialFunctions[name] {
			fs[name] = f
		}
	}
	return fs
}

// ParseExpr parses a PromQL expression with the engine's parser.
func ParseExpr(qs string) (parser.Expr, error) {
	expr, err := engineParser.ParseExpr(qs)
	if err != nil {
		return nil, &ParseError{Err: err}
	}
	return expr, nil
}

// Instant evaluates qs at ts.
func (ng *Engine) Instant(ctx context.Context, qs string, ts time.Time) (*Result, error) {
	return ng.exec(ctx, qs, ts.UnixMilli(), ts.UnixMilli(), 0)
}

// Range evaluates qs at every step from start to end inclusive. The
// expression must yield an instant vector or a scalar.
func (ng *Engine) Range(ctx context.Context, qs string, start, end time.Time, step time.Duration) (*Result, error) {
	if step <= 0 {
		return nil, &ParseError{Err: fmt.Errorf("step %v: must be positive", step)}
	}
	return ng.exec(ctx, qs, start.UnixMilli(), end.UnixMilli(), step.Milliseconds())
}

func (ng *Engine) exec(ctx context.Context, qs string, start, end, step int64) (res *Result, err error) {
	began := time.Now()
	expr, err := ParseExpr(qs)
	if err != nil {
		return nil, err
	}
	if step > 0 {
		if t := expr.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
			return nil, &ParseError{Err: fmt.Errorf("invalid expression type %q for range query, must be Scalar or instant Vector", parser.DocumentedType(t))}
		}
	}
	if err := preprocess(expr, start, end, step); err != nil {
		return nil, &ParseError{Err: err}
	}
	if ng.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ng.opts.Timeout)
		defer cancel()
	}
	interval := step
	if interval == 0 {
		interval = 1
	}
	ev := &evaluator{
		ctx:          ctx,
		q:            ng.q,
		start:        start,
		end:          end,
		interval:     interval,
		lookback:     ng.opts.LookbackDelta.Milliseconds(),
		subqueryStep: ng.opts.SubqueryStep.Milliseconds(),
		limits:       &ng.opts,
		stats:        &Stats{},
		warnings:     map[string]bool{},
		noFastPaths:  ng.noFastPaths,
		parallelism:  ng.opts.Parallelism,
		chunkSeries:  ng.chunkSeries,
	}
	if ev.parallelism <= 0 {
		ev.parallelism = runtime.GOMAXPROCS(0)
	}
	defer func() {
		ev.stats.EvalTime = time.Since(began)
		ng.logQuery(qs, start, end, step, ev.stats, err)
	}()
	val, err := ev.run(expr)
	if err != nil {
		return nil, err
	}
	res = &Result{Value: val, Warnings: ev.warningList()}
	if step == 0 {
		res.Value = instantResult(expr, val, start)
	} else if m, ok := val.(Matrix); ok {
		slices.SortFunc(m, func(a, b Series) int { return model.Compare(a.Metric, b.Metric) })
	}
	res.Stats = *ev.stats
	switch v := res.Value.(type) {
	case Vector:
		res.Stats.ResultSeries, res.Stats.ResultSamples = len(v), len(v)
	case Matrix:
		res.Stats.ResultSeries = len(v)
		for _, s := range v {
			res.Stats.ResultSamples += len(s.Floats)
		}
	}
	return res, nil
}

// instantResult turns the one-step matrix an instant evaluation produces
// into the value type of the expression, keeping the evaluation order (it
// matters for sort() and topk()).
func instantResult(expr parser.Expr, val Value, ts int64) Value {
	m, ok := val.(Matrix)
	if !ok {
		return val
	}
	switch expr.Type() {
	case parser.ValueTypeVector:
		vec := make(Vector, 0, len(m))
		for _, s := range m {
			if len(s.Floats) > 0 {
				vec = append(vec, Sample{Metric: s.Metric, T: ts, F: s.Floats[0].F})
			}
		}
		return vec
	case parser.ValueTypeScalar:
		if len(m) == 0 || len(m[0].Floats) == 0 {
			return Scalar{T: ts, V: math.NaN()}
		}
		return Scalar{T: ts, V: m[0].Floats[0].F}
	case parser.ValueTypeMatrix:
		slices.SortFunc(m, func(a, b Series) int { return model.Compare(a.Metric, b.Metric) })
	}
	return m
}

func (ng *Engine) logQuery(qs string, start, end, step int64, st *Stats, err error) {
	if ng.opts.Logger == nil || st.EvalTime < ng.opts.SlowQueryThreshold {
		return
	}
	attrs := []any{
		"query", qs,
		"start", time.UnixMilli(start).UTC(),
		"end", time.UnixMilli(end).UTC(),
		"step", time.Duration(step) * time.Millisecond,
		"series", st.Series,
		"samples", st.Samples,
		"duration", st.EvalTime,
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	ng.opts.Logger.Info("slow query", attrs...)
}

// preprocess resolves what depends on the query's time range before
// evaluation: `@ start()` and `@ end()`, and duration expressions such as
// `[5m + step()]`.
func preprocess(expr parser.Expr, start, end, step int64) error {
	dv := durationEvaluator{step: float64(step) / 1000, rng: float64(end-start) / 1000}
	return parser.Walk(visitFunc(func(node parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			resolveAt(&n.Timestamp, n.StartOrEnd, start, end)
			if n.OriginalOffsetExpr != nil {
				d, err := dv.duration(n.OriginalOffsetExpr, true)
				if err != nil {
					return err
				}
				n.OriginalOffset = d
			}
		case *parser.MatrixSelector:
			if n.RangeExpr != nil {
				d, err := dv.duration(n.RangeExpr, false)
				if err != nil {
					return err
				}
				n.Range = d
			}
		case *parser.SubqueryExpr:
			resolveAt(&n.Timestamp, n.StartOrEnd, start, end)
			for _, f := range []struct {
				e        *parser.DurationExpr
				dst      *time.Duration
				negative bool
			}{{n.OriginalOffsetExpr, &n.OriginalOffset, true}, {n.StepExpr, &n.Step, false}, {n.RangeExpr, &n.Range, false}} {
				if f.e == nil {
					continue
				}
				d, err := dv.duration(f.e, f.negative)
				if err != nil {
					return err
				}
				*f.dst = d
			}
		}
		return nil
	}), expr, nil)
}

func resolveAt(ts **int64, startOrEnd parser.ItemType, start, end int64) {
	switch startOrEnd {
	case parser.START:
		*ts = &start
	case parser.END:
		*ts = &end
	}
}

type visitFunc func(parser.Node) error

func (f visitFunc) Visit(node parser.Node, _ []parser.Node) (parser.Visitor, error) {
	if node == nil {
		return nil, nil
	}
	return f, f(node)
}

// durationEvaluator computes duration expressions in seconds, the way
// Prometheus does before evaluation.
type durationEvaluator struct{ step, rng float64 }

func (d durationEvaluator) duration(e parser.Expr, allowNegative bool) (time.Duration, error) {
	v, err := d.eval(e)
	if err != nil {
		return 0, err
	}
	pr := e.PositionRange()
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%d:%d: duration is NaN or infinite", pr.Start, pr.End)
	case v <= 0 && !allowNegative:
		return 0, fmt.Errorf("%d:%d: duration must be greater than 0", pr.Start, pr.End)
	case v > 1<<63/1e9 || v < -(1<<63)/1e9:
		return 0, fmt.Errorf("%d:%d: duration is out of range", pr.Start, pr.End)
	}
	return time.Duration(v*1000) * time.Millisecond, nil
}

func (d durationEvaluator) eval(e parser.Expr) (float64, error) {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val, nil
	case *parser.ParenExpr:
		return d.eval(n.Expr)
	case *parser.DurationExpr:
		var l, r float64
		var err error
		if n.LHS != nil {
			if l, err = d.eval(n.LHS); err != nil {
				return 0, err
			}
		}
		if n.RHS != nil {
			if r, err = d.eval(n.RHS); err != nil {
				return 0, err
			}
		}
		pr := e.PositionRange()
		switch n.Op {
		case parser.STEP:
			return d.step, nil
		case parser.RANGE:
			return d.rng, nil
		case parser.MIN_OF:
			return math.Min(l, r), nil
		case parser.MAX_OF:
			return math.Max(l, r), nil
		case parser.ADD:
			return l + r, nil
		case parser.SUB:
			if n.LHS == nil {
				return -r, nil
			}
			return l - r, nil
		case parser.MUL:
			return l * r, nil
		case parser.DIV:
			if r == 0 {
				return 0, fmt.Errorf("%d:%d: division by zero", pr.Start, pr.End)
			}
			return l / r, nil
		case parser.MOD:
			if r == 0 {
				return 0, fmt.Errorf("%d:%d: modulo by zero", pr.Start, pr.End)
			}
			return math.Mod(l, r), nil
		case parser.POW:
			return math.Pow(l, r), nil
		}
		return 0, fmt.Errorf("unexpected duration expression operator %q", n.Op)
	}
	return 0, fmt.Errorf("unexpected duration expression %T", e)
}

// FormatFloat renders a sample value the way the Prometheus API does.
func FormatFloat(f float64) string {
	return string(appendFloat(nil, f))
}

func appendFloat(dst []byte, f float64) []byte {
	fmtc := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		fmtc = 'e'
	}
	return strconv.AppendFloat(dst, f, fmtc, -1, 64)
}
