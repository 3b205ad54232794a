package chunkenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/stratus-metrics/stratus/model"
)

// XORChunk is the appendable, Gorilla-compressed chunk that holds the open
// head of one series: delta-of-delta timestamps and XOR-ed float values,
// bit-packed (see FORMAT.md, "Head chunk").
//
// The store keeps one XORChunk per live series, so it is small: 56 bytes of
// fixed state (within one cache line; the append path touches nothing else
// but the tail of the buffer) plus a byte slice that starts at 32 bytes and
// grows by a quarter at a time. The state is flat rather than a bitWriter
// and an xorState, whose padding would make it larger.
//
// An XORChunk is not safe for concurrent use. Its owner appends under a
// lock; a reader that wants to iterate while appends go on takes a Clone
// under that lock and iterates the clone without it.
type XORChunk struct {
	b      []byte // the stream, as a bitWriter keeps it
	maxt   int64
	tDelta uint64 // last timestamp delta, modulo 2^64
	prev   uint64 // last value's bits
	n      uint32 // samples; LoadXORChunk and ReadXORChunkState refuse more

	xorWindow
	free uint8 // unused low bits in b[len(b)-1]
}

// NewXORChunk returns an empty chunk.
func NewXORChunk() *XORChunk {
	return &XORChunk{b: make([]byte, 0, 32), xorWindow: xorWindow{leading: noWindow}}
}

// Reset empties the chunk and keeps its buffer, so the owner can start the
// next window without allocating. Clones taken earlier are unaffected.
func (c *XORChunk) Reset() {
	*c = XORChunk{b: c.b[:0], xorWindow: xorWindow{leading: noWindow}}
}

// Append adds a sample. The caller must append timestamps in strictly
// increasing order: MinTime, MaxTime and the iterator's SeekTo rely on it.
// The encoding itself accepts any sequence (deltas wrap modulo 2^64, so
// even a jump from math.MinInt64 to math.MaxInt64 round-trips), which is why
// Append has no error to return and never panics.
//
// From the third sample on, the timestamp's bucket and the value's XOR
// encoding usually fit one 64-bit word together, and Append writes them
// with a single putBits; wider samples take appendWide.
func (c *XORChunk) Append(t int64, v float64) {
	if c.n < 2 {
		c.appendHead(t, v)
		return
	}
	d := uint64(t) - uint64(c.maxt)
	dod := int64(d - c.tDelta)
	c.maxt, c.tDelta = t, d
	c.n++
	// encodeDoD, spelled out: it is just over the inlining budget, and a
	// call per field costs as much as the encoding.
	bk := &dodBuckets[dodIndex(dod)&7]
	tc, tn := bk.prefix|uint64(dod)&bk.mask, uint(bk.nbits)

	// xorWindow.encode, spelled out for the same reason;
	// TestXORChunkMatchesReference keeps the two in step.
	vb := math.Float64bits(v)
	x := vb ^ c.prev
	c.prev = vb
	var hdr, p uint64
	var hn, pn uint = 1, 0
	if x != 0 {
		L, T := uint(c.leading), uint(c.trailing)
		if x&^(^uint64(0)>>L&(^uint64(0)<<T)) == 0 {
			hdr, hn, p, pn = 0b10, 2, x>>T, 64-L-T
		} else {
			lead := uint8(bits.LeadingZeros64(x | 1<<32)) // at most 31
			trail := uint8(bits.TrailingZeros64(x))
			c.leading, c.trailing = lead, trail
			sig := 64 - lead - trail
			hdr, hn, p, pn = 0b11<<11|uint64(lead)<<6|uint64(sig&63), 13, x>>trail, uint(sig)
		}
	}
	total := tn + hn + pn
	if total > 64 {
		c.appendWide(dod, tc, tn, hdr, hn, p, pn)
		return
	}
	if cap(c.b)-len(c.b) < writeHeadroom {
		c.grow()
	}
	// putBits, spelled out: the call was a sixth of Append's time.
	b := c.b
	f := uint(c.free)
	i := len(b) - int((f+7)>>3)
	o := (8 - f) & 7
	s := b[i : i+writeHeadroom : i+writeHeadroom]
	u := (tc<<(hn&63)|hdr)<<(pn&63) | p
	u <<= (64 - total) & 63
	binary.BigEndian.PutUint64(s, uint64(s[0]&^(0xff>>o))<<56|u>>o)
	s[8] = byte(u << (8 - o))
	end := o + total
	c.b = c.b[:i+int((end+7)>>3)]
	c.free = uint8(-end & 7)
}

// grow is kept out of line so that Append's frame stays small.
//
//go:noinline
func (c *XORChunk) grow() { c.b = growBits(c.b) }

// appendHead appends the first or second sample, which carry a full
// timestamp or delta as a uvarint.
func (c *XORChunk) appendHead(t int64, v float64) {
	w := bitWriter{b: c.b, free: c.free}
	vb := math.Float64bits(v)
	if c.n == 0 {
		w.writeUvarint(zigzag(t))
		w.writeBits(vb, 64)
		c.prev = vb
	} else {
		c.tDelta = uint64(t) - uint64(c.maxt)
		w.writeUvarint(c.tDelta)
		vals := xorState{c.prev, c.xorWindow}
		vals.write(&w, vb)
		c.prev, c.xorWindow = vals.prev, vals.xorWindow
	}
	c.b, c.free = w.b, w.free
	c.maxt = t
	c.n++
}

// appendWide writes a sample whose encoding is longer than 64 bits, in
// pieces: the timestamp bucket (split again for a 64-bit dod), then the
// value's header and payload.
func (c *XORChunk) appendWide(dod int64, tc uint64, tn uint, hdr uint64, hn uint, p uint64, pn uint) {
	w := bitWriter{b: c.b, free: c.free}
	if tn > 64 {
		w.writeBits(0b1111, 4)
		w.writeBits(uint64(dod), 64)
	} else {
		w.writeBits(tc, tn)
	}
	if hn+pn <= 64 {
		w.writeBits(hdr<<(pn&63)|p, hn+pn)
	} else {
		w.writeBits(hdr, hn)
		w.writeBits(p, pn)
	}
	c.b, c.free = w.b, w.free
}

// NumSamples returns the number of samples appended.
func (c *XORChunk) NumSamples() int { return int(c.n) }

// MinTime returns the first sample's timestamp, or 0 for an empty chunk.
// It decodes it from the stream, where it is the first field and starts
// byte-aligned, rather than spend 8 bytes of every chunk on it.
func (c *XORChunk) MinTime() int64 {
	if c.n == 0 {
		return 0
	}
	zt, _ := binary.Uvarint(c.b)
	return unzigzag(zt)
}

// MaxTime returns the last sample's timestamp, or 0 for an empty chunk.
func (c *XORChunk) MaxTime() int64 { return c.maxt }

// Bytes returns the encoded bit stream. It aliases the chunk's buffer: it is
// valid until the next Append or Reset. The sample count is not part of the
// stream; persist NumSamples beside it and rebuild with LoadXORChunk.
func (c *XORChunk) Bytes() []byte { return c.b }

// Size returns the approximate heap bytes the chunk holds, for memory
// accounting in the head.
func (c *XORChunk) Size() int {
	return int(unsafe.Sizeof(*c)) + cap(c.b)
}

// Clone returns a deep copy with a right-sized buffer. The copy shares no
// memory with c, so it can be iterated while c keeps receiving appends.
func (c *XORChunk) Clone() *XORChunk {
	cc := *c
	cc.b = append(make([]byte, 0, len(c.b)), c.b...)
	return &cc
}

// ErrCorruptChunk reports a head chunk stream that does not decode.
var ErrCorruptChunk = errors.New("corrupt head chunk")

// LoadXORChunk rebuilds an appendable chunk from a stream returned by Bytes
// and its sample count, for instance when a checkpoint is read back. It
// copies b. It decodes the whole stream to recover the appender's state and
// fails if the stream does not hold exactly n samples.
func LoadXORChunk(b []byte, n int) (*XORChunk, error) {
	if n < 0 || n > math.MaxUint32 {
		return nil, fmt.Errorf("load head chunk: sample count %d out of range: %w", n, ErrCorruptChunk)
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
		b:         append(make([]byte, 0, max(32, len(b)+writeHeadroom)), b...),
		n:         uint32(n),
		maxt:      it.t,
		tDelta:    it.tDelta,
		prev:      it.vals.prev,
		free:      uint8(it.r.end - it.r.pos),
		xorWindow: it.vals.xorWindow,
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
	it.reset(c.b, int(c.n))
	return it
}

// xorIterator decodes a head chunk stream sample by sample.
type xorIterator struct {
	r      bitReader
	n, i   int // i counts samples read
	t      int64
	tDelta uint64
	vals   xorState
	done   bool // Next has returned false
	err    error
}

func (it *xorIterator) reset(b []byte, n int) {
	it.r.reset(b)
	// The fast path may load bytes past the stream, within b's capacity,
	// as long as the sample it decodes ends within the stream; near the
	// end of a chunk with spare capacity that saves the slow path.
	it.r.b = b[:cap(b)]
	it.n, it.i = n, 0
	it.t, it.tDelta = 0, 0
	it.vals.reset(0)
	it.done = false
	it.err = nil
}

// fastTail is how many bytes from the sample's first byte Next's fast path
// loads: two 9-byte windows, the second at most 3 bytes after the first
// (the timestamp takes at most 24 bits there).
const fastTail = 12

// XORReadAhead is how many readable bytes past a stream let an iterator
// decode every sample on its fast path (see ViewXORChunkState).
const XORReadAhead = fastTail

// Next decodes the next sample. Away from the end of the stream it reads
// the sample from two 64-bit windows with no per-field bounds or length
// checks, which is enough for every sample but those with a 64-bit dod or
// an XOR payload wider than 51 bits; those, the first two samples and the
// last few bytes take nextSlow, which checks every read.
func (it *xorIterator) Next() bool {
	if it.done || it.i >= it.n {
		it.done = true
		return false
	}
	b, pos := it.r.b, it.r.pos
	i := pos >> 3
	if it.i < 2 || i+fastTail > uint64(len(b)) {
		return it.nextSlow()
	}
	s := b[i : i+fastTail : i+fastTail]
	o := pos & 7
	p := binary.BigEndian.Uint64(s)<<o | uint64(s[8])>>(8-o)
	var dod int64
	n := uint64(1)
	if p>>63 != 0 {
		ones := uint64(bits.LeadingZeros64(^p))
		if ones >= 4 {
			return it.nextSlow()
		}
		w := dodWidths[ones&3]
		n = ones + 1 + w
		dod = int64(p<<(ones+1)) >> (64 - w) // drop the prefix, sign-extend
	}
	q0 := n + o // bit offset of the value from s[0]; at most 31
	s = s[q0>>3&3:]
	o = q0 & 7
	q := binary.BigEndian.Uint64(s)<<o | uint64(s[8])>>(8-o)
	// The new value state is committed only once the sample is known to
	// end within the stream: bits loaded from spare capacity past it must
	// not be decoded as a sample (nextSlow reports the truncation).
	prev, lead, trail := it.vals.prev, it.vals.leading, it.vals.trailing
	switch {
	case q>>63 == 0:
		n++
	case q>>62 == 0b10:
		m := 64 - uint64(lead) - uint64(trail)
		if lead == noWindow || m > 62 {
			return it.nextSlow()
		}
		prev ^= q << 2 >> (64 - m) << trail
		n += 2 + m
	default:
		l, sig := uint8(q>>57)&31, uint8(q>>51)&63
		if sig == 0 || sig > 51 || l+sig > 64 {
			return it.nextSlow()
		}
		m := uint64(sig)
		lead, trail = l, 64-l-sig
		prev ^= q << 13 >> (64 - m) << trail
		n += 13 + m
	}
	if pos+n > it.r.end {
		return it.nextSlow()
	}
	it.vals.prev, it.vals.leading, it.vals.trailing = prev, lead, trail
	it.r.pos = pos + n
	it.tDelta += uint64(dod)
	it.t = int64(uint64(it.t) + it.tDelta)
	it.i++
	return true
}

// nextSlow decodes the next sample with checked reads.
func (it *xorIterator) nextSlow() bool {
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
