// Package query answers reads over the store: the PromQL engine, the
// Prometheus-compatible HTTP API (/api/v1/query, query_range, series,
// labels, label values, and the small endpoints Grafana asks for) and the
// raw export endpoint.
//
// The package declares the Querier it needs; *tsdb.DB satisfies it and
// cmd/ does the wiring, so query never imports tsdb.
//
// Data flows as follows. An HTTP request is decoded (times, steps,
// timeouts as Prometheus parses them) and handed to the Engine, which
// parses the expression with prometheus/promql/parser (so the syntax and
// its error messages are exactly PromQL's), resolves `@ start()`/`end()`
// and duration expressions, and evaluates the tree with an evaluator over
// a grid of steps (one step for an instant query). Every selector node
// calls Querier.Select once for the whole query range widened by its
// range, offset and the lookback delta, decodes each series once into a
// reused buffer and answers all steps from it: vector selectors take the
// latest non-stale sample in (t - lookback, t], range functions slide the
// left-open window (t - range, t] over the buffer. Operators, aggregations
// and instant-vector functions then work step by step on vectors
// (rangeEval), and the result, a Vector, Matrix, Scalar or String, is
// encoded in the Prometheus API's JSON by hand, byte for byte as
// Prometheus writes it.
//
// Semantics follow Prometheus 3 for floats, down to Kahan summation and
// the heap order of topk; the differential test (diff_test.go, with the
// shared data set and expressions in query/querytest) checks that against
// Prometheus' own engine and TSDB. Native histograms are not stored, and
// the functions that need them fail with ErrNativeHistograms.
//
// Files: engine.go (Engine, options, limits, query log), eval.go (the
// evaluator, selectors, subqueries), functions.go, aggregations.go,
// binops.go, quantile.go (quantiles and classic histograms), value.go
// (result types), api.go and api_json.go (HTTP), export.go, querier.go.
package query
