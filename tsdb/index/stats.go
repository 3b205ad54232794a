package index

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/stratus-metrics/stratus/model"
)

// Stats describes the cardinality of the index, for the cardinality
// explorer and the TSDB status API: what makes the series count large.
type Stats struct {
	NumSeries     int // series in the index
	NumLabelNames int // distinct label names
	NumLabelPairs int // distinct name/value pairs

	// LabelNamesByValues lists the label names with the most distinct
	// values, most first: the labels that multiply series.
	LabelNamesByValues []Count
	// LabelNamesBySeries lists the label names carried by the most series.
	LabelNamesBySeries []Count
	// MetricsBySeries lists the metric names (values of __name__) with the
	// most series.
	MetricsBySeries []Count
	// LabelPairsBySeries lists the name="value" pairs with the most series.
	LabelPairsBySeries []Count
}

// Count is one row of a Stats ranking: a name (or name="value" pair) and
// its count.
type Count struct {
	Name  string
	Count int
}

// Stats returns cardinality statistics, each ranking cut to its topN
// largest entries (ties broken by name, so the result is deterministic).
func (ix *MemIndex) Stats(topN int) Stats {
	ix.rlock()
	defer ix.mu.RUnlock()

	s := Stats{NumSeries: len(ix.all), NumLabelNames: len(ix.names)}
	byValues, bySeries, pairs := newTop(topN), newTop(topN), newTop(topN)
	for _, name := range ix.sortedNames {
		ln := ix.names[name]
		s.NumLabelPairs += len(ln.values)
		byValues.add(name, len(ln.values))
		bySeries.add(name, len(ln.series))
		for v, p := range ln.values {
			// Build the pair's name only when it would make the cut.
			if pairs.wouldKeep(len(p)) {
				pairs.add(name+"="+strconv.Quote(v), len(p))
			}
		}
	}
	s.LabelNamesByValues = byValues.result()
	s.LabelNamesBySeries = bySeries.result()
	s.LabelPairsBySeries = pairs.result()
	if ln := ix.names[model.MetricName]; ln != nil {
		metrics := newTop(topN)
		for v, p := range ln.values {
			metrics.add(v, len(p))
		}
		s.MetricsBySeries = metrics.result()
	}
	return s
}

// top keeps the n largest counts seen, in ranking order. Insertion into a
// sorted slice is fine for the small n of a ranking.
type top struct {
	n    int
	rows []Count
}

func newTop(n int) *top { return &top{n: max(n, 0)} }

func rank(a, b Count) int {
	if c := cmp.Compare(b.Count, a.Count); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// wouldKeep reports whether a row with count c could enter the ranking.
func (t *top) wouldKeep(c int) bool {
	return t.n > 0 && (len(t.rows) < t.n || c >= t.rows[len(t.rows)-1].Count)
}

func (t *top) add(name string, c int) {
	if !t.wouldKeep(c) {
		return
	}
	row := Count{Name: name, Count: c}
	i, _ := slices.BinarySearchFunc(t.rows, row, rank)
	if i >= t.n {
		return
	}
	if len(t.rows) == t.n {
		t.rows = t.rows[:t.n-1]
	}
	t.rows = slices.Insert(t.rows, i, row)
}

func (t *top) result() []Count { return t.rows }
