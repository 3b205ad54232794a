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
//
// # Atlas and PromQL
//
// equiv_test.go holds the stack expressions that mean the same as a PromQL
// expression, evaluated on the same data and engine: selection (:eq, :re
// as =~"p.*", :in, :has as !="", :not as != and !~, lexicographic :lt/:gt
// as character classes), aggregates (name,x,:eq,:sum,(,k,),:by is
// sum by (__name__, k) (x{k!=""})), math with constants and between
// lines joined on their :by keys, comparisons as PromQL's bool, :offset,
// consolidation (:sum over denser data is sum(avg_over_time(x[step])),
// :cf-max is max_over_time, ...), rolling windows as *_over_time, :delay
// as offset, :topk on lines that never cross (or, on any lines, a topk of
// max_over_time over the whole graph @ end()). Where the meaning differs,
// it differs on purpose, as in Atlas:
//
//   - A step without samples is NaN; a PromQL selector looks back 5m.
//     The twin of a stack query on gappy data is last_over_time(x[step]).
//   - :add and :sub count a missing side as 0 unless both are missing:
//     (a + b) or a or b in PromQL. :fadd and :fsub are PromQL's + and -.
//   - Aggregates skip NaN samples; PromQL's sum of a NaN is NaN.
//   - :div gives 0 for 0/0 and NaN for x/0; PromQL gives NaN and ±Inf.
//   - Comparisons, :and and :or give 0 where a side is missing; PromQL's
//     bool comparisons give no value there.
//   - An aggregate that selects nothing is one NO DATA line; PromQL
//     returns no series.
//   - Lines keep the name tag through math; PromQL drops __name__ in
//     arithmetic and most functions.
//   - :rolling-count counts the non-zero values of the window, which is
//     sum_over_time((x != bool 0)[w:step]), not count_over_time.
//   - :topk, :bottomk, :stat and :filter rank by a statistic of the whole
//     graph window; PromQL's topk ranks at each step.
//   - :integral, :trend, :des and :sdes start at the graph's start and have
//     no PromQL twin (double_exponential_smoothing smooths, :des predicts).
//
// TestEquivalenceDeliberateDifferences shows each of these on the data.
package stacklang
