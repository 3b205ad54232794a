// Package stacklang is the Atlas stack language on Stratus: it owns the
// tokenizer, the stack machine and its vocabularies (query, data, stack,
// math, style, stateful, filter), the expression tree they build, and the
// evaluation of that tree on the PromQL engine's execution layer. The
// graph API (query/graphapi) turns its results into charts.
//
// # How an expression flows
//
//  1. Tokens: Tokenize splits "name,http.requests,:eq,:sum,(,nf.app,),:by"
//     at commas, keeping each token's index and byte offset.
//  2. Words on a stack: Parse pushes plain tokens as strings, collects
//     "(" ... ")" into lists, and runs each ":word" from the vocabulary
//     on the stack. Words check their operands and fail with an *Error
//     naming the word, its token index and offset (":by expects a list of
//     keys, got query ..."). :call, :each and :map run lists as programs,
//     within MaxWords and MaxCallDepth.
//  3. Data expressions: query words build a Query (tag predicates; "name"
//     is the store's __name__); data words wrap it in a DataExpr (:sum,
//     :count, :min, :max, :all, :by, :offset, :cf-*); math, stateful and
//     filter words build a tree above the data expressions; style words
//     wrap the tree in a StyleExpr. What is left on the stack is the
//     Program, one StyleExpr per drawn expression.
//  4. Shared selection and step evaluation: Engine.Eval walks the program
//     for its data expressions and, per distinct query, calls
//     query.Engine.SelectSeries once: the PromQL engine's selection, with
//     its limits, timeout and statistics, decoding each series once. Each
//     series is consolidated onto the step grid (query.ConsolidateSteps:
//     avg for sum and count, min for min, max for max, or the :cf-*
//     choice) once per offset and consolidation, and folded into every
//     data expression that uses it with query.StepAggregator, the PromQL
//     aggregation arithmetic with Atlas's NaN-skipping. Nothing but the
//     aggregates is kept in memory.
//  5. Styled series: the tree is evaluated on the grid (extended back by
//     the history rolling windows and delays need), math joins lines on
//     their group keys, and each line gets its legend ($tag substitution,
//     :s, :decode) and its expression's style: a Result.
//  6. Render: query/graphapi maps a Result onto a render.Graph and writes
//     PNG, SVG, CSV or JSON.
//
// Semantics follow Atlas: :add and :sub treat a missing value as zero
// unless both are missing (:fadd and :fsub do not); :div gives 0 for 0/0
// and NaN for x/0; the value at step t covers the samples in (t-step, t];
// :percentiles reads Spectator percentile counters (tag percentile=T00xx
// for timers in nanoseconds, D00xx for distribution summaries) with
// Spectator's 276 PercentileBuckets and answers in seconds for timers.
package stacklang
