package model

import "math"

// Sample is one observation of a series: a timestamp in milliseconds since
// the Unix epoch and a float64 value.
type Sample struct {
	T int64
	V float64
}

// StaleNaNBits is the bit pattern of the Prometheus staleness marker, a NaN
// that marks a series as gone. It must be stored and returned bit for bit:
// an ordinary NaN is a value, the stale NaN is an absence.
const StaleNaNBits uint64 = 0x7ff0000000000002

// StaleNaN returns the staleness marker.
func StaleNaN() float64 { return math.Float64frombits(StaleNaNBits) }

// IsStaleNaN reports whether v is the staleness marker.
func IsStaleNaN(v float64) bool { return math.Float64bits(v) == StaleNaNBits }

// TimeSeries is one series of an append batch: its labels and samples in
// the order received. The Labels and Samples slices belong to the caller and
// may be reused after Append returns; an Appender copies what it keeps.
type TimeSeries struct {
	Labels  Labels
	Samples []Sample
}
