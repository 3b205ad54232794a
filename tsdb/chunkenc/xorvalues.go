package chunkenc

import "math/bits"

// xorState is the state shared by the Gorilla XOR value encoder and decoder:
// the previous value's bits and the window (leading and trailing zero bits)
// of the last XOR written with an explicit window.
//
// Each value after the first is written as
//
//	'0'                          same bits as the previous value
//	'10' <meaningful bits>       XOR fits inside the previous window
//	'11' <5 bits leading> <6 bits length, 0 meaning 64> <length bits>
//
// exactly as in the Gorilla paper and Prometheus; values round-trip bit for
// bit, including NaN payloads and negative zero.
type xorState struct {
	prev uint64
	xorWindow
}

// xorWindow is the window (leading and trailing zero bits) of the last XOR
// written with an explicit window. It is a struct of bytes so that the head
// chunk can embed it without padding.
type xorWindow struct {
	leading  uint8 // noWindow until the first explicit window
	trailing uint8
}

// noWindow marks "no window yet". Shifting by it empties a mask, so the
// window test in encode fails without a separate check.
const noWindow = 0xff

func (s *xorState) reset(first uint64) {
	s.prev = first
	s.xorWindow = xorWindow{leading: noWindow}
}

// encode returns the encoding of the XOR x of a value with the previous
// one as a header of hn bits (1, 2 or 13) followed by a payload of pn bits
// (0 to 64), and moves the window when it writes a new one. It decides the
// value encoding for the sealed block and the head chunk's first values;
// XORChunk.Append spells the same steps out, and
// TestXORChunkMatchesReference checks that the two agree.
func (w *xorWindow) encode(x uint64) (hdr uint64, hn uint, payload uint64, pn uint) {
	if x == 0 {
		return 0, 1, 0, 0
	}
	// x fits the window when it has no bits above or below it: that is
	// min(leading zeros, 31) >= leading and trailing zeros >= trailing,
	// without counting either. With no window yet (leading is noWindow),
	// the shift empties the mask and nothing fits.
	l, t := uint(w.leading), uint(w.trailing)
	if x&^(^uint64(0)>>l&(^uint64(0)<<t)) == 0 {
		return 0b10, 2, x >> t, 64 - l - t
	}
	lead := uint8(bits.LeadingZeros64(x | 1<<32)) // at most 31, which five bits hold
	trail := uint8(bits.TrailingZeros64(x))
	w.leading, w.trailing = lead, trail
	// 2+5+6 = 13 header bits; sig 64 is written as 0.
	sig := 64 - lead - trail
	return 0b11<<11 | uint64(lead)<<6 | uint64(sig&63), 13, x >> trail, uint(sig)
}

// write writes v (as bits) relative to the previous value.
func (s *xorState) write(w *bitWriter, v uint64) {
	hdr, hn, p, pn := s.encode(v ^ s.prev)
	s.prev = v
	if hn+pn <= 64 {
		w.writeBits(hdr<<(pn&63)|p, hn+pn)
		return
	}
	w.writeBits(hdr, hn)
	w.writeBits(p, pn)
}

// read reads the next value's bits; ok is false on truncated or corrupt input.
func (s *xorState) read(r *bitReader) (uint64, bool) {
	p := r.peek()
	avail := r.end - r.pos
	var x uint64
	switch {
	case p>>63 == 0:
		if avail < 1 {
			return 0, false
		}
		r.pos++
		return s.prev, true
	case p>>62 == 0b10:
		if s.leading == noWindow {
			return 0, false // a reused window before any window was set
		}
		m := uint64(64 - s.leading - s.trailing)
		if avail < 2+m {
			return 0, false
		}
		if m <= 62 {
			x = p << 2 >> (64 - m)
			r.pos += 2 + m
		} else {
			r.pos += 2
			x = r.peek() >> (64 - m)
			r.pos += m
		}
	default:
		lead, sig := uint8(p>>57)&31, uint8(p>>51)&63
		if sig == 0 {
			sig = 64
		}
		if lead+sig > 64 {
			return 0, false
		}
		m := uint64(sig)
		if avail < 13+m {
			return 0, false
		}
		s.leading, s.trailing = lead, 64-lead-sig
		if m <= 51 {
			x = p << 13 >> (64 - m)
			r.pos += 13 + m
		} else {
			r.pos += 13
			x = r.peek() >> (64 - m)
			r.pos += m
		}
	}
	s.prev ^= x << s.trailing
	return s.prev, true
}

// Delta-of-delta timestamp buckets of the bit-packed encodings: a prefix of
// 0 to 4 one-bits, then a two's complement value of the bucket's width.
// Scrape jitter of a few milliseconds fits the 7-bit bucket.
//
//	'0'                 dod == 0
//	'10'   7 bits       -64 <= dod < 64
//	'110'  14 bits      -8192 <= dod < 8192
//	'1110' 20 bits      -524288 <= dod < 524288
//	'1111' 64 bits      anything (deltas wrap modulo 2^64)

// dodBucket is one row of dodBuckets: the prefix already shifted above the
// value, the mask that keeps the value's width, and the total bits.
type dodBucket struct {
	prefix uint64
	mask   uint64
	nbits  uint64
}

// dodBuckets is indexed by dodIndex.
var dodBuckets = [8]dodBucket{
	{0, 0, 1},
	{0b10 << 7, 1<<7 - 1, 9},
	{0b110 << 14, 1<<14 - 1, 17},
	{0b1110 << 20, 1<<20 - 1, 24},
	// Does not fit one 64-bit write: callers write the prefix 0b1111 and
	// the 64 bits apart.
	{0, ^uint64(0), 68},
}

// dodIndex returns dod's bucket: 0 to 4 for the buckets from '0' to
// '1111'. It counts the buckets dod does not fit, with comparisons the
// compiler turns into flag-setting instructions instead of branches, so
// jittered timestamps cost no mispredictions.
func dodIndex(dod int64) int {
	i := b2i(dod != 0)
	i += b2i(uint64(dod+1<<6) >= 1<<7)
	i += b2i(uint64(dod+1<<13) >= 1<<14)
	i += b2i(uint64(dod+1<<19) >= 1<<20)
	return i
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// encodeDoD returns dod's bucket code and its length in bits. A length of
// 68 (dod outside the 20-bit bucket) means: write 0b1111, then dod's 64
// bits.
func encodeDoD(dod int64) (uint64, uint) {
	b := &dodBuckets[dodIndex(dod)&7]
	return b.prefix | uint64(dod)&b.mask, uint(b.nbits)
}

func writeDoD(w *bitWriter, dod int64) {
	code, n := encodeDoD(dod)
	if n > 64 {
		w.writeBits(0b1111, 4)
		w.writeBits(uint64(dod), 64)
		return
	}
	w.writeBits(code, n)
}

// dodBits returns the number of bits writeDoD writes for dod.
func dodBits(dod int64) int {
	return int(dodBuckets[dodIndex(dod)&7].nbits)
}

// dodWidths are the value widths of the buckets with 1, 2 and 3 prefix
// one-bits.
var dodWidths = [4]uint64{1: 7, 2: 14, 3: 20}

// readDoD reads a value written by writeDoD.
func readDoD(r *bitReader) (int64, bool) {
	p := r.peek()
	avail := r.end - r.pos
	if p>>63 == 0 {
		if avail < 1 {
			return 0, false
		}
		r.pos++
		return 0, true
	}
	ones := uint64(bits.LeadingZeros64(^p)) // 1 or more
	if ones >= 4 {
		if avail < 68 {
			return 0, false
		}
		r.pos += 4
		u := r.peek()
		r.pos += 64
		return int64(u), true
	}
	w := dodWidths[ones&3]
	n := ones + 1 + w
	if avail < n {
		return 0, false
	}
	r.pos += n
	// Drop the prefix, then sign-extend from w bits.
	return int64(p<<(ones+1)) >> (64 - w), true
}
