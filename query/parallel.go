package query

import (
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/stratus-metrics/stratus/model"
)

// Parallel evaluation of a range function over a selector: reading a
// series (decoding its samples) and computing the function at every step
// is the bulk of a query such as sum by (code) (rate(x[5m])), and each
// series is independent, so workers do it for consecutive runs of
// series (chunks) while the query's goroutine consumes the results in
// selection order. What the consumer does (fold into groups, heaps) and
// every check it makes (limits, errors) therefore happen in the same
// order as on one goroutine, and the result is identical.
//
// Chunk c goes to worker c mod W, and each worker owns chunkDepth chunk
// buffers: the consumer refills the buffer of the chunk it has just
// consumed with the series of chunk c + W*chunkDepth, which belongs to the
// same worker. Memory stays W*chunkDepth chunks whatever the selection's
// size.

// chunkDepth is how many chunks each worker has in flight: one it
// computes while the consumer reads the other.
const chunkDepth = 2

// valueChunk is a run of consecutive series and, once a worker has
// computed it, their function values.
type valueChunk struct {
	in     []model.Series // filled by the consumer
	series []chunkSeries  // filled by the worker, one per series read
	vals   []FPoint
	err    error // the worker's failure at series len(series)
}

// chunkSeries is one computed series of a chunk.
type chunkSeries struct {
	ls       model.Labels
	samples  int // samples decoded
	from, to int // its values: vals[from:to]
}

// valueWorker computes chunks on its own goroutine with its own copies of
// the evaluator's and the call's scratch state.
type valueWorker struct {
	ev  evaluator
	rc  rangeCall
	c   callCtx
	r   seriesReader
	in  chan *valueChunk
	out chan *valueChunk
}

// chunkSeriesFor returns how many series a chunk holds for n steps: about
// a thousand values, so that a chunk is some tens of microseconds of work
// and its buffer some kilobytes.
func (ev *evaluator) chunkSeriesFor(n int) int {
	if ev.chunkSeries > 0 {
		return ev.chunkSeries
	}
	return max(4, min(64, 1024/n))
}

// eachValuesParallel is eachValues for a selector on up to
// ev.parallelism workers. It falls back to the caller's goroutine alone
// when the selection is too small to split.
func (rc *rangeCall) eachValuesParallel(fn func(ls model.Labels, vals []FPoint)) {
	ev, sel := rc.ev, rc.rs.sel
	set := ev.selectSet(sel.pms, sel.mint, sel.maxt)
	per := ev.chunkSeriesFor(ev.numSteps())

	// The first chunks are read before any worker starts: a selection of
	// a single chunk is computed here, without goroutines.
	var pending []*valueChunk
	exhausted := false
	fill := func(ch *valueChunk) bool {
		ch.in = ch.in[:0]
		for !exhausted && len(ch.in) < per {
			if !set.Next() {
				exhausted = true
				ev.checkSetErr(set, sel.pms)
				break
			}
			ch.in = append(ch.in, set.At())
		}
		return len(ch.in) > 0
	}
	defer func() {
		// After the workers have stopped (deferred below, so run before).
		for _, ch := range pending {
			putValueChunk(ch)
		}
	}()
	for len(pending) < ev.parallelism*chunkDepth {
		ch := getValueChunk()
		pending = append(pending, ch)
		if !fill(ch) {
			break
		}
	}
	if n := len(pending); len(pending[n-1].in) == 0 {
		putValueChunk(pending[n-1])
		pending = pending[:n-1]
	}
	workers := min(ev.parallelism, len(pending))
	if workers < 2 {
		var w valueWorker
		w.init(rc)
		for _, ch := range pending {
			w.compute(ch)
			consumeChunk(ev, ch, fn)
		}
		return
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	ws := make([]*valueWorker, workers)
	for i := range ws {
		w := &valueWorker{in: make(chan *valueChunk, chunkDepth), out: make(chan *valueChunk, chunkDepth)}
		w.init(rc)
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(stop)
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	// Chunk c is pending[c % len(pending)] until consumed; the first
	// len(pending) chunks go out at once.
	dispatched := len(pending)
	for c, ch := range pending {
		ws[c%workers].in <- ch
	}
	for c := 0; c < dispatched; c++ {
		w := ws[c%workers]
		ch := <-w.out
		consumeChunk(ev, ch, fn)
		if fill(ch) {
			w.in <- ch // chunk dispatched, also worker c mod W's
			dispatched++
		}
	}
}

// consumeChunk counts a computed chunk's series and samples against the
// limits and hands their values to fn, in order, then reports the
// worker's failure if it stopped early.
func consumeChunk(ev *evaluator, ch *valueChunk, fn func(model.Labels, []FPoint)) {
	for _, cs := range ch.series {
		ev.countSeries(1)
		ev.countSamples(cs.samples)
		if cs.to > cs.from {
			fn(cs.ls, ch.vals[cs.from:cs.to])
		}
	}
	if ch.err != nil {
		ev.fail(ch.err)
	}
}

// init gives the worker its own copies of what computing values writes:
// the evaluator's step counter, the call context and rate's scratch.
func (w *valueWorker) init(rc *rangeCall) {
	w.ev = *rc.ev
	w.ev.stats, w.ev.warnings = &Stats{}, map[string]bool{}
	w.rc = *rc
	w.rc.ev = &w.ev
	w.c = *rc.c
	w.c.params = slices.Clone(rc.c.params)
	w.rc.c = &w.c
	w.rc.resets = nil
}

func (w *valueWorker) run(stop <-chan struct{}) {
	for {
		var ch *valueChunk
		select {
		case ch = <-w.in:
		case <-stop:
			return
		}
		w.compute(ch)
		select {
		case w.out <- ch:
		case <-stop:
			return
		}
	}
}

// compute reads the chunk's series and computes their values. A failure
// (an evaluation error, the query's deadline, a bug) is recorded in the
// chunk, for the consumer to report after the series before it.
func (w *valueWorker) compute(ch *valueChunk) {
	ch.series, ch.vals, ch.err = ch.series[:0], ch.vals[:0], nil
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if e, ok := r.(evalError); ok {
			ch.err = e.err
			return
		}
		ch.err = fmt.Errorf("BUG: unexpected error computing %s(): %v\n%s", w.rc.call.Func.Name, r, debug.Stack())
	}()
	for _, s := range ch.in {
		w.ev.checkContext()
		pts, err := w.r.read(s, false)
		if err != nil {
			w.ev.fail(fmt.Errorf("read series %s: %w", s.Labels(), err))
		}
		from := len(ch.vals)
		ch.vals = w.rc.points(ch.vals, pts)
		ch.series = append(ch.series, chunkSeries{ls: s.Labels(), samples: len(pts), from: from, to: len(ch.vals)})
	}
}
