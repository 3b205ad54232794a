package chunkenc

import "encoding/binary"

// writeHeadroom is the spare capacity, past the last byte in use, that
// putBits needs: it stores nine whole bytes at a time (the partly filled
// last byte and the eight after it) instead of looping over bits.
const writeHeadroom = 9

// bitWriter appends bits, most significant first, to a byte slice. The last
// byte is partly filled when free > 0; its unused low bits are zero.
//
// Writes store whole words: they may overwrite up to nine bytes past
// len(b) (within cap(b)) with zeros or with bits they then claim. Callers
// hand it scratch buffers, never a slice whose spare capacity holds data
// they still need.
type bitWriter struct {
	b    []byte
	free uint8 // unused low bits in b[len(b)-1]
}

// growBits returns a copy of b with room for at least one more write. Its
// policy is that of the head, which holds one stream per series (100k-1M of them): grow by a
// quarter rather than doubling, to keep the slack small. Sealed-block
// encoders pass their own reused buffers and rarely grow at all.
func growBits(b []byte) []byte {
	c := cap(b)
	nb := make([]byte, len(b), c+max(32, c/4))
	copy(nb, b)
	return nb
}

// putBits writes the low nbits bits of u (1 <= nbits <= 64) after the bits
// already in b, whose last byte has free unused low bits, and returns the
// new length of b and the new free count. cap(b)-len(b) must be at least
// writeHeadroom.
//
// It loads the partly filled byte, and stores it together with the new bits
// as one big-endian word plus a ninth byte: no loop, and a constant number
// of memory operations whatever nbits is.
func putBits(b []byte, free uint8, u uint64, nbits uint) (int, uint8) {
	f := uint(free)
	i := len(b) - int((f+7)>>3) // index of the byte the write starts in
	o := (8 - f) & 7            // bits already used in b[i]
	s := b[i : i+writeHeadroom : i+writeHeadroom]
	x := u << ((64 - nbits) & 63) // left-aligned; the bits above nbits drop out
	// When o is 0, b[i] lies past len(b) and may hold anything: the mask
	// keeps none of it.
	keep := uint64(s[0]&^(0xff>>o)) << 56
	binary.BigEndian.PutUint64(s, keep|x>>o)
	s[8] = byte(x << (8 - o)) // the o low bits of x that did not fit; 0 when o is 0
	end := o + nbits
	return i + int((end+7)>>3), uint8(-end & 7)
}

// writeBits writes the low nbits bits of u (nbits <= 64).
func (w *bitWriter) writeBits(u uint64, nbits uint) {
	if nbits == 0 {
		return
	}
	if cap(w.b)-len(w.b) < writeHeadroom {
		w.b = growBits(w.b)
	}
	n, free := putBits(w.b, w.free, u, nbits)
	w.b = w.b[:n]
	w.free = free
}

// writeUvarint writes x as the bytes of its uvarint encoding, at any bit
// offset, so that rarely-used large fields cost what a varint costs.
func (w *bitWriter) writeUvarint(x uint64) {
	for x >= 0x80 {
		w.writeBits(uint64(x&0x7f|0x80), 8)
		x >>= 7
	}
	w.writeBits(x, 8)
}

// bitReader reads bits written by bitWriter. It never reads past end and
// reports exhaustion through ok results instead of panicking, because its
// input may be corrupt.
type bitReader struct {
	b   []byte
	pos uint64 // next bit to read; never more than end
	end uint64 // number of readable bits
}

func (r *bitReader) reset(b []byte) {
	r.b = b
	r.pos = 0
	r.end = uint64(len(b)) * 8
}

// peek returns the 64 bits starting at pos, left-aligned, with zeros in
// place of bits past the end of the buffer. Callers check end before they
// consume what it returns.
func (r *bitReader) peek() uint64 {
	i, o := r.pos>>3, r.pos&7
	if i+9 <= uint64(len(r.b)) {
		s := r.b[i : i+9 : i+9]
		return binary.BigEndian.Uint64(s)<<o | uint64(s[8])>>(8-o)
	}
	return r.peekTail()
}

// peekTail is peek within nine bytes of the end of the buffer.
func (r *bitReader) peekTail() uint64 {
	var s [9]byte
	if i := r.pos >> 3; i < uint64(len(r.b)) {
		copy(s[:], r.b[i:])
	}
	o := r.pos & 7
	return binary.BigEndian.Uint64(s[:])<<o | uint64(s[8])>>(8-o)
}

// readBits reads nbits bits (1..64); ok is false if fewer remain.
func (r *bitReader) readBits(nbits uint) (v uint64, ok bool) {
	if nbits == 0 {
		return 0, true
	}
	if r.end-r.pos < uint64(nbits) {
		return 0, false
	}
	v = r.peek() >> ((64 - nbits) & 63)
	r.pos += uint64(nbits)
	return v, true
}

// readUvarint reads a value written by writeUvarint.
func (r *bitReader) readUvarint() (uint64, bool) {
	var x uint64
	var s uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		b, ok := r.readBits(8)
		if !ok {
			return 0, false
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, false
			}
			return x | b<<s, true
		}
		x |= (b & 0x7f) << s
		s += 7
	}
	return 0, false
}
