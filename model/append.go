package model

import (
	"errors"
	"fmt"
)

// Errors an appender reports for samples it rejects. They are wrapped with
// the offending values, so check them with errors.Is.
var (
	// ErrOutOfOrder: the sample is older than the series' newest sample by
	// more than the out-of-order window.
	ErrOutOfOrder = errors.New("out-of-order sample")
	// ErrTooOld: the sample falls in a time window already sealed, or
	// before the retention period.
	ErrTooOld = errors.New("sample too old")
	// ErrSeriesLimit: the series is new and the store holds its maximum
	// number of series.
	ErrSeriesLimit = errors.New("series limit reached")
	// ErrRateLimited: the sender pushes faster than its quota allows;
	// clients should retry later.
	ErrRateLimited = errors.New("ingest rate limit exceeded")
	// ErrInvalidSeries: the label set is malformed.
	ErrInvalidSeries = errors.New("invalid series")
)

// Rejection describes one rejected sample, or a rejected series when
// Sample is -1.
type Rejection struct {
	Series int // index into the batch
	Sample int // index into the series' samples, or -1 for the whole series
	Err    error
}

func (r Rejection) Error() string {
	if r.Sample < 0 {
		return fmt.Sprintf("series %d: %v", r.Series, r.Err)
	}
	return fmt.Sprintf("series %d sample %d: %v", r.Series, r.Sample, r.Err)
}

// MaxRejections caps how many rejections an AppendResult details; the
// counters still count all of them.
const MaxRejections = 32

// AppendResult reports what an Append stored. Accepted + Rejected is the
// number of samples in the batch (a rejected series counts all its samples).
type AppendResult struct {
	Accepted   int
	Rejected   int
	NewSeries  int
	Rejections []Rejection // at most MaxRejections, in batch order
}

// AppendOptions are the optional parts of a store append (tsdb's
// AppendWith): series references, admission of new series, and a label
// rewrite. The zero value is a plain append.
type AppendOptions struct {
	// Refs, when not nil, has one entry per series of the batch: zero, or
	// a reference the store set in an earlier call for the same labels
	// (after Relabel). A series with a reference is appended without
	// reading its labels; the store sets Refs[i] for every series it
	// stored samples of.
	Refs []uint64
	// Admit, when not nil, is asked before a series is created and may
	// reject it (wrap ErrSeriesLimit for quotas). It sees the labels after
	// Relabel and runs under a store lock: it must be fast and must not
	// call back into the store.
	Admit func(Labels) error
	// Relabel, when not nil, rewrites a series' labels before the store
	// looks them up or creates the series: it appends the labels to store
	// to dst, sorted, and returns the result. dst is the store's scratch,
	// not kept after the call. It is not called for a series found by its
	// reference, so a caller whose references name rewritten series (a
	// tenant's scope) pays nothing for the series it has sent before.
	Relabel func(dst []Label, ls Labels) []Label
}

// Reject records a rejection, keeping the details of the first
// MaxRejections.
func (r *AppendResult) Reject(series, sample, n int, err error) {
	r.Rejected += n
	if len(r.Rejections) < MaxRejections {
		r.Rejections = append(r.Rejections, Rejection{Series: series, Sample: sample, Err: err})
	}
}
