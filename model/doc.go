// Package model holds the types every Stratus package shares: label sets,
// label matchers, samples, the time series of an append batch, and the
// iterator shapes that carry query results.
//
// It imports only the standard library, so that storage (tsdb), ingest,
// query and alerting can all speak it without depending on one another.
// A test in the repository root enforces that rule.
//
// Data flows through these types as follows: an ingest decoder turns a
// request into []TimeSeries and hands it to an Appender; the store answers
// selections with a SeriesSet, whose Series yield samples through a
// SampleIterator. Every iterator has the same shape: Next() bool, At(),
// Err(), with the error checked once after the loop.
package model
