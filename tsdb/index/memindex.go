package index

import (
	"slices"
	"strings"
	"sync"

	"github.com/stratus-metrics/stratus/model"
)

// MemIndex is an in-memory inverted index from labels to postings. It is
// safe for concurrent use: one writer at a time (Add, Delete), any number
// of readers in between.
//
// Every list the index keeps is either sorted or recorded in dirty. Add
// appends ids in place, which keeps the usual in-order case at one append
// per label; an id smaller than a list's last marks that list dirty, and
// the next reader sorts the dirty lists (copy-on-write) before reading.
// Replay that adds ids in any order thus costs one sort per list instead of
// one insertion per id.
type MemIndex struct {
	// mu guards every field below. Readers take it shared and upgrade to
	// exclusive only to repair dirty lists (see rlock).
	mu sync.RWMutex

	all   Postings              // every series
	names map[string]*labelName // label name -> its values and postings
	// sortedNames holds the keys of names in order. It is never handed
	// out, so writers may change it in place.
	sortedNames []string

	allDirty bool        // all may be unsorted or hold duplicates
	dirty    []dirtyList // other lists that may be
}

// labelName holds everything indexed under one label name.
type labelName struct {
	name   string
	series Postings            // series that have this label, whatever the value
	values map[string]Postings // value -> series with that value; values are never empty

	// The values in order, split so that a new value costs an insertion
	// into the short recent list rather than into the long sorted one;
	// recent is merged into sorted when it grows past about the square
	// root of sorted's length. Neither is handed out.
	sorted []string
	recent []string

	// seriesDirty reports that series may be unsorted or hold duplicates.
	// It is flagged here rather than in MemIndex.dirty so that replay does
	// not grow dirty by one entry per label per series; an Add that sets it
	// always sets MemIndex.allDirty too (an id out of order in one list is
	// out of order in all), and the repair of all visits these flags.
	seriesDirty bool
}

// dirtyList names a value list that an out-of-order Add left unsorted.
type dirtyList struct {
	ln    *labelName
	value string
}

// New returns an empty index.
func New() *MemIndex {
	return &MemIndex{names: make(map[string]*labelName)}
}

// Add indexes series id with labels ls. Labels with an empty value are
// skipped: as in Prometheus, an empty value is the same as no label. Ids
// normally arrive in increasing order; an id smaller than one already added
// (as in WAL replay) is handled too, and adding an id again with the same
// labels changes nothing. ls is not retained: strings are copied the first
// time the index sees them, and shared afterwards.
func (ix *MemIndex) Add(id uint32, ls model.Labels) {
	ix.mu.Lock()
	defer ix.mu.Unlock()

	if n := len(ix.all); n > 0 && id <= ix.all[n-1] {
		ix.allDirty = true
	}
	ix.all = append(ix.all, id)

	for _, l := range ls {
		if l.Value == "" {
			continue
		}
		ln := ix.names[l.Name]
		if ln == nil {
			name := strings.Clone(l.Name)
			ln = &labelName{name: name, values: make(map[string]Postings)}
			ix.names[name] = ln
			i, _ := slices.BinarySearch(ix.sortedNames, name)
			ix.sortedNames = slices.Insert(ix.sortedNames, i, name)
		}
		if n := len(ln.series); n > 0 && id <= ln.series[n-1] {
			ln.seriesDirty = true
		}
		ln.series = append(ln.series, id)

		p, ok := ln.values[l.Value]
		if !ok {
			value := strings.Clone(l.Value)
			ln.addValueLocked(value)
			// Start with room for one id only: most values of
			// high-cardinality labels never get a second series.
			ln.values[value] = Postings{id}
			continue
		}
		if n := len(p); n > 0 && id <= p[n-1] {
			ix.dirty = append(ix.dirty, dirtyList{ln: ln, value: l.Value})
		}
		ln.values[l.Value] = append(p, id)
	}
}

// addValueLocked records a new value in the value order.
func (ln *labelName) addValueLocked(v string) {
	i, _ := slices.BinarySearch(ln.recent, v)
	ln.recent = slices.Insert(ln.recent, i, v)
	if r := len(ln.recent); r > 16 && r*r > len(ln.sorted) {
		merged := make([]string, 0, len(ln.sorted)+r)
		ln.sorted = appendMergeStrings(merged, ln.sorted, ln.recent)
		ln.recent = ln.recent[:0]
	}
}

// appendMergeStrings merges two sorted, disjoint string lists into dst.
func appendMergeStrings(dst, a, b []string) []string {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			dst = append(dst, a[i])
			i++
		} else {
			dst = append(dst, b[j])
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// rlock takes mu shared, first repairing lists that out-of-order adds left
// unsorted, so that readers always see sorted postings. Repair needs mu
// exclusive; the loop retakes it shared afterwards and checks again, since
// a writer may have slipped in between.
func (ix *MemIndex) rlock() {
	ix.mu.RLock()
	for ix.allDirty || len(ix.dirty) > 0 {
		ix.mu.RUnlock()
		ix.mu.Lock()
		ix.repairLocked()
		ix.mu.Unlock()
		ix.mu.RLock()
	}
}

// repairLocked sorts and deduplicates every list an out-of-order Add left
// unsorted. Lists are replaced, never sorted in place, because readers may
// hold them.
func (ix *MemIndex) repairLocked() {
	if ix.allDirty {
		ix.all = normalize(ix.all)
		for _, ln := range ix.names {
			if ln.seriesDirty {
				ln.series = normalize(ln.series)
				ln.seriesDirty = false
			}
		}
		ix.allDirty = false
	}
	for _, d := range ix.dirty {
		if p, ok := d.ln.values[d.value]; ok {
			d.ln.values[d.value] = normalize(p)
		}
	}
	clear(ix.dirty) // drop references to label names that Delete may remove
	ix.dirty = ix.dirty[:0]
}

// Delete removes the series ids from the index, dropping values and names
// that no series has any more. It is meant for retention, which removes
// many series at once: it visits every list that holds one of ids once and
// replaces it with a new list, leaving lists handed out earlier unchanged.
// ids need not be sorted.
func (ix *MemIndex) Delete(ids Postings) {
	if len(ids) == 0 {
		return
	}
	ids = normalize(ids)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.repairLocked()

	if !intersects(ix.all, ids) {
		return
	}
	ix.all = slices.Clip(Without(ix.all, ids))
	namesGone := false
	for name, ln := range ix.names {
		if !intersects(ln.series, ids) {
			continue
		}
		ln.series = slices.Clip(Without(ln.series, ids))
		if len(ln.series) == 0 {
			delete(ix.names, name)
			namesGone = true
			continue
		}
		valuesGone := false
		for v, p := range ln.values {
			if !intersects(p, ids) {
				continue
			}
			if q := Without(p, ids); len(q) > 0 {
				ln.values[v] = slices.Clip(q)
			} else {
				delete(ln.values, v)
				valuesGone = true
			}
		}
		if valuesGone {
			gone := func(v string) bool { _, ok := ln.values[v]; return !ok }
			ln.sorted = slices.DeleteFunc(ln.sorted, gone)
			ln.recent = slices.DeleteFunc(ln.recent, gone)
		}
	}
	if namesGone {
		ix.sortedNames = slices.DeleteFunc(ix.sortedNames, func(n string) bool {
			_, ok := ix.names[n]
			return !ok
		})
	}
}

// NumSeries returns the number of series in the index.
func (ix *MemIndex) NumSeries() int {
	ix.rlock()
	defer ix.mu.RUnlock()
	return len(ix.all)
}

// AllPostings returns the ids of every series. The result shares memory
// with the index and must not be modified.
func (ix *MemIndex) AllPostings() Postings {
	ix.rlock()
	defer ix.mu.RUnlock()
	return slices.Clip(ix.all)
}
