package ingest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/stratus-metrics/stratus/model"
)

// Appender stores a batch. It is the only way ingest reaches the store; the
// tsdb's *DB satisfies it and cmd/ wires it in.
//
// A non-nil error means nothing of the batch was acknowledged (a storage
// failure such as a failed WAL write): the handler answers 503 so that
// clients retry. Per-sample and per-series rejections (out of order, too
// old, series limit, invalid) come back in AppendResult.Rejections (the
// first model.MaxRejections detailed) and its counts; the good rows of the
// batch are stored. The batch slices, and the strings they hold, may be
// reused by the caller after Append returns, so an Appender copies what it
// keeps. Append is called concurrently from many requests.
type Appender interface {
	Append(batch []model.TimeSeries) (model.AppendResult, error)
}

// pool is a typed sync.Pool.
type pool[T any] struct{ p sync.Pool }

func (p *pool[T]) get() *T {
	if v := p.p.Get(); v != nil {
		return v.(*T)
	}
	return new(T)
}

func (p *pool[T]) put(v *T) { p.p.Put(v) }

// request is the state of one ingest request: its buffers, the batch being
// built, and what happened to its rows. It is pooled, so that steady-state
// requests reuse the arenas of earlier ones.
type request struct {
	h      *Handler
	format string
	nowMs  int64
	// minT and maxT are the timestamp window; samples outside it are
	// rejected before they reach the store.
	minT, maxT int64

	raw []byte // the body as read
	dec []byte // the body decompressed

	// The batch and the arenas its series slice into. A series' labels and
	// samples are contiguous in labels/samples; start* mark the series
	// being built.
	batch       []model.TimeSeries
	origins     []int // per batch series: the row it came from, for messages
	labels      []model.Label
	samples     []model.Sample
	labelStart  int
	sampleStart int
	// labelsASCII is set by a decoder that found every label string of the
	// series being built to be ASCII, so validation need not check UTF-8.
	labelsASCII bool
	// symbolsASCII is set by the remote write 2.0 decoder when every
	// symbol of the request is ASCII.
	symbolsASCII bool
	seriesInReq  int
	stopDecoding bool // a storage error or the per-request series limit ended the request

	// rowKind names a row in messages: "timeseries", "line", "metrics".
	rowKind string

	// Outcome.
	received   int
	accepted   int
	rejected   int
	rejectedBy map[string]int
	errs       []string // the first Config.MaxErrorsReported messages
	nErrs      int      // rows rejected, detailed or not
	storageErr error
	limited    bool // the store answered model.ErrSeriesLimit or model.ErrRateLimited
	limitMsg   string

	// Scratch space for decoders.
	symbols []string
	scratch []byte
	// arena holds strings decoders build (see concat) until the request
	// is done.
	arena []byte
	// textBody is a text body with the last newline its parser wants.
	textBody []byte
	// json parses Atlas payloads; atlasCommon holds a payload's common
	// tags. Both alias the parser's copy of the body.
	json        fastjson.Parser
	atlasCommon []model.Label

	// Series references (refcache.go), when useRefs: refKeys parallels
	// batch with each series' key, and refs with the references handed
	// to AppendRefs. seriesKey is the hash of the label bytes of the
	// series being built, when seriesKeyOK.
	useRefs     bool
	refs        []uint64
	refKeys     []pendingRef
	seriesKey   refKey
	seriesKeyOK bool
}

func (h *Handler) newRequest(format, rowKind string) *request {
	r := h.requests.get()
	r.h = h
	r.format = format
	r.rowKind = rowKind
	now := h.now()
	r.nowMs = now.UnixMilli()
	r.minT, r.maxT = minInt64, maxInt64
	if h.cfg.MaxSampleAge > 0 {
		r.minT = now.Add(-h.cfg.MaxSampleAge).UnixMilli()
	}
	if h.cfg.MaxSampleFuture > 0 {
		r.maxT = now.Add(h.cfg.MaxSampleFuture).UnixMilli()
	}
	if r.rejectedBy == nil {
		r.rejectedBy = make(map[string]int)
	}
	return r
}

const (
	minInt64 = -1 << 63
	maxInt64 = 1<<63 - 1
)

// maxPooledBytes keeps one huge request from pinning its buffers forever.
const maxPooledBytes = 32 << 20

// release clears the request, dropping references to strings of this
// request so the pool does not keep them alive, and returns it to the pool.
func (r *request) release() {
	clear(r.batch[:cap(r.batch)])
	clear(r.labels[:cap(r.labels)])
	clear(r.symbols[:cap(r.symbols)])
	clear(r.atlasCommon[:cap(r.atlasCommon)])
	clear(r.rejectedBy)
	*r = request{
		arena:       r.arena[:0],
		textBody:    r.textBody[:0],
		json:        r.json,
		atlasCommon: r.atlasCommon[:0],
		raw:         r.raw[:0],
		dec:         r.dec[:0],
		batch:       r.batch[:0],
		origins:     r.origins[:0],
		labels:      r.labels[:0],
		samples:     r.samples[:0],
		symbols:     r.symbols[:0],
		scratch:     r.scratch[:0],
		errs:        r.errs[:0],
		rejectedBy:  r.rejectedBy,
		refs:        r.refs[:0],
		refKeys:     r.refKeys[:0],
		h:           r.h,
	}
	if cap(r.raw) > maxPooledBytes {
		r.raw = nil
	}
	if cap(r.arena) > maxPooledBytes {
		r.arena = nil
	}
	if cap(r.textBody) > maxPooledBytes {
		r.textBody = nil
	}
	if cap(r.dec) > maxPooledBytes {
		r.dec = nil
	}
	h := r.h
	r.h = nil
	h.requests.put(r)
}

// startSeries begins a series; labels and samples added until finishSeries
// or abortSeries belong to it.
func (r *request) startSeries() {
	r.labelStart = len(r.labels)
	r.sampleStart = len(r.samples)
	r.labelsASCII = false
	r.seriesKeyOK = false
}

func (r *request) addLabel(name, value string) {
	r.labels = append(r.labels, model.Label{Name: name, Value: value})
}

// setLabel adds a label to the series being built, replacing one of the
// same name (extra labels of the text import override the payload's).
func (r *request) setLabel(name, value string) {
	for i := r.labelStart; i < len(r.labels); i++ {
		if r.labels[i].Name == name {
			r.labels[i].Value = value
			return
		}
	}
	r.addLabel(name, value)
}

// concat returns a + sep + b without allocating a string per call: the
// bytes go to the request's arena, which the strings alias. The arena only
// grows within a request (a full one is replaced, not overwritten), so
// every string it returned stays valid until the request is released.
func (r *request) concat(a, sep, b string) string {
	n := len(a) + len(sep) + len(b)
	if n == 0 {
		return ""
	}
	if cap(r.arena)-len(r.arena) < n {
		r.arena = make([]byte, 0, max(n, 2*cap(r.arena), 16<<10))
	}
	start := len(r.arena)
	r.arena = append(append(append(r.arena, a...), sep...), b...)
	return unsafe.String(&r.arena[start], n)
}

func (r *request) addSample(t int64, v float64) {
	r.samples = append(r.samples, model.Sample{T: t, V: v})
}

// seriesSamples is the number of samples of the series being built.
func (r *request) seriesSamples() int { return len(r.samples) - r.sampleStart }

// abortSeries drops the series being built.
func (r *request) abortSeries() {
	r.labels = r.labels[:r.labelStart]
	r.samples = r.samples[:r.sampleStart]
}

// rejectSeries drops the series being built and reports it: row names its
// position, reason is the metrics label and err says what was wrong.
func (r *request) rejectSeries(row int, reason string, err error) {
	n := max(r.seriesSamples(), 1)
	r.received += n
	ls := model.Labels(r.labels[r.labelStart:])
	ls.Sort() // For a readable, deterministic message; the labels are dropped next.
	r.reject(n, reason, "%s: %s: %v", r.rowName(row), describe(ls), err)
	r.abortSeries()
}

// rejectRow reports a row that did not become a series (a line that did not
// parse, a metric of the wrong type), counting n samples.
func (r *request) rejectRow(row, n int, reason string, err error) {
	r.received += n
	r.reject(n, reason, "%s: %v", r.rowName(row), err)
}

func (r *request) rowName(row int) string {
	if r.rowKind == "line" {
		return fmt.Sprintf("line %d", row)
	}
	return fmt.Sprintf("%s[%d]", r.rowKind, row)
}

// reject counts n rejected samples and keeps the message if there is room.
func (r *request) reject(n int, reason, format string, args ...any) {
	r.rejected += n
	r.rejectedBy[reason] += n
	r.nErrs++
	if len(r.errs) < r.h.cfg.MaxErrorsReported {
		r.errs = append(r.errs, fmt.Sprintf(format, args...))
	}
}

// finishSeries validates the series being built and adds it to the batch,
// flushing a full batch to the store. A series with bad labels is rejected
// whole; samples outside the timestamp window are rejected one by one.
func (r *request) finishSeries(row int) {
	if r.stopDecoding {
		r.abortSeries()
		return
	}
	if max := r.h.cfg.MaxSeriesPerRequest; max > 0 && r.seriesInReq >= max {
		r.rejectSeries(row, reasonLimit, fmt.Errorf("request has more than %d series (MaxSeriesPerRequest); this and later series were not stored", max))
		r.stopDecoding = true
		return
	}
	r.seriesInReq++
	// Labels are validated even for a series with a reference: the store
	// falls back to them if the reference's series is gone.
	ls, err := r.h.validateLabels(model.Labels(r.labels[r.labelStart:]), r.labelsASCII)
	if err != nil {
		reason := reasonInvalidLabels
		var le *limitError
		if errors.As(err, &le) {
			reason = reasonLimit
		}
		r.rejectSeries(row, reason, err)
		return
	}
	r.labels = r.labels[:r.labelStart+len(ls)]

	// Drop samples outside the window, compacting in place.
	samples := r.samples[r.sampleStart:]
	kept := samples[:0]
	for i, s := range samples {
		switch {
		case s.T < r.minT:
			r.received++
			r.reject(1, reasonTooOld, "%s: %s: sample %d: timestamp %s is older than the accepted window of %v (MaxSampleAge)", r.rowName(row), describe(ls), i, fmtMillis(s.T), r.h.cfg.MaxSampleAge)
		case s.T > r.maxT:
			r.received++
			r.reject(1, reasonTooNew, "%s: %s: sample %d: timestamp %s is more than %v in the future (MaxSampleFuture)", r.rowName(row), describe(ls), i, fmtMillis(s.T), r.h.cfg.MaxSampleFuture)
		default:
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		r.abortSeries()
		return
	}
	r.received += len(kept)
	r.samples = r.samples[:r.sampleStart+len(kept)]
	r.batch = append(r.batch, model.TimeSeries{
		Labels:  ls[:len(ls):len(ls)],
		Samples: kept[:len(kept):len(kept)],
	})
	r.origins = append(r.origins, row)
	if r.useRefs {
		r.refKeys = append(r.refKeys, pendingRef{key: r.seriesKey, keyed: r.seriesKeyOK})
	}
	if len(r.batch) >= r.h.cfg.BatchSeries {
		r.flush()
	}
}

// flush hands the batch to the store and records its answer.
func (r *request) flush() {
	if len(r.batch) == 0 {
		return
	}
	defer func() {
		clear(r.batch)
		r.batch = r.batch[:0]
		r.origins = r.origins[:0]
		r.labels = r.labels[:0]
		r.samples = r.samples[:0]
		r.refs = r.refs[:0]
		r.refKeys = r.refKeys[:0]
	}()
	var (
		res model.AppendResult
		err error
	)
	if r.useRefs {
		r.h.refs.lookup(r.refKeys)
		for _, p := range r.refKeys {
			r.refs = append(r.refs, p.ref)
		}
		if res, err = r.h.refApp.AppendRefs(r.batch, r.refs); err == nil {
			r.h.refs.store(r.refKeys, r.refs)
		}
	} else {
		res, err = r.h.app.Append(r.batch)
	}
	if err != nil {
		n := 0
		for _, ts := range r.batch {
			n += len(ts.Samples)
		}
		r.rejected += n
		r.rejectedBy[reasonStorage] += n
		r.storageErr = err
		r.stopDecoding = true
		r.h.log.Error("ingest: append failed", "format", r.format, "series", len(r.batch), "samples", n, "err", err)
		return
	}
	r.accepted += res.Accepted
	r.rejected += res.Rejected
	detailed := 0
	for _, rej := range res.Rejections {
		if rej.Series < 0 || rej.Series >= len(r.batch) {
			continue // A store bug; do not let it crash ingest.
		}
		ts := r.batch[rej.Series]
		n := 1
		where := ""
		if rej.Sample < 0 {
			n = len(ts.Samples)
		} else if rej.Sample < len(ts.Samples) {
			s := ts.Samples[rej.Sample]
			where = fmt.Sprintf(": sample at %s", fmtMillis(s.T))
		}
		detailed += n
		reason := storeReason(rej.Err)
		r.rejectedBy[reason] += n
		if (reason == reasonSeriesLimit || reason == reasonRateLimited) && !r.limited {
			r.limited = true
			r.limitMsg = fmt.Sprintf("%s: %s: %v", r.rowName(r.origins[rej.Series]), describe(ts.Labels), rej.Err)
		}
		r.nErrs++
		if len(r.errs) < r.h.cfg.MaxErrorsReported {
			r.errs = append(r.errs, fmt.Sprintf("%s: %s%s: %v", r.rowName(r.origins[rej.Series]), describe(ts.Labels), where, rej.Err))
		}
	}
	if rest := res.Rejected - detailed; rest > 0 {
		r.rejectedBy[reasonOther] += rest
		r.nErrs++ // at least one more row; the store did not say which
	}
}

func storeReason(err error) string {
	switch {
	case errors.Is(err, model.ErrSeriesLimit):
		return reasonSeriesLimit
	case errors.Is(err, model.ErrRateLimited):
		return reasonRateLimited
	case errors.Is(err, model.ErrOutOfOrder):
		return reasonOutOfOrder
	case errors.Is(err, model.ErrTooOld):
		return reasonTooOld
	case errors.Is(err, model.ErrInvalidSeries):
		return reasonInvalidSeries
	}
	return reasonOther
}

// summary joins the detailed errors into one message that says how many
// rows were rejected in all.
func (r *request) summary() string {
	var b strings.Builder
	for i, e := range r.errs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e)
	}
	if more := r.nErrs - len(r.errs); more > 0 {
		fmt.Fprintf(&b, "\n... and %d more rejected rows", more)
	}
	return b.String()
}

// outcome classifies a finished request the same way for every format;
// each format then answers in its own dialect.
type outcome int

const (
	outcomeOK          outcome = iota // everything stored
	outcomePartial                    // some rows rejected, some stored
	outcomeRejected                   // rows rejected and none stored
	outcomeSeriesLimit                // a series or rate limit is reached: 429, retry later
	outcomeStorage                    // the store failed: 503, retry
)

func (r *request) outcome() outcome {
	switch {
	case r.storageErr != nil:
		return outcomeStorage
	case r.limited:
		return outcomeSeriesLimit
	case r.nErrs == 0:
		return outcomeOK
	case r.accepted > 0:
		return outcomePartial
	}
	return outcomeRejected
}
