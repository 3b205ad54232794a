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
func Without(a, b Postings) Postings { return AppendWithout(nil, a, b) }

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
// extended slice. Two lists are merged directly; more go through a k-way
// merge over a min-heap of list heads, which costs O(n log k) for n ids in
// k lists. dst must not share memory with any of ps.
func AppendUnion(dst Postings, ps ...Postings) Postings {
	// Count without compacting ps: a caller passing a slice with ps...
	// would see its elements moved.
	total, nonEmpty, first := 0, 0, -1
	for i, p := range ps {
		if len(p) > 0 {
			total += len(p)
			nonEmpty++
			if first < 0 {
				first = i
			}
		}
	}
	switch nonEmpty {
	case 0:
		return dst
	case 1:
		return append(dst, ps[first]...)
	}
	dst = slices.Grow(dst, total)
	h := make(unionHeap, 0, nonEmpty)
	for _, p := range ps {
		if len(p) > 0 {
			h = append(h, p)
		}
	}
	if nonEmpty == 2 {
		return appendUnion2(dst, h[0], h[1])
	}
	h.init()
	last, started := uint32(0), false
	for len(h) > 0 {
		x := h[0][0]
		if !started || x != last {
			dst = append(dst, x)
			last, started = x, true
		}
		if len(h[0]) > 1 {
			h[0] = h[0][1:]
		} else {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		h.down(0)
	}
	return dst
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

// unionHeap is a min-heap of non-empty lists ordered by their first id. It
// is written out rather than built on container/heap to avoid boxing every
// element in an interface.
type unionHeap []Postings

func (h unionHeap) init() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h unionHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h[r][0] < h[l][0] {
			m = r
		}
		if h[i][0] <= h[m][0] {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
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
