package model

// SampleIterator walks the samples of one series in increasing time order.
//
//	for it.Next() { t, v := it.At(); ... }
//	if err := it.Err(); err != nil { ... }
//
// An iterator is not safe for concurrent use.
type SampleIterator interface {
	// Next advances to the next sample and reports whether there is one.
	Next() bool
	// SeekTo advances to the first sample with timestamp >= t and reports
	// whether there is one. It never moves backwards: if the current
	// sample is already at or after t it stays there.
	SeekTo(t int64) bool
	// At returns the current sample. It is valid only after Next or Seek
	// returned true.
	At() (int64, float64)
	// Err returns the first error met, after Next or SeekTo returned false.
	Err() error
}

// Series is a selected series: its labels and a way to read its samples
// within the selection's time range.
type Series interface {
	// Labels returns the series' labels. The caller must not modify them.
	Labels() Labels
	// Iterator returns an iterator over the series' samples. It may reuse
	// it (an iterator returned earlier by the same kind of Series) to save
	// allocations; pass nil when there is none.
	Iterator(reuse SampleIterator) SampleIterator
}

// SeriesSet walks selected series, sorted by labels.
type SeriesSet interface {
	Next() bool
	At() Series
	Err() error
}

// ErrSeriesSet returns a SeriesSet that holds no series and reports err.
func ErrSeriesSet(err error) SeriesSet { return errSeriesSet{err} }

type errSeriesSet struct{ err error }

func (s errSeriesSet) Next() bool { return false }
func (s errSeriesSet) At() Series { return nil }
func (s errSeriesSet) Err() error { return s.err }

// ListSeriesSet returns a SeriesSet over series already in memory, in the
// given order.
func ListSeriesSet(series []Series) SeriesSet { return &listSeriesSet{series: series, i: -1} }

type listSeriesSet struct {
	series []Series
	i      int
}

func (s *listSeriesSet) Next() bool { s.i++; return s.i < len(s.series) }
func (s *listSeriesSet) At() Series { return s.series[s.i] }
func (s *listSeriesSet) Err() error { return nil }

// SliceIterator iterates over samples held in a slice, in order.
type SliceIterator struct {
	Samples []Sample
	i       int
}

// NewSliceIterator returns an iterator over samples, which must be sorted by
// time.
func NewSliceIterator(samples []Sample) *SliceIterator {
	return &SliceIterator{Samples: samples, i: -1}
}

// Reset points the iterator at new samples.
func (it *SliceIterator) Reset(samples []Sample) { it.Samples, it.i = samples, -1 }

func (it *SliceIterator) Next() bool { it.i++; return it.i < len(it.Samples) }

func (it *SliceIterator) SeekTo(t int64) bool {
	if it.i < 0 {
		it.i = 0
	}
	for ; it.i < len(it.Samples); it.i++ {
		if it.Samples[it.i].T >= t {
			return true
		}
	}
	return false
}

// Remaining returns the samples that Next has not yet reached (all of
// them before the first call), without copying, so that a reader that
// wants every sample takes them in one go instead of a call per sample.
// The slice belongs to the iterator: the caller must not modify it or use
// it after the iterator is reset.
func (it *SliceIterator) Remaining() []Sample {
	return it.Samples[min(it.i+1, len(it.Samples)):]
}

func (it *SliceIterator) At() (int64, float64) { s := it.Samples[it.i]; return s.T, s.V }
func (it *SliceIterator) Err() error           { return nil }
