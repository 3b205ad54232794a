// Package index is the in-memory inverted index of the TSDB head: it maps
// each label name, and each name/value pair, to the postings (sorted series
// ids) of the series that carry it, and answers label matchers with
// postings.
//
// The index owns only ids and label strings. It does not store a series'
// labels or samples: the head keeps those and assigns the ids, which grow
// monotonically as series are created and are never reused.
//
// Data flows in from the append path, which calls Add once for every new
// series (and again during WAL replay, possibly out of order), and out to
// the query path, which calls Select with the matchers of a selector, then
// looks the resulting ids up in the head. Retention calls Delete with the
// ids of series it dropped. LabelNames, LabelValues and Stats serve the
// label APIs and the cardinality explorer.
//
// Postings handed out by a MemIndex share memory with the index and stay
// valid after the call returns, because writers never change an element of
// a list they may have handed out: they append beyond its length or build a
// new list (copy-on-write). Callers must treat them as read-only.
//
// Select follows Prometheus's PostingsForMatchers: a series lacking a label
// is treated as having it with the empty value, so a matcher that accepts
// the empty string selects series without the label too. Such matchers
// subtract postings; the others intersect; when every matcher accepts the
// empty string the selection starts from all postings.
package index
