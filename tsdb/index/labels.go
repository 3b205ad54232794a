package index

import "slices"

// LabelNames returns, sorted, the label names of the series in ps, or of
// all series when ps is nil. ps must be sorted. The result is a new slice;
// its strings are shared with the index, which never changes them.
func (ix *MemIndex) LabelNames(ps Postings) []string {
	ix.rlock()
	defer ix.mu.RUnlock()
	if ps == nil {
		return slices.Clone(ix.sortedNames)
	}
	var out []string
	for _, name := range ix.sortedNames {
		if intersects(ix.names[name].series, ps) {
			out = append(out, name)
		}
	}
	return out
}

// LabelValues returns, sorted, the values of label name among the series
// in ps, or among all series when ps is nil. ps must be sorted. The result
// is a new slice.
func (ix *MemIndex) LabelValues(name string, ps Postings) []string {
	ix.rlock()
	defer ix.mu.RUnlock()
	ln := ix.names[name]
	if ln == nil {
		return nil
	}
	if ps == nil {
		return appendMergeStrings(make([]string, 0, len(ln.values)), ln.sorted, ln.recent)
	}
	if !intersects(ln.series, ps) {
		return nil
	}
	keep := func(vs []string) []string {
		var kept []string
		for _, v := range vs {
			if intersects(ln.values[v], ps) {
				kept = append(kept, v)
			}
		}
		return kept
	}
	sorted, recent := keep(ln.sorted), keep(ln.recent)
	if len(recent) == 0 {
		return sorted
	}
	return appendMergeStrings(make([]string, 0, len(sorted)+len(recent)), sorted, recent)
}
