package index

import (
	"slices"
	"sort"
)

// Postings is a list of series ids sorted in ascending order without
// duplicates. The functions of this package rely on that order and do not
// check it.
type Postings []uint32

// gallopRatio is how much longer one list must be than the other before set
// operations switch from a linear merge to searching the longer list: with
// a ratio r the merge costs len(short)*r steps, the search
// len(short)*log2(len(long)), so searching wins once r exceeds about the
// logarithm of the list size.
const gallopRatio = 32

// gallop returns the smallest index i >= lo with p[i] >= x, or len(p). It
// probes lo+1, lo+2, lo+4, ... and then binary-searches the last step, so
// a search that advances by d costs O(log d): walking a long list with
// increasing targets costs far less than a binary search from scratch each
// time.
func gallop(p Postings, lo int, x uint32) int {
	if lo >= len(p) || p[lo] >= x {
		return lo
	}
	// Invariant: p[lo] < x.
	step := 1
	hi := lo + step
	for hi < len(p) && p[hi] < x {
		lo = hi
		step <<= 1
		hi = lo + step
	}
	if hi > len(p) {
		hi = len(p)
	}
	// p[lo] < x, and p[hi] >= x or hi == len(p).
	return lo + 1 + sort.Search(hi-lo-1, func(i int) bool { return p[lo+1+i] >= x })
}

// Intersect returns the ids present in both a and b, in a new slice.
func Intersect(a, b Postings) Postings { return AppendIntersect(nil, a, b) }

// AppendIntersect appends the ids present in both a and b to dst and
// returns the extended slice, so that callers can reuse dst[:0]. dst must
// not share memory with a or b.
func AppendIntersect(dst Postings, a, b Postings) Postings {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) == 0 {
		return dst
	}
	if len(b) > gallopRatio*len(a) {
		j := 0
		for _, x := range a {
			j = gallop(b, j, x)
			if j == len(b) {
				break
			}
			if b[j] == x {
				dst = append(dst, x)
				j++
			}
		}
		return dst
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch x, y := a[i], b[j]; {
		case x < y:
			i++
		case x > y:
			j++
		default:
			dst = append(dst, x)
			i++
			j++
		}
	}
	return dst
}

// intersects reports whether a and b share an id, stopping at the first.
func intersects(a, b Postings) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) == 0 || a[len(a)-1] < b[0] || b[len(b)-1] < a[0] {
		return false
	}
	j := 0
	for _, x := range a {
		j = gallop(b, j, x)
		if j == len(b) {
			return false
		}
		if b[j] == x {
			return true
		}
	}
	return false
}

// Without returns the ids of a that are not in b, in a new slice.
func Without(a, b Postings) Postings {
	var dst Postings
	if len(b) < len(a)/2 {
		// Most of a survives: size the result once instead of growing it.
		dst = make(Postings, 0, len(a))
	}
	return AppendWithout(dst, a, b)
}

// AppendWithout appends the ids of a that are not in b to dst and returns
// the extended slice. dst must not share memory with a or b.
func AppendWithout(dst Postings, a, b Postings) Postings {
	switch {
	case len(a) == 0:
		return dst
	case len(b) == 0 || b[len(b)-1] < a[0] || a[len(a)-1] < b[0]:
		return append(dst, a...)
	case len(b) > gallopRatio*len(a):
		// Few candidates, many exclusions: look each candidate up.
		j := 0
		for _, x := range a {
			j = gallop(b, j, x)
			if j == len(b) || b[j] != x {
				dst = append(dst, x)
			}
		}
		return dst
	case len(a) > gallopRatio*len(b):
		// Few exclusions: copy the runs of a between them.
		i := 0
		for _, y := range b {
			k := gallop(a, i, y)
			dst = append(dst, a[i:k]...)
			i = k
			if i < len(a) && a[i] == y {
				i++
			}
		}
		return append(dst, a[i:]...)
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch x, y := a[i], b[j]; {
		case x < y:
			dst = append(dst, x)
			i++
		case x > y:
			j++
		default:
			i++
			j++
		}
	}
	return append(dst, a[i:]...)
}

// Union returns the ids present in any of ps, in a new slice.
func Union(ps ...Postings) Postings { return AppendUnion(nil, ps...) }

// AppendUnion appends the ids present in any of ps to dst and returns the
// extended slice. dst must not share memory with any of ps.
//
// More than two lists are merged pairwise in rounds, halving their number
// each round, which costs O(n log k) for n ids in k lists like a heap-based
// k-way merge, but each step is a tight two-way merge with no heap
// bookkeeping, which measured several times faster.
func AppendUnion(dst Postings, ps ...Postings) Postings {
	total := 0
	lists := make([]Postings, 0, len(ps)) // ps itself stays untouched
	for _, p := range ps {
		if len(p) > 0 {
			total += len(p)
			lists = append(lists, p)
		}
	}
	switch len(lists) {
	case 0:
		return dst
	case 1:
		return append(dst, lists[0]...)
	}
	// Each round merges into one of two buffers, reading the lists of the
	// previous round from the other.
	var bufs [2]Postings
	for round := 0; len(lists) > 2; round++ {
		buf := bufs[round%2]
		if buf == nil {
			buf = make(Postings, 0, total)
		}
		buf = buf[:0]
		next := lists[:0] // writing next[i/2] after reading lists[i] is safe
		for i := 0; i < len(lists); i += 2 {
			if i+1 == len(lists) {
				start := len(buf)
				buf = append(buf, lists[i]...)
				next = append(next, buf[start:len(buf):len(buf)])
				break
			}
			start := len(buf)
			buf = appendUnion2(buf, lists[i], lists[i+1])
			next = append(next, buf[start:len(buf):len(buf)])
		}
		bufs[round%2] = buf
		lists = next
	}
	dst = slices.Grow(dst, len(lists[0])+len(lists[1]))
	return appendUnion2(dst, lists[0], lists[1])
}

func appendUnion2(dst Postings, a, b Postings) Postings {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch x, y := a[i], b[j]; {
		case x < y:
			dst = append(dst, x)
			i++
		case x > y:
			dst = append(dst, y)
			j++
		default:
			dst = append(dst, x)
			i++
			j++
		}
	}
	dst = append(dst, a[i:]...)
	return append(dst, b[j:]...)
}

// normalize returns p sorted and without duplicates. When p already is, it
// is returned as is; otherwise the result is a new slice, because p may
// have been handed out and must not change.
func normalize(p Postings) Postings {
	for i := 1; i < len(p); i++ {
		if p[i] <= p[i-1] {
			q := slices.Clone(p)
			slices.Sort(q)
			return slices.Clip(slices.Compact(q))
		}
	}
	return p
}
