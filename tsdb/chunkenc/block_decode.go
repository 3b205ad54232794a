package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// The block decoding loops. They are the hot path of every query that
// reaches sealed blocks, so each reads its input a 64-bit word at a time
// and keeps its state in locals, falling back to the checked, general
// readers (binary.Uvarint, bitReader, readDoD, xorState.read) only for
// the last few bytes of a section and for rare wide fields. Fast and
// general paths accept exactly the same inputs: TestBlockDecodeMatchesReference
// and FuzzBlockDecode compare them with a plain sample-at-a-time decoder.

// uvarintWord decodes the uvarint at the start of x, the next eight input
// bytes read little-endian. It returns its value and length in bytes, or
// length 0 when the uvarint is longer than eight bytes. It has no branch
// on the length: varint lengths in real blocks vary from one sample to the
// next, and a mispredicted branch costs more than the arithmetic.
func uvarintWord(x uint64) (uint64, int) {
	stop := ^x & 0x8080808080808080 // the high bit of every last byte
	if stop == 0 {
		return 0, 0
	}
	tz := bits.TrailingZeros64(stop)
	x &= stop ^ (stop - 1) // the bytes up to and including the last one
	// Squeeze out the continuation bits: 7-bit groups into 14-bit groups
	// into 28-bit groups into one value.
	x = x&0x007f007f007f007f | (x&0x7f007f007f007f00)>>1
	x = x&0x00003fff00003fff | (x&0x3fff00003fff0000)>>2
	x = x&0x000000000fffffff | (x&0x0fffffff00000000)>>4
	return x, tz>>3 + 1
}

// uvarintAt decodes the uvarint at p[pos:] and returns it with the
// position after it, or with position -1 when p[pos:] does not start with
// a valid uvarint.
func uvarintAt(p []byte, pos int) (uint64, int) {
	if pos+8 <= len(p) {
		if v, w := uvarintWord(binary.LittleEndian.Uint64(p[pos:])); w > 0 {
			return v, pos + w
		}
	}
	return uvarintSlow(p, pos)
}

func uvarintSlow(p []byte, pos int) (uint64, int) {
	v, w := binary.Uvarint(p[pos:])
	if w <= 0 {
		return 0, -1
	}
	return v, pos + w
}

// decodeDoDVarint fills ts[1:] (len(ts) >= 2) from the dod-varint section
// at the start of p, checks that the timestamps increase from mint and end
// at maxt, and returns the rest of p.
func decodeDoDVarint(ts []int64, h blockHeader, p []byte) ([]byte, error) {
	d, pos := uvarintSlow(p, 0)
	if pos < 0 {
		return nil, fmt.Errorf("decode block: first interval: %w", ErrCorruptBlock)
	}
	t := uint64(h.mint) + d
	ts[0], ts[1] = h.mint, int64(t)
	if int64(t) <= h.mint {
		return nil, outOfOrder(ts, 1)
	}
	for i := 2; i < len(ts); i++ {
		var u uint64
		if u, pos = uvarintAt(p, pos); pos < 0 {
			return nil, fmt.Errorf("decode block: timestamp %d: %w", i, ErrCorruptBlock)
		}
		d += uint64(unzigzag(u))
		t += d
		ts[i] = int64(t)
		if int64(t) <= ts[i-1] {
			return nil, outOfOrder(ts, i)
		}
	}
	if t != uint64(h.maxt) {
		return nil, lastTimestamp(int64(t), h.maxt)
	}
	return p[pos:], nil
}

// decodeDoDBits is decodeDoDVarint for the dod-bits section. Its fast path
// reads a bucket from one 64-bit window; the 64-bit bucket and the last
// bytes take readDoD.
func decodeDoDBits(ts []int64, h blockHeader, p []byte) ([]byte, error) {
	var r bitReader
	r.reset(p)
	d, ok := r.readUvarint()
	if !ok {
		return nil, fmt.Errorf("decode block: first interval: %w", ErrCorruptBlock)
	}
	t := uint64(h.mint) + d
	ts[0], ts[1] = h.mint, int64(t)
	if int64(t) <= h.mint {
		return nil, outOfOrder(ts, 1)
	}
	pos := r.pos
	for i := 2; i < len(ts); i++ {
		var dod int64
		if bi := pos >> 3; bi+8 <= uint64(len(p)) {
			// At least 57 valid bits, and a bucket here takes at most 24.
			x := binary.BigEndian.Uint64(p[bi:]) << (pos & 7)
			if x>>63 == 0 {
				pos++
				goto decoded
			}
			if ones := uint64(bits.LeadingZeros64(^x)); ones < 4 {
				w := dodWidths[ones&3]
				dod = int64(x<<(ones+1)) >> (64 - w) // drop the prefix, sign-extend
				pos += ones + 1 + w
				goto decoded
			}
		}
		r.pos = pos
		if dod, ok = readDoD(&r); !ok {
			return nil, fmt.Errorf("decode block: timestamp %d: %w", i, ErrCorruptBlock)
		}
		pos = r.pos
	decoded:
		d += uint64(dod)
		t += d
		ts[i] = int64(t)
		if int64(t) <= ts[i-1] {
			return nil, outOfOrder(ts, i)
		}
	}
	if t != uint64(h.maxt) {
		return nil, lastTimestamp(int64(t), h.maxt)
	}
	return p[(pos+7)/8:], nil
}

func outOfOrder(ts []int64, i int) error {
	return fmt.Errorf("decode block: timestamp %d at %d after %d: %w", i, ts[i], ts[i-1], ErrCorruptBlock)
}

func lastTimestamp(got, want int64) error {
	return fmt.Errorf("decode block: last timestamp %d, header says %d: %w", got, want, ErrCorruptBlock)
}

// decodeXOR fills vs from the Gorilla XOR section p, which must end
// exactly at the end of p. Its fast path is xorIterator.Next's value half:
// one 64-bit window holds the header and payload of every value whose
// payload is at most 51 bits (62 for a reused window); wider values and the
// last nine bytes take xorState.read.
func decodeXOR(vs []float64, p []byte) error {
	if len(p) < 8 {
		return fmt.Errorf("decode block: first value: %w", ErrCorruptBlock)
	}
	prev := binary.BigEndian.Uint64(p)
	vs[0] = math.Float64frombits(prev)
	pos := uint64(64)
	win := xorWindow{leading: noWindow}
	for i := 1; i < len(vs); i++ {
		if bi := pos >> 3; bi+9 <= uint64(len(p)) {
			// q holds 64 of the 65 or more bits left.
			s := p[bi : bi+9 : bi+9]
			o := pos & 7
			q := binary.BigEndian.Uint64(s)<<o | uint64(s[8])>>(8-o)
			switch {
			case q>>63 == 0:
				pos++
				vs[i] = math.Float64frombits(prev)
				continue
			case q>>62 == 0b10:
				// With no window yet, m wraps to a huge number and the
				// checked path reports the error.
				if m := 64 - uint64(win.leading) - uint64(win.trailing); m <= 62 {
					prev ^= q << 2 >> (64 - m) << win.trailing
					pos += 2 + m
					vs[i] = math.Float64frombits(prev)
					continue
				}
			default:
				lead, sig := uint8(q>>57)&31, uint8(q>>51)&63
				if sig != 0 && sig <= 51 && lead+sig <= 64 {
					win.leading, win.trailing = lead, 64-lead-sig
					prev ^= q << 13 >> (64 - uint64(sig)) << win.trailing
					pos += 13 + uint64(sig)
					vs[i] = math.Float64frombits(prev)
					continue
				}
			}
		}
		r := bitReader{b: p, pos: pos, end: uint64(len(p)) * 8}
		xs := xorState{prev, win}
		u, ok := xs.read(&r)
		if !ok {
			return fmt.Errorf("decode block: value %d: %w", i, ErrCorruptBlock)
		}
		prev, win, pos = u, xs.xorWindow, r.pos
		vs[i] = math.Float64frombits(u)
	}
	if (pos+7)/8 != uint64(len(p)) {
		return fmt.Errorf("decode block: %d bytes after the values: %w", uint64(len(p))-(pos+7)/8, ErrCorruptBlock)
	}
	return nil
}

// decodeMantissas fills vs[2:] with float64(m[i]) for the mantissas of a
// decimal section, given m[1] and the delta m[1]-m[0]. Each varint in p is
// the next delta when keep is 0 (decimal delta), or the next delta of
// deltas when keep is -1 (decimal dod): d = d&keep + varint, branch-free.
// It returns the position in p after the mantissas.
//
// float64(m) is the first half of the conversion decodeDecimal promises;
// the division by the power of ten happens later, and only for the samples
// a caller reaches.
func decodeMantissas(vs []float64, p []byte, m, d, keep int64) (int, error) {
	pos, i := 0, 2
	for i < len(vs) {
		if pos+8 <= len(p) {
			x := binary.LittleEndian.Uint64(p[pos:])
			if x&0x8080808080808080 == 0 && i+8 <= len(vs) {
				// Eight one-byte varints: slow-moving series.
				v := vs[i : i+8 : i+8]
				d = d&keep + unzigzag(x&0xff)
				m += d
				v[0] = float64(m)
				d = d&keep + unzigzag(x>>8&0xff)
				m += d
				v[1] = float64(m)
				d = d&keep + unzigzag(x>>16&0xff)
				m += d
				v[2] = float64(m)
				d = d&keep + unzigzag(x>>24&0xff)
				m += d
				v[3] = float64(m)
				d = d&keep + unzigzag(x>>32&0xff)
				m += d
				v[4] = float64(m)
				d = d&keep + unzigzag(x>>40&0xff)
				m += d
				v[5] = float64(m)
				d = d&keep + unzigzag(x>>48&0xff)
				m += d
				v[6] = float64(m)
				d = d&keep + unzigzag(x>>56)
				m += d
				v[7] = float64(m)
				i += 8
				pos += 8
				continue
			}
			// One- and two-byte varints are most of them; branching on
			// the length beats uvarintWord's straight-line code there.
			var u uint64
			var w int
			switch {
			case x&0x80 == 0:
				u, w = x&0x7f, 1
			case x&0x8000 == 0:
				u, w = x&0x7f|x>>1&0x3f80, 2
			default:
				u, w = uvarintWord(x)
			}
			if w > 0 {
				d = d&keep + unzigzag(u)
				m += d
				vs[i] = float64(m)
				i++
				pos += w
				continue
			}
		}
		var u uint64
		if u, pos = uvarintSlow(p, pos); pos < 0 {
			return 0, fmt.Errorf("decode block: value %d: %w", i, ErrCorruptBlock)
		}
		d = d&keep + unzigzag(u)
		m += d
		vs[i] = float64(m)
		i++
	}
	return pos, nil
}
