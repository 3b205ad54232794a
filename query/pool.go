package query

import "sync"

// Buffers that queries hand on to later queries, because profiles of the
// benchmark queries named them: the step-sized point arrays of streamed
// aggregations, which a binary operation frees as soon as it has combined
// two of them (the join's right-hand side is 1,000 groups x 121 steps,
// 2 MB) and a result's Close frees once its answer is written, and the
// chunks of parallel evaluation. A Grafana dashboard runs
// the same queries again and again; reusing these keeps the garbage
// collector from collecting and the allocator from zeroing them each time.
// Both pools are typed; the arrays travel in batches so that returning a
// thousand of them is one Put.

// pointArrays is a batch of point arrays nothing references any more.
type pointArrays struct {
	free   [][]FPoint
	points int // their total capacity
}

// maxPooledPoints bounds the points a batch keeps (64 MB): a query that
// frees more leaves the rest to the garbage collector.
const maxPooledPoints = 4 << 20

var pointArraysPool = sync.Pool{New: func() any { return new(pointArrays) }}

// take returns an array of length n, reused when the batch has one large
// enough (its contents are garbage: callers write before they read).
func (b *pointArrays) take(n int) []FPoint {
	for len(b.free) > 0 {
		last := b.free[len(b.free)-1]
		b.free[len(b.free)-1] = nil
		b.free = b.free[:len(b.free)-1]
		b.points -= cap(last)
		if cap(last) >= n {
			return last[:n]
		}
	}
	return make([]FPoint, n)
}

// recycleMatrix adds the point arrays of m's series, which the caller
// owns and will not read again, to the pool, and clears them from m.
// Arrays of different series must not overlap.
func recycleMatrix(m Matrix) {
	b := pointArraysPool.Get().(*pointArrays)
	for i := range m {
		if c := cap(m[i].Floats); c > 0 && b.points+c <= maxPooledPoints {
			b.free = append(b.free, m[i].Floats)
			b.points += c
		}
		m[i].Floats = nil
	}
	pointArraysPool.Put(b)
}

var valueChunkPool = sync.Pool{New: func() any { return new(valueChunk) }}

// getValueChunk returns an empty chunk.
func getValueChunk() *valueChunk { return valueChunkPool.Get().(*valueChunk) }

// putValueChunk returns ch to the pool without what it references.
func putValueChunk(ch *valueChunk) {
	clear(ch.in[:cap(ch.in)])
	clear(ch.series[:cap(ch.series)])
	ch.in, ch.series, ch.vals, ch.err = ch.in[:0], ch.series[:0], ch.vals[:0], nil
	valueChunkPool.Put(ch)
}
