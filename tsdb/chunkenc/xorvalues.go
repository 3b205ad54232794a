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
	prev     uint64
	leading  uint8 // 0xff until the first explicit window
	trailing uint8
}

const noWindow = 0xff

func (s *xorState) reset(first uint64) {
	s.prev = first
	s.leading = noWindow
	s.trailing = 0
}

// write writes v (as bits) relative to the previous value.
func (s *xorState) write(w *bitWriter, v uint64) {
	x := v ^ s.prev
	s.prev = v
	if x == 0 {
		w.writeBits(0, 1)
		return
	}
	lead := uint8(bits.LeadingZeros64(x))
	trail := uint8(bits.TrailingZeros64(x))
	if lead > 31 {
		lead = 31 // five bits hold at most 31
	}
	if s.leading != noWindow && lead >= s.leading && trail >= s.trailing {
		w.writeBits(0b10, 2)
		w.writeBits(x>>s.trailing, 64-s.leading-s.trailing)
		return
	}
	s.leading, s.trailing = lead, trail
	sig := 64 - lead - trail
	// One write of 2+5+6 = 13 header bits; sig 64 is written as 0.
	w.writeBits(0b11<<11|uint64(lead)<<6|uint64(sig&63), 13)
	w.writeBits(x>>trail, sig)
}

// read reads the next value's bits; ok is false on truncated or corrupt input.
func (s *xorState) read(r *bitReader) (uint64, bool) {
	b, ok := r.readBit()
	if !ok {
		return 0, false
	}
	if !b {
		return s.prev, true
	}
	b, ok = r.readBit()
	if !ok {
		return 0, false
	}
	if b {
		hdr, ok := r.readBits(11)
		if !ok {
			return 0, false
		}
		lead, sig := uint8(hdr>>6), uint8(hdr&63)
		if sig == 0 {
			sig = 64
		}
		if lead+sig > 64 {
			return 0, false
		}
		s.leading, s.trailing = lead, 64-lead-sig
	} else if s.leading == noWindow {
		return 0, false // a reused window before any window was set
	}
	x, ok := r.readBits(64 - s.leading - s.trailing)
	if !ok {
		return 0, false
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
func writeDoD(w *bitWriter, dod int64) {
	switch {
	case dod == 0:
		w.writeBits(0, 1)
	case -64 <= dod && dod < 64:
		w.writeBits(0b10<<7|uint64(dod)&(1<<7-1), 9)
	case -8192 <= dod && dod < 8192:
		w.writeBits(0b110<<14|uint64(dod)&(1<<14-1), 17)
	case -524288 <= dod && dod < 524288:
		w.writeBits(0b1110<<20|uint64(dod)&(1<<20-1), 24)
	default:
		w.writeBits(0b1111, 4)
		w.writeBits(uint64(dod), 64)
	}
}

// dodBits returns the number of bits writeDoD writes for dod.
func dodBits(dod int64) int {
	switch {
	case dod == 0:
		return 1
	case -64 <= dod && dod < 64:
		return 9
	case -8192 <= dod && dod < 8192:
		return 17
	case -524288 <= dod && dod < 524288:
		return 24
	default:
		return 68
	}
}

// readDoD reads a value written by writeDoD.
func readDoD(r *bitReader) (int64, bool) {
	var width uint8
	for prefix := 0; ; prefix++ {
		if prefix == 4 {
			width = 64
			break
		}
		b, ok := r.readBit()
		if !ok {
			return 0, false
		}
		if !b {
			width = [...]uint8{0, 7, 14, 20}[prefix]
			break
		}
	}
	if width == 0 {
		return 0, true
	}
	u, ok := r.readBits(width)
	if !ok {
		return 0, false
	}
	// Sign-extend from width bits.
	return int64(u<<(64-width)) >> (64 - width), true
}
