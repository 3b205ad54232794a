package chunkenc

import "encoding/binary"

// bitWriter appends bits, most significant first, to a byte slice. The last
// byte is partly filled when free > 0; its unused low bits are zero.
type bitWriter struct {
	b    []byte
	free uint8 // unused low bits in b[len(b)-1]
}

// grow is the growth policy of the writer's buffer. The head holds one
// writer per series (100k-1M of them), so it grows by a quarter rather than
// doubling, to keep the slack small; sealed-block encoders pass their own
// reused buffers and rarely grow at all.
func (w *bitWriter) grow() {
	c := cap(w.b)
	add := c / 4
	if add < 32 {
		add = 32
	}
	nb := make([]byte, len(w.b), c+add)
	copy(nb, w.b)
	w.b = nb
}

// writeBits writes the low nbits bits of u (nbits <= 64).
func (w *bitWriter) writeBits(u uint64, nbits uint8) {
	if nbits == 0 {
		return
	}
	u <<= 64 - nbits // left-align; the bits above nbits are dropped
	for nbits > 0 {
		if w.free == 0 {
			if len(w.b) == cap(w.b) {
				w.grow()
			}
			w.b = append(w.b, 0)
			w.free = 8
		}
		take := min(nbits, w.free)
		w.b[len(w.b)-1] |= byte(u>>(64-take)) << (w.free - take)
		u <<= take
		nbits -= take
		w.free -= take
	}
}

// writeBit writes one bit.
func (w *bitWriter) writeBit(bit bool) {
	if bit {
		w.writeBits(1, 1)
	} else {
		w.writeBits(0, 1)
	}
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
	pos uint64 // next bit to read
	end uint64 // number of readable bits
}

func (r *bitReader) reset(b []byte) {
	r.b = b
	r.pos = 0
	r.end = uint64(len(b)) * 8
}

// word returns the 8 bytes starting at byte i, big-endian, zero-padded past
// the end of the buffer.
func (r *bitReader) word(i uint64) uint64 {
	if i+8 <= uint64(len(r.b)) {
		return binary.BigEndian.Uint64(r.b[i:])
	}
	var w uint64
	for k := uint64(0); k < 8; k++ {
		w <<= 8
		if i+k < uint64(len(r.b)) {
			w |= uint64(r.b[i+k])
		}
	}
	return w
}

// readBits reads nbits bits (1..64); ok is false if fewer remain.
func (r *bitReader) readBits(nbits uint8) (v uint64, ok bool) {
	if nbits == 0 {
		return 0, true
	}
	n := uint64(nbits)
	if r.end-r.pos < n {
		return 0, false
	}
	i, off := r.pos>>3, r.pos&7
	hi := r.word(i) << off
	if n+off > 64 {
		// Only possible with off > 0; the byte after the word exists
		// because the bounds check passed.
		hi |= uint64(r.b[i+8]) >> (8 - off)
	}
	r.pos += n
	return hi >> (64 - n), true
}

// readBit reads one bit.
func (r *bitReader) readBit() (bit, ok bool) {
	if r.pos >= r.end {
		return false, false
	}
	b := r.b[r.pos>>3]>>(7-r.pos&7)&1 == 1
	r.pos++
	return b, true
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
