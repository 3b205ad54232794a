package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"time"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
)

// evaluator evaluates one query over a grid of steps [start, end] spaced by
// interval (an instant query is a grid of one step). Every node evaluates
// to a Matrix holding, per output series, one point per step at which the
// series has a value; rangeEval turns that back into per-step vectors for
// operators and functions.
//
// Storage is read once per selector node: each selected series is decoded
// into a reused buffer covering the whole query range (plus range and
// lookback), and every step is then answered from that buffer.
//
// Evaluation errors abort the walk by panicking with evalError; run
// recovers them, so that deep recursion does not have to thread errors
// through every return.
type evaluator struct {
	ctx                  context.Context
	q                    Querier
	start, end, interval int64
	lookback             int64
	subqueryStep         int64
	limits               *EngineOptions
	stats                *Stats
	warnings             map[string]bool
	steps                int // counts steps to check the context now and then
	// noFastPaths makes every node take the general, step-by-step path;
	// tests compare the fast paths with it.
	noFastPaths bool
	// parallelism is how many goroutines may compute a range function's
	// values over a selector's series (see eachValuesParallel); 1 keeps
	// the query on its own goroutine.
	parallelism int
	chunkSeries int // series per parallel chunk; 0 sizes chunks by steps
}

type evalError struct{ err error }

func (ev *evaluator) errorf(format string, args ...any) {
	panic(evalError{fmt.Errorf(format, args...)})
}

func (ev *evaluator) fail(err error) { panic(evalError{err}) }

func (ev *evaluator) warnf(format string, args ...any) {
	ev.warnings[fmt.Sprintf(format, args...)] = true
}

func (ev *evaluator) warningList() []string {
	out := make([]string, 0, len(ev.warnings))
	for w := range ev.warnings {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

func (ev *evaluator) run(expr parser.Expr) (v Value, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if e, ok := r.(evalError); ok {
			err = e.err
			return
		}
		if re, ok := r.(runtime.Error); ok {
			buf := make([]byte, 8<<10)
			buf = buf[:runtime.Stack(buf, false)]
			err = fmt.Errorf("BUG: unexpected error evaluating %s: %v\n%s", expr, re, buf)
			return
		}
		panic(r)
	}()
	return ev.eval(expr), nil
}

// checkContext aborts the evaluation when the query timed out or was
// canceled.
func (ev *evaluator) checkContext() {
	if err := ev.ctx.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			ev.fail(fmt.Errorf("%w in expression evaluation", ErrTimeout))
		}
		ev.fail(fmt.Errorf("%w in expression evaluation", ErrCanceled))
	}
}

// tick checks the context every 256 steps of a loop, cheap enough for the
// innermost loops.
func (ev *evaluator) tick() {
	ev.steps++
	if ev.steps&255 == 0 {
		ev.checkContext()
	}
}

func (ev *evaluator) numSteps() int { return int((ev.end-ev.start)/ev.interval) + 1 }

func durMs(d time.Duration) int64 { return d.Milliseconds() }

// eval evaluates expr over the evaluator's steps.
func (ev *evaluator) eval(expr parser.Expr) Value {
	ev.checkContext()
	if ev.end < ev.start {
		return Matrix{}
	}
	switch e := expr.(type) {
	case *parser.NumberLiteral:
		return ev.rangeEval(nil, func(_ []Vector, _ [][]int, eh *evalHelper) Vector {
			return append(eh.out, Sample{F: e.Val})
		})
	case *parser.StringLiteral:
		return String{T: ev.start, V: e.Val}
	case *parser.ParenExpr:
		return ev.eval(e.Expr)
	case *parser.StepInvariantExpr:
		return ev.eval(e.Expr)
	case *parser.UnaryExpr:
		mat := ev.eval(e.Expr).(Matrix)
		if e.Op == parser.SUB {
			for i := range mat {
				mat[i].Metric = dropMetricName(mat[i].Metric)
				for j := range mat[i].Floats {
					mat[i].Floats[j].F = -mat[i].Floats[j].F
				}
			}
			mat = ev.mergeSameLabels(mat)
		}
		return mat
	case *parser.VectorSelector:
		if e.Anchored || e.Smoothed {
			ev.errorf("the anchored and smoothed modifiers are not supported")
		}
		return ev.evalVectorSelector(e, false)
	case *parser.MatrixSelector:
		if ev.start != ev.end {
			ev.errorf("BUG: range evaluation of a matrix selector")
		}
		return ev.evalMatrixSelector(e)
	case *parser.SubqueryExpr:
		return ev.runSubquery(e)
	case *parser.Call:
		return ev.evalCall(e)
	case *parser.AggregateExpr:
		return ev.evalAggregate(e)
	case *parser.BinaryExpr:
		return ev.evalBinary(e)
	}
	ev.errorf("unsupported expression %T: %s", expr, expr)
	return nil
}

// sampleBatcher is an iterator over samples already decoded into memory
// (the tsdb's are): the engine takes them as one slice. Remaining is valid
// when Err is nil; the slice belongs to the iterator.
type sampleBatcher interface {
	Remaining() []model.Sample
}

// FPoint has model.Sample's layout (the compiler checks it here), so that
// decoded samples are read as points in place.
var (
	_ [unsafe.Sizeof(FPoint{}) - unsafe.Sizeof(model.Sample{})]struct{}
	_ [unsafe.Sizeof(model.Sample{}) - unsafe.Sizeof(FPoint{})]struct{}
	_ [unsafe.Offsetof(FPoint{}.F) - unsafe.Offsetof(model.Sample{}.V)]struct{}
	_ [unsafe.Offsetof(model.Sample{}.V) - unsafe.Offsetof(FPoint{}.F)]struct{}
)

func samplesAsPoints(s []model.Sample) []FPoint {
	return unsafe.Slice((*FPoint)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// dropStale returns pts without staleness markers: pts itself when it has
// none (the common case, found by one pass over the values), else a copy
// made in buf, which it also returns for reuse.
func dropStale(pts, buf []FPoint) ([]FPoint, []FPoint) {
	i := firstStale(pts)
	if i == len(pts) {
		return pts, buf
	}
	buf = append(buf[:0], pts[:i]...)
	for _, p := range pts[i+1:] {
		if !model.IsStaleNaN(p.F) {
			buf = append(buf, p)
		}
	}
	return buf, buf
}

// firstStale returns the index of the first staleness marker in pts, or
// len(pts). It tests four values per branch: the scan runs over every
// sample a query reads.
func firstStale(pts []FPoint) int {
	i := 0
	for ; i+4 <= len(pts); i += 4 {
		// t - 1 &^ t has its top bit set exactly when t is zero.
		t0 := math.Float64bits(pts[i].F) ^ model.StaleNaNBits
		t1 := math.Float64bits(pts[i+1].F) ^ model.StaleNaNBits
		t2 := math.Float64bits(pts[i+2].F) ^ model.StaleNaNBits
		t3 := math.Float64bits(pts[i+3].F) ^ model.StaleNaNBits
		if ((t0-1)&^t0|(t1-1)&^t1|(t2-1)&^t2|(t3-1)&^t3)>>63 != 0 {
			break
		}
	}
	for ; i < len(pts); i++ {
		if model.IsStaleNaN(pts[i].F) {
			return i
		}
	}
	return i
}

// selectSeries selects the series matching pms with samples in
// [mint, maxt] and calls fn with each and its samples, which fn must
// neither keep nor modify: they are read in place from storage's decoding
// buffer, or from a buffer reused for the next series. Stale markers are
// kept only when keepStale is set.
func (ev *evaluator) selectSeries(pms []*labels.Matcher, mint, maxt int64, keepStale bool, fn func(ls model.Labels, pts []FPoint)) {
	set := ev.selectSet(pms, mint, maxt)
	var r seriesReader
	for set.Next() {
		ev.checkContext()
		s := set.At()
		ev.countSeries(1)
		pts, err := r.read(s, keepStale)
		if err != nil {
			ev.fail(fmt.Errorf("read series %s: %w", s.Labels(), err))
		}
		ev.countSamples(len(pts))
		fn(s.Labels(), pts)
	}
	ev.checkSetErr(set, pms)
}

// selectSet asks storage for the series matching pms in [mint, maxt].
func (ev *evaluator) selectSet(pms []*labels.Matcher, mint, maxt int64) model.SeriesSet {
	ms, err := ConvertMatchers(pms)
	if err != nil {
		ev.fail(err)
	}
	return ev.q.Select(ev.ctx, mint, maxt, ms...)
}

// checkSetErr fails the query when walking set failed.
func (ev *evaluator) checkSetErr(set model.SeriesSet, pms []*labels.Matcher) {
	if err := set.Err(); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			ev.checkContext()
		}
		ev.fail(fmt.Errorf("select %s: %w", matchersString(pms), err))
	}
}

// countSeries adds n selected series to the statistics and enforces
// MaxSeries.
func (ev *evaluator) countSeries(n int) {
	ev.stats.Series += n
	if max := ev.limits.MaxSeries; max > 0 && ev.stats.Series > max {
		ev.fail(fmt.Errorf("%w: more than %d series (max_series); narrow the selectors", ErrTooManySeries, max))
	}
}

// countSamples adds n decoded samples to the statistics and enforces
// MaxSamples.
func (ev *evaluator) countSamples(n int) {
	ev.stats.Samples += n
	if max := ev.limits.MaxSamples; max > 0 && ev.stats.Samples > max {
		ev.fail(fmt.Errorf("%w: more than %d samples decoded (max_samples); shorten the range or narrow the selectors", ErrTooManySamples, max))
	}
}

// seriesReader reads series' samples one series at a time into buffers
// it reuses; a goroutine that reads series has its own.
type seriesReader struct {
	it  model.SampleIterator
	buf []FPoint
}

// read returns the samples of s, which stay valid until the next read
// and must not be modified (see selectSeries).
func (r *seriesReader) read(s model.Series, keepStale bool) ([]FPoint, error) {
	r.it = s.Iterator(r.it)
	if b, ok := r.it.(sampleBatcher); ok {
		// The samples are decoded already: read them without a call per
		// sample, and copy them only to drop stale markers.
		if err := r.it.Err(); err != nil {
			return nil, err
		}
		pts := samplesAsPoints(b.Remaining())
		if !keepStale {
			pts, r.buf = dropStale(pts, r.buf)
		}
		return pts, nil
	}
	r.buf = r.buf[:0]
	for r.it.Next() {
		t, v := r.it.At()
		if !keepStale && model.IsStaleNaN(v) {
			continue
		}
		r.buf = append(r.buf, FPoint{T: t, F: v})
	}
	return r.buf, r.it.Err()
}

func matchersString(pms []*labels.Matcher) string {
	s := "{"
	for i, m := range pms {
		if i > 0 {
			s += ", "
		}
		s += m.String()
	}
	return s + "}"
}

// evalVectorSelector answers an instant vector selector at every step: the
// latest sample in (t - lookback, t], unless it is a staleness marker. With
// timestamps set it yields the sample's timestamp in seconds instead of its
// value and drops the metric name, for timestamp().
func (ev *evaluator) evalVectorSelector(vs *parser.VectorSelector, timestamps bool) Matrix {
	offset := durMs(vs.OriginalOffset)
	from, to := ev.start, ev.end
	if vs.Timestamp != nil {
		from, to = *vs.Timestamp, *vs.Timestamp
	}
	numSteps := ev.numSteps()
	var out Matrix
	ev.selectSeries(vs.LabelMatchers, from-offset-ev.lookback+1, to-offset, true, func(ls model.Labels, pts []FPoint) {
		var floats []FPoint
		j := -1 // index of the latest point at or before the reference time
		for ts := ev.start; ts <= ev.end; ts += ev.interval {
			ev.tick()
			ref := ts - offset
			if vs.Timestamp != nil {
				ref = *vs.Timestamp - offset
			}
			for j+1 < len(pts) && pts[j+1].T <= ref {
				j++
			}
			if j < 0 || pts[j].T <= ref-ev.lookback || model.IsStaleNaN(pts[j].F) {
				continue
			}
			if floats == nil {
				floats = make([]FPoint, 0, numSteps)
			}
			v := pts[j].F
			if timestamps {
				v = float64(pts[j].T) / 1000
			}
			floats = append(floats, FPoint{T: ts, F: v})
		}
		if len(floats) > 0 {
			if timestamps {
				ls = dropMetricName(ls)
			}
			out = append(out, Series{Metric: ls, Floats: floats})
		}
	})
	if timestamps {
		out = ev.mergeSameLabels(out)
	}
	return out
}

// evalMatrixSelector returns the raw samples of a range vector selector at
// the (single) evaluation time: those in the left-open window
// (t - range, t], without staleness markers.
func (ev *evaluator) evalMatrixSelector(ms *parser.MatrixSelector) Matrix {
	vs := ms.VectorSelector.(*parser.VectorSelector)
	if vs.Anchored || vs.Smoothed {
		ev.errorf("the anchored and smoothed modifiers are not supported")
	}
	ref := ev.start
	if vs.Timestamp != nil {
		ref = *vs.Timestamp
	}
	maxt := ref - durMs(vs.OriginalOffset)
	mint := maxt - durMs(ms.Range)
	var out Matrix
	ev.selectSeries(vs.LabelMatchers, mint+1, maxt, false, func(ls model.Labels, pts []FPoint) {
		var floats []FPoint
		for _, p := range pts {
			if p.T > mint && p.T <= maxt {
				floats = append(floats, p)
			}
		}
		if len(floats) > 0 {
			out = append(out, Series{Metric: ls, Floats: floats})
		}
	})
	return out
}

// subqueryTimes returns the grid a subquery is evaluated on: its own step,
// aligned to multiples of the step, covering the outer steps' windows.
func (ev *evaluator) subqueryTimes(e *parser.SubqueryExpr) (start, end, interval int64) {
	offset, rng := durMs(e.OriginalOffset), durMs(e.Range)
	interval = durMs(e.Step)
	if interval == 0 {
		interval = ev.subqueryStep
	}
	from, to := ev.start, ev.start+((ev.end-ev.start)/ev.interval)*ev.interval
	if e.Timestamp != nil {
		from, to = *e.Timestamp, *e.Timestamp
	}
	start = interval * ((from - offset - rng) / interval)
	if start <= from-offset-rng {
		start += interval
	}
	return start, to - offset, interval
}

// runSubquery evaluates the inner expression of a subquery on its own grid
// and returns the points it produced.
func (ev *evaluator) runSubquery(e *parser.SubqueryExpr) Matrix {
	start, end, interval := ev.subqueryTimes(e)
	child := *ev
	child.start, child.end, child.interval = start, end, interval
	res := child.eval(e.Expr)
	ev.steps = child.steps
	return res.(Matrix)
}

// rangeSource yields, for a function with a range-vector argument, each
// input series with all its points in the query range, and how to window
// them per step.
type rangeSource struct {
	offset, rng int64
	at          *int64
	each        func(fn func(ls model.Labels, pts []FPoint))
	// sel is set when the source is a selector, whose series can also be
	// read in parallel (see eachValuesParallel).
	sel *selectorRange
}

// selectorRange is a selector and the time range read for it.
type selectorRange struct {
	pms        []*labels.Matcher
	mint, maxt int64
}

func (ev *evaluator) rangeSourceOf(arg parser.Expr) rangeSource {
	switch a := arg.(type) {
	case *parser.MatrixSelector:
		vs := a.VectorSelector.(*parser.VectorSelector)
		if vs.Anchored || vs.Smoothed {
			ev.errorf("the anchored and smoothed modifiers are not supported")
		}
		rs := rangeSource{offset: durMs(vs.OriginalOffset), rng: durMs(a.Range), at: vs.Timestamp}
		from, to := ev.start, ev.end
		if vs.Timestamp != nil {
			from, to = *vs.Timestamp, *vs.Timestamp
		}
		rs.sel = &selectorRange{pms: vs.LabelMatchers, mint: from - rs.offset - rs.rng + 1, maxt: to - rs.offset}
		rs.each = func(fn func(model.Labels, []FPoint)) {
			ev.selectSeries(rs.sel.pms, rs.sel.mint, rs.sel.maxt, false, fn)
		}
		return rs
	case *parser.SubqueryExpr:
		rs := rangeSource{offset: durMs(a.OriginalOffset), rng: durMs(a.Range), at: a.Timestamp}
		mat := ev.runSubquery(a)
		rs.each = func(fn func(model.Labels, []FPoint)) {
			for _, s := range mat {
				fn(s.Metric, s.Floats)
			}
		}
		return rs
	}
	ev.errorf("BUG: %T is not a range vector", arg)
	return rangeSource{}
}

// evalHelper carries per-node state through the steps of rangeEval.
type evalHelper struct {
	ts      int64
	out     Vector
	numSigs int
	// Scratch reused across steps by binary operators.
	sigSeen  []bool
	rightSig []Sample
	lb       model.Builder
	metrics  map[metricPairKey]model.Labels // see cachedResultMetric
}

// stepFunc computes one step of a node from its arguments' vectors at that
// step; sigs holds, when matching is set, each sample's signature ordinal.
type stepFunc func(args []Vector, sigs [][]int, eh *evalHelper) Vector

// rangeEval evaluates exprs over all steps and calls fn at each step with
// the vectors of their values at that step, assembling fn's results into
// output series. A result holding two samples with the same labels at one
// step is the error Prometheus reports.
func (ev *evaluator) rangeEval(matching *parser.VectorMatching, fn stepFunc, exprs ...parser.Expr) Matrix {
	mats := make([]Matrix, len(exprs))
	for i, e := range exprs {
		if e == nil || e.Type() == parser.ValueTypeString {
			continue
		}
		mats[i] = ev.eval(e).(Matrix)
	}
	return ev.rangeEvalMatrices(matching, fn, mats)
}

// rangeEvalMatrices is rangeEval over arguments evaluated already.
func (ev *evaluator) rangeEvalMatrices(matching *parser.VectorMatching, fn stepFunc, mats []Matrix) Matrix {
	eh := &evalHelper{}
	var seriesSigs [][]int
	if matching != nil {
		seriesSigs, eh.numSigs = signatureOrdinals(matching, mats)
	}
	cursors := make([][]int, len(mats))
	vecs := make([]Vector, len(mats))
	sigs := make([][]int, len(mats))
	for i := range mats {
		cursors[i] = make([]int, len(mats[i]))
		vecs[i] = make(Vector, 0, len(mats[i]))
	}
	type outSeries struct {
		Series
		lastTs int64
	}
	index := map[uint64]*outSeries{}
	var order []*outSeries
	for ts := ev.start; ts <= ev.end; ts += ev.interval {
		ev.tick()
		for i := range mats {
			vecs[i] = vecs[i][:0]
			if sigs[i] != nil {
				sigs[i] = sigs[i][:0]
			}
			for si := range mats[i] {
				s := &mats[i][si]
				c := cursors[i][si]
				if c < len(s.Floats) && s.Floats[c].T == ts {
					vecs[i] = append(vecs[i], Sample{Metric: s.Metric, T: ts, F: s.Floats[c].F})
					cursors[i][si]++
					if seriesSigs != nil {
						sigs[i] = append(sigs[i], seriesSigs[i][si])
					}
				}
			}
		}
		eh.ts = ts
		res := fn(vecs, sigs, eh)
		eh.out = res[:0]
		if ev.start == ev.end {
			if containsSameLabelset(res) {
				ev.errorf("vector cannot contain metrics with the same labelset")
			}
			mat := make(Matrix, len(res))
			for i, s := range res {
				mat[i] = Series{Metric: s.Metric, Floats: []FPoint{{T: ts, F: s.F}}}
			}
			return mat
		}
		for _, s := range res {
			h := s.Metric.Hash()
			os, ok := index[h]
			if ok {
				if os.lastTs == ts {
					ev.errorf("vector cannot contain metrics with the same labelset")
				}
			} else {
				// Room for every remaining step: most series have a
				// value at all of them, and growing by doubling would
				// allocate twice as much.
				os = &outSeries{Series: Series{Metric: s.Metric, Floats: make([]FPoint, 0, int((ev.end-ts)/ev.interval)+1)}}
				index[h] = os
				order = append(order, os)
			}
			os.lastTs = ts
			os.Floats = append(os.Floats, FPoint{T: ts, F: s.F})
		}
	}
	out := make(Matrix, len(order))
	for i, os := range order {
		out[i] = os.Series
	}
	return out
}

func containsSameLabelset(v Vector) bool {
	switch len(v) {
	case 0, 1:
		return false
	case 2:
		return model.Equal(v[0].Metric, v[1].Metric)
	}
	seen := make(map[uint64]struct{}, len(v))
	for _, s := range v {
		h := s.Metric.Hash()
		if _, dup := seen[h]; dup {
			return true
		}
		seen[h] = struct{}{}
	}
	return false
}

// mergeSameLabels merges series that ended up with the same labels (after
// the metric name was dropped) when their points do not overlap in time,
// and fails when they do, as Prometheus does.
func (ev *evaluator) mergeSameLabels(mat Matrix) Matrix {
	if len(mat) <= 1 {
		return mat
	}
	byHash := make(map[uint64]int, len(mat))
	out := mat[:0:0]
	merged := false
	for _, s := range mat {
		h := s.Metric.Hash()
		if i, ok := byHash[h]; ok {
			out[i].Floats = append(slices.Clip(out[i].Floats), s.Floats...)
			merged = true
			continue
		}
		byHash[h] = len(out)
		out = append(out, s)
	}
	if !merged {
		return mat
	}
	for i := range out {
		fs := out[i].Floats
		if !slices.IsSortedFunc(fs, func(a, b FPoint) int { return cmpInt(a.T, b.T) }) {
			sort.SliceStable(fs, func(a, b int) bool { return fs[a].T < fs[b].T })
		}
		for j := 1; j < len(fs); j++ {
			if fs[j].T == fs[j-1].T {
				ev.errorf("vector cannot contain metrics with the same labelset")
			}
		}
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// dropMetricName returns ls without __name__ (and the reserved type and
// unit labels), sharing ls when it has none.
func dropMetricName(ls model.Labels) model.Labels {
	i := slices.IndexFunc(ls, func(l model.Label) bool { return isMetadataLabel(l.Name) })
	if i < 0 {
		return ls
	}
	out := make(model.Labels, 0, len(ls)-1)
	for _, l := range ls {
		if !isMetadataLabel(l.Name) {
			out = append(out, l)
		}
	}
	return out
}

func isMetadataLabel(name string) bool {
	return name == model.MetricName || name == "__type__" || name == "__unit__"
}

// signatureOrdinals numbers the matching signatures of the series of
// mats (the values of the on() labels, or all labels but the ignoring()
// ones and the metric name) in order of appearance, and returns each
// series' ordinal and how many there are.
func signatureOrdinals(m *parser.VectorMatching, mats []Matrix) ([][]int, int) {
	names := slices.Clone(m.MatchingLabels)
	if !m.On {
		names = append(names, model.MetricName, "__type__", "__unit__")
	}
	slices.Sort(names)
	// Group keys are signatures: the kept labels are those found in
	// names (on) or not found (ignoring).
	ords := newGroupIndex(names, !m.On)
	seriesSigs := make([][]int, len(mats))
	for i, mat := range mats {
		seriesSigs[i] = make([]int, len(mat))
		for si, s := range mat {
			seriesSigs[i][si], _ = ords.lookup(s.Metric)
		}
	}
	return seriesSigs, ords.len()
}

// scalarAt returns the value of a scalar argument at step i.
func scalarAt(m Matrix, ts int64) float64 {
	if len(m) == 0 {
		return math.NaN()
	}
	fs := m[0].Floats
	i := sort.Search(len(fs), func(i int) bool { return fs[i].T >= ts })
	if i < len(fs) && fs[i].T == ts {
		return fs[i].F
	}
	return math.NaN()
}
