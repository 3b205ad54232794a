package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/golang/snappy"

	"github.com/stratus-metrics/stratus/model"
)

// BlockIterator decodes a sealed block and walks its samples. It implements
// model.SampleIterator, and AppendRange copies a time range out in one call.
//
// Reset decodes and validates the whole block into buffers the iterator
// keeps, so reusing one iterator across blocks does not allocate once its
// buffers have grown to the largest block. A BlockIterator is not safe for
// concurrent use; the block bytes are not retained after Reset returns.
//
// Reset leaves the cheap last step of decoding to the samples a caller
// reaches: regular timestamps (mint + i*interval) are not written out, and
// decimal values stay integer mantissas until they are divided by their
// power of ten. Next, SeekTo and AppendRange finish the samples from where
// they land, so a query that seeks into the middle of a block, or copies a
// range out of it, does that work only for the samples it returns.
type BlockIterator struct {
	ts  []int64
	vs  []float64
	buf []byte           // decompressed payload
	exc []blockException // decimal exceptions, by index; see finish
	n   int              // samples in the block; 0 after a failed Reset
	i   int              // current sample: -1 before the first, n when exhausted
	err error

	// Samples raw..n-1 are not finished: when regular is set their
	// timestamps are not in ts, and vs holds what conv says. The current
	// sample, if any, is always finished (i < raw), so Next is a single
	// comparison until it crosses raw.
	raw     int
	regular bool   // timestamps are mint + i*step
	mint    int64  // when regular
	step    uint64 // when regular
	conv    valueConv
	scale   float64 // the power of ten of convDiv and convMul
	cv      float64 // the value of convConst
}

// valueConv says how vs holds the values of unfinished samples.
type valueConv uint8

const (
	convNone  valueConv = iota // vs holds the values
	convDiv                    // float64(mantissa): the value is vs[i] / scale
	convMul                    // float64(mantissa): the value is vs[i] * scale
	convConst                  // nothing: the value is cv
)

// blockException is a value a decimal block stores raw. It is kept aside
// rather than written into vs, where the conversion of the mantissas
// around it would overwrite it.
type blockException struct {
	i    int
	bits uint64
}

// NewBlockIterator returns an iterator over block b, or the error Reset
// reports for it.
func NewBlockIterator(b []byte) (*BlockIterator, error) {
	it := &BlockIterator{}
	if err := it.Reset(b); err != nil {
		return nil, err
	}
	return it, nil
}

// Reset points the iterator at block b and decodes it. On corrupt input it
// returns an error wrapping ErrCorruptBlock, and the iterator is empty and
// reports the same error from Err and AppendRange. It never panics,
// whatever b holds; every check happens here, so once Reset has succeeded,
// iterating cannot fail.
func (it *BlockIterator) Reset(b []byte) error {
	it.i = -1
	it.err = it.decode(b)
	if it.err != nil {
		it.n, it.raw = 0, 0
		it.ts, it.vs, it.exc = it.ts[:0], it.vs[:0], it.exc[:0]
	}
	return it.err
}

func (it *BlockIterator) decode(b []byte) error {
	h, err := parseHeader(b)
	if err != nil {
		return fmt.Errorf("decode block: %w", err)
	}
	p := h.payload
	if h.flags&flagSnappy != 0 {
		dlen, err := snappy.DecodedLen(p)
		// Every encoding needs less than 40 bytes a sample; a larger
		// claimed length is corrupt, and must not make us allocate it.
		if err != nil || dlen > 40*h.n+64 {
			return fmt.Errorf("decode block: snappy payload length: %w", ErrCorruptBlock)
		}
		it.buf = grow(it.buf, dlen)
		p, err = snappy.Decode(it.buf, p)
		if err != nil {
			return fmt.Errorf("decode block: snappy payload: %v: %w", err, ErrCorruptBlock)
		}
	}
	n := h.n
	it.n = n
	it.ts = grow(it.ts, n)
	it.vs = grow(it.vs, n)
	it.exc = it.exc[:0]
	it.regular, it.conv = false, convNone
	rest, err := it.decodeTimestamps(h, p)
	if err != nil {
		return err
	}
	if err := it.decodeValues(byte(h.flags&flagValueMask)>>flagValueShift, rest); err != nil {
		return err
	}
	it.raw = n
	if it.regular || it.conv != convNone {
		it.raw = 0
	}
	return nil
}

// decodeTimestamps decodes the timestamps section at the start of p into
// it.ts, or notes that they are regular, and returns the rest of p.
func (it *BlockIterator) decodeTimestamps(h blockHeader, p []byte) ([]byte, error) {
	n := it.n
	enc := h.flags & flagTSMask
	if n == 1 || enc == tsRegular {
		var step uint64
		if n > 1 {
			if h.span%uint64(n-1) != 0 {
				return nil, fmt.Errorf("decode block: span %d is not %d regular intervals: %w", h.span, n-1, ErrCorruptBlock)
			}
			step = h.span / uint64(n-1)
		}
		// parseHeader checked mint < maxt, and the steps are equal and
		// positive, so the timestamps increase.
		it.regular, it.mint, it.step = true, h.mint, step
		return p, nil
	}
	if enc == tsDoDVarint {
		return decodeDoDVarint(it.ts[:n], h, p)
	}
	return decodeDoDBits(it.ts[:n], h, p) // parseHeader rejected code 3
}

// decodeValues decodes the values section p, which must end exactly at
// the end of p.
func (it *BlockIterator) decodeValues(enc byte, p []byte) error {
	vs := it.vs[:it.n]
	switch enc {
	case valConst:
		if len(p) != 8 {
			return fmt.Errorf("decode block: constant value of %d bytes: %w", len(p), ErrCorruptBlock)
		}
		it.conv, it.cv = convConst, math.Float64frombits(binary.LittleEndian.Uint64(p))
		return nil
	case valXOR:
		return decodeXOR(vs, p)
	case valDecDelta, valDecDoD:
		return it.decodeDecimal(vs, enc, p)
	}
	return fmt.Errorf("decode block: value encoding %d: %w", enc, ErrCorruptBlock)
}

// decodeDecimal decodes a decimal values section. It leaves float64 of
// each mantissa in vs and the exceptions in it.exc, and sets conv to the
// rest of the conversion: value = float64(m) / 10^-exp for exp < 0, or
// float64(m) * 10^exp for exp > 0. Division by an exact power of ten
// rounds correctly, which the encoder relied on; multiplying by the
// reciprocal would not. For exp == 0 (integer values) float64(m) is the
// value, and the exceptions go straight into vs.
func (it *BlockIterator) decodeDecimal(vs []float64, enc byte, p []byte) error {
	n := len(vs)
	var vals [3]uint64 // exponent, first mantissa, first delta
	need := 3
	if n == 1 {
		need = 2
	}
	pos := 0
	for k := 0; k < need; k++ {
		if vals[k], pos = uvarintSlow(p, pos); pos < 0 {
			return fmt.Errorf("decode block: decimal header: %w", ErrCorruptBlock)
		}
	}
	p = p[pos:]
	exp := unzigzag(vals[0])
	if exp < -maxDecimalExp || exp > maxDecimalExp {
		return fmt.Errorf("decode block: decimal exponent %d: %w", exp, ErrCorruptBlock)
	}
	m := unzigzag(vals[1])
	vs[0] = float64(m)
	if n > 1 {
		d := unzigzag(vals[2])
		m += d
		vs[1] = float64(m)
		var keep int64 // decimal delta: each varint replaces the delta
		if enc == valDecDoD {
			keep = -1 // decimal dod: each varint adds to it
		}
		pos, err := decodeMantissas(vs, p, m, d, keep)
		if err != nil {
			return err
		}
		p = p[pos:]
	}
	nexc, pos := uvarintSlow(p, 0)
	if pos < 0 || nexc > uint64(n) {
		return fmt.Errorf("decode block: exception count: %w", ErrCorruptBlock)
	}
	next := uint64(0)
	for k := uint64(0); k < nexc; k++ {
		gap, w := binary.Uvarint(p[pos:])
		if w <= 0 || gap >= uint64(n) || next+gap >= uint64(n) || len(p)-pos-w < 8 {
			return fmt.Errorf("decode block: exception %d: %w", k, ErrCorruptBlock)
		}
		i := next + gap
		bits := binary.LittleEndian.Uint64(p[pos+w:])
		if exp == 0 {
			vs[i] = math.Float64frombits(bits)
		} else {
			it.exc = append(it.exc, blockException{int(i), bits})
		}
		pos += w + 8
		next = i + 1
	}
	if len(p) != pos {
		return fmt.Errorf("decode block: %d bytes after the values: %w", len(p)-pos, ErrCorruptBlock)
	}
	switch {
	case exp < 0:
		it.conv, it.scale = convDiv, pow10[-exp]
	case exp > 0:
		it.conv, it.scale = convMul, pow10[exp]
	}
	return nil
}

// finish finishes samples lo..hi-1 in place, which must be all samples
// from raw on that the iterator can still reach, and moves raw to hi.
func (it *BlockIterator) finish(lo, hi int) {
	if it.regular {
		ts := it.ts[lo:hi]
		t := uint64(it.mint) + uint64(lo)*it.step
		for k := range ts {
			ts[k] = int64(t)
			t += it.step
		}
	}
	vs := it.vs[lo:hi]
	switch scale, cv := it.scale, it.cv; it.conv {
	case convDiv:
		for k := range vs {
			vs[k] /= scale
		}
	case convMul:
		for k := range vs {
			vs[k] *= scale
		}
	case convConst:
		for k := range vs {
			vs[k] = cv
		}
	}
	it.raw = hi
	// Blocks have few exceptions (the encoder allows n/4), and this loop
	// runs once per finish, not per sample.
	for _, e := range it.exc {
		if k := e.i - lo; uint(k) < uint(len(vs)) {
			vs[k] = math.Float64frombits(e.bits)
		}
	}
}

// Next advances to the next sample.
func (it *BlockIterator) Next() bool {
	if it.i+1 < it.raw {
		it.i++
		return true
	}
	return it.nextRaw()
}

// nextRaw is Next at raw, or at the end: it finishes all the samples left,
// as a caller that walks on with Next usually reads them all.
func (it *BlockIterator) nextRaw() bool {
	if j := it.i + 1; j < it.n {
		it.finish(j, it.n)
		it.i = j
		return true
	}
	it.i = it.n
	return false
}

// SeekTo advances to the first sample at or after t; it never moves
// backwards. It finishes only the samples from there on.
func (it *BlockIterator) SeekTo(t int64) bool {
	j := it.search(max(it.i, 0), t)
	it.i = j
	if j >= it.n {
		return false
	}
	if j >= it.raw {
		it.finish(j, it.n)
	}
	return true
}

// search returns the index of the first sample at index from or later with
// a timestamp at or after t, or n when there is none.
func (it *BlockIterator) search(from int, t int64) int {
	n := it.n
	if from >= n {
		return n
	}
	if !it.regular {
		if it.ts[from] >= t {
			return from
		}
		j, _ := slices.BinarySearch(it.ts[from:n], t)
		return from + j
	}
	if t <= it.mint {
		return from
	}
	if n == 1 {
		return n
	}
	// t > mint, and t - mint < 2^64 fits a uint64 even when it does not
	// fit an int64. The index is ceil((t - mint) / step).
	off := uint64(t) - uint64(it.mint)
	j := off / it.step
	if off%it.step != 0 {
		j++
	}
	if j >= uint64(n) {
		return n
	}
	return max(int(j), from)
}

// At returns the current sample.
func (it *BlockIterator) At() (int64, float64) { return it.ts[it.i], it.vs[it.i] }

// Err returns the error of the last Reset, if any.
func (it *BlockIterator) Err() error { return it.err }

// AppendRange appends the samples with timestamps in [mint, maxt] to dst,
// in order, and returns the extended slice. It is the loop
//
//	for ok := it.SeekTo(mint); ok; ok = it.Next() {
//		t, v := it.At()
//		if t > maxt {
//			break
//		}
//		dst = append(dst, model.Sample{T: t, V: v})
//	}
//
// without its per-sample calls and copies, and with the samples' decoding
// finished straight into dst: like that loop it starts at the current
// sample, never moves backwards, and leaves the iterator where the loop
// leaves it, at the first sample after maxt (or exhausted). Called right
// after Reset, it returns the block's samples in [mint, maxt].
//
// It grows dst at most once. The error is the last Reset's, if that
// failed; dst is then returned unchanged.
func (it *BlockIterator) AppendRange(dst []model.Sample, mint, maxt int64) ([]model.Sample, error) {
	if it.err != nil {
		return dst, it.err
	}
	j := it.search(max(it.i, 0), mint)
	k := it.n
	if maxt < math.MaxInt64 {
		k = it.search(j, maxt+1)
	}
	if j < k {
		dst = slices.Grow(dst, k-j)
		// At most one finished sample (the current one) comes before the
		// unfinished ones, unless all are finished.
		for ; j < k && j < it.raw; j++ {
			dst = append(dst, model.Sample{T: it.ts[j], V: it.vs[j]})
		}
		if j < k {
			dst = it.appendRaw(dst, j, k)
		}
	}
	it.i = k
	if k < it.n && k >= it.raw {
		it.finish(k, k+1)
	}
	return dst, nil
}

// appendRaw appends the unfinished samples lo..hi-1 to dst, finishing them
// on the way; they stay unfinished in the iterator. dst has room for them.
func (it *BlockIterator) appendRaw(dst []model.Sample, lo, hi int) []model.Sample {
	base := len(dst)
	dst = dst[:base+hi-lo]
	out := dst[base:]
	if it.regular {
		t, step := uint64(it.mint)+uint64(lo)*it.step, it.step
		for k := range out {
			out[k].T = int64(t)
			t += step
		}
	} else {
		ts := it.ts[lo:hi]
		ts = ts[:len(out)]
		for k := range out {
			out[k].T = ts[k]
		}
	}
	vs := it.vs[lo:hi]
	vs = vs[:len(out)]
	switch scale := it.scale; it.conv {
	case convNone:
		for k := range out {
			out[k].V = vs[k]
		}
	case convDiv:
		for k := range out {
			out[k].V = vs[k] / scale
		}
	case convMul:
		for k := range out {
			out[k].V = vs[k] * scale
		}
	case convConst:
		cv := it.cv
		for k := range out {
			out[k].V = cv
		}
	}
	for _, e := range it.exc {
		if k := e.i - lo; uint(k) < uint(len(out)) {
			out[k].V = math.Float64frombits(e.bits)
		}
	}
	return dst
}
