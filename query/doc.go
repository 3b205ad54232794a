// Package query answers reads over the store: the Prometheus-compatible
// HTTP API and, for now, the raw export endpoint.
//
// The package declares the Querier it needs; *tsdb.DB satisfies it and
// cmd/ does the wiring, so query never imports tsdb. Data flows from an
// HTTP request through selector parsing (prometheus/promql/parser, so the
// syntax is exactly PromQL's) to Querier.Select, and from the returned
// model.SeriesSet to the response encoder.
package query
