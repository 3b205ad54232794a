package chunkenc

import (
	"errors"
	"fmt"
	"math"
	"unsafe"

	"github.com/stratus-metrics/stratus/model"
)

// XORChunk is the appendable, Gorilla-compressed chunk that holds the open
// head of one series: delta-of-delta timestamps and XOR-ed float values,
// bit-packed (see FORMAT.md, "Head chunk").
//
// The store keeps one XORChunk per live series, so it is small: about 80
// bytes of fixed state plus a byte slice that starts at 32 bytes and grows
// by a quarter at a time.
//
// An XORChunk is not safe for concurrent use. Its owner appends under a
// lock; a reader that wants to iterate while appends go on takes a Clone
// under that lock and iterates the clone without it.
type XORChunk struct {
	w      bitWriter
	n      int
	mint   int64
	maxt   int64
	tDelta uint64 // last timestamp delta, modulo 2^64
	vals   xorState
}

// NewXORChunk returns an empty chunk.
func NewXORChunk() *XORChunk {
	return &XORChunk{w: bitWriter{b: make([]byte, 0, 32)}}
}

// Reset empties the chunk and keeps its buffer, so the owner can start the
// next window without allocating. Clones taken earlier are unaffected.
func (c *XORChunk) Reset() {
	c.w.b = c.w.b[:0]
	c.w.free = 0
	c.n, c.mint, c.maxt, c.tDelta = 0, 0, 0, 0
	c.vals.reset(0)
}

// Append adds a sample. The caller must append timestamps in strictly
// increasing order: MinTime, MaxTime and the iterator's SeekTo rely on it.
// The encoding itself accepts any sequence (deltas wrap modulo 2^64, so
// even a jump from math.MinInt64 to math.MaxInt64 round-trips), which is why
// Append has no error to return and never panics.
func (c *XORChunk) Append(t int64, v float64) {
	vb := math.Float64bits(v)
	switch c.n {
	case 0:
		c.w.writeUvarint(zigzag(t))
		c.w.writeBits(vb, 64)
		c.mint = t
		c.vals.reset(vb)
	case 1:
		c.tDelta = uint64(t) - uint64(c.maxt)
		c.w.writeUvarint(c.tDelta)
		c.vals.write(&c.w, vb)
	default:
		d := uint64(t) - uint64(c.maxt)
		writeDoD(&c.w, int64(d-c.tDelta))
		c.tDelta = d
		c.vals.write(&c.w, vb)
	}
	c.maxt = t
	c.n++
}

// NumSamples returns the number of samples appended.
func (c *XORChunk) NumSamples() int { return c.n }

// MinTime returns the first sample's timestamp, or 0 for an empty chunk.
func (c *XORChunk) MinTime() int64 { return c.mint }

// MaxTime returns the last sample's timestamp, or 0 for an empty chunk.
func (c *XORChunk) MaxTime() int64 { return c.maxt }

// Bytes returns the encoded bit stream. It aliases the chunk's buffer: it is
// valid until the next Append or Reset. The sample count is not part of the
// stream; persist NumSamples beside it and rebuild with LoadXORChunk.
func (c *XORChunk) Bytes() []byte { return c.w.b }

// Size returns the approximate heap bytes the chunk holds, for memory
// accounting in the head.
func (c *XORChunk) Size() int {
	return int(unsafe.Sizeof(*c)) + cap(c.w.b)
}

// Clone returns a deep copy with a right-sized buffer. The copy shares no
// memory with c, so it can be iterated while c keeps receiving appends.
func (c *XORChunk) Clone() *XORChunk {
	cc := *c
	cc.w.b = append(make([]byte, 0, len(c.w.b)), c.w.b...)
	return &cc
}

// ErrCorruptChunk reports a head chunk stream that does not decode.
var ErrCorruptChunk = errors.New("corrupt head chunk")

// LoadXORChunk rebuilds an appendable chunk from a stream returned by Bytes
// and its sample count, for instance when a checkpoint is read back. It
// copies b. It decodes the whole stream to recover the appender's state and
// fails if the stream does not hold exactly n samples.
func LoadXORChunk(b []byte, n int) (*XORChunk, error) {
	if n < 0 {
		return nil, fmt.Errorf("load head chunk: negative sample count %d: %w", n, ErrCorruptChunk)
	}
	var it xorIterator
	it.reset(b, n)
	for it.Next() {
	}
	if it.err != nil {
		return nil, fmt.Errorf("load head chunk of %d samples: %w", n, it.err)
	}
	if it.r.end-it.r.pos >= 8 || (n == 0 && len(b) > 0) {
		return nil, fmt.Errorf("load head chunk of %d samples: %d trailing bits: %w", n, it.r.end-it.r.pos, ErrCorruptChunk)
	}
	if it.r.end > it.r.pos && b[len(b)-1]&(1<<(it.r.end-it.r.pos)-1) != 0 {
		return nil, fmt.Errorf("load head chunk of %d samples: nonzero padding: %w", n, ErrCorruptChunk)
	}
	c := &XORChunk{
		w:      bitWriter{b: append(make([]byte, 0, max(32, len(b))), b...), free: uint8(it.r.end - it.r.pos)},
		n:      n,
		mint:   it.mint,
		maxt:   it.t,
		tDelta: it.tDelta,
		vals:   it.vals,
	}
	return c, nil
}

// Iterator returns an iterator over the samples the chunk holds now. It
// reuses reuse when that is an iterator returned by an XORChunk. The
// iterator reads the chunk's buffer in place: the chunk must not be
// appended to while it is in use (iterate a Clone instead).
func (c *XORChunk) Iterator(reuse model.SampleIterator) model.SampleIterator {
	it, ok := reuse.(*xorIterator)
	if !ok {
		it = &xorIterator{}
	}
	it.reset(c.w.b, c.n)
	return it
}

// xorIterator decodes a head chunk stream sample by sample.
type xorIterator struct {
	r      bitReader
	n, i   int // i counts samples read
	mint   int64
	t      int64
	tDelta uint64
	vals   xorState
	done   bool // Next has returned false
	err    error
}

func (it *xorIterator) reset(b []byte, n int) {
	it.r.reset(b)
	it.n, it.i = n, 0
	it.mint, it.t, it.tDelta = 0, 0, 0
	it.vals.reset(0)
	it.done = false
	it.err = nil
}

func (it *xorIterator) Next() bool {
	if it.done || it.err != nil || it.i >= it.n {
		it.done = true
		return false
	}
	switch it.i {
	case 0:
		zt, ok := it.r.readUvarint()
		if !ok {
			return it.fail("first timestamp")
		}
		vb, ok := it.r.readBits(64)
		if !ok {
			return it.fail("first value")
		}
		it.t = unzigzag(zt)
		it.mint = it.t
		it.vals.reset(vb)
	case 1:
		d, ok := it.r.readUvarint()
		if !ok {
			return it.fail("first delta")
		}
		it.tDelta = d
		it.t = int64(uint64(it.t) + d)
		if _, ok := it.vals.read(&it.r); !ok {
			return it.fail("value")
		}
	default:
		dod, ok := readDoD(&it.r)
		if !ok {
			return it.fail("timestamp")
		}
		it.tDelta += uint64(dod)
		it.t = int64(uint64(it.t) + it.tDelta)
		if _, ok := it.vals.read(&it.r); !ok {
			return it.fail("value")
		}
	}
	it.i++
	return true
}

func (it *xorIterator) fail(what string) bool {
	it.err = fmt.Errorf("decode head chunk sample %d of %d: %s: %w", it.i, it.n, what, ErrCorruptChunk)
	it.done = true
	return false
}

func (it *xorIterator) SeekTo(t int64) bool {
	if it.done {
		return false
	}
	if it.i > 0 && it.t >= t {
		return true
	}
	for it.Next() {
		if it.t >= t {
			return true
		}
	}
	return false
}

func (it *xorIterator) At() (int64, float64) { return it.t, math.Float64frombits(it.vals.prev) }

func (it *xorIterator) Err() error { return it.err }

// zigzag maps signed to unsigned integers so that small magnitudes get
// short varints.
func zigzag(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
