package chunkenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/golang/snappy"

	"github.com/stratus-metrics/stratus/model"
)

// BlockVersion is the format version written as the first byte of every
// sealed block. Decoders reject other versions.
const BlockVersion = 1

// MaxBlockSamples bounds the samples in one block. It keeps the memory a
// decoder commits to a corrupt header small (16 bytes a sample); a two-hour
// window at a 100 ms interval fits with room to spare. Callers split longer
// windows into several blocks.
const MaxBlockSamples = 1 << 17

// Errors reported by the block codec, wrapped with details.
var (
	// ErrEmptyBlock: AppendBlock was given no samples.
	ErrEmptyBlock = errors.New("block has no samples")
	// ErrOutOfOrderBlock: AppendBlock was given timestamps that do not
	// strictly increase.
	ErrOutOfOrderBlock = errors.New("block timestamps not strictly increasing")
	// ErrBlockTooLarge: AppendBlock was given more than MaxBlockSamples.
	ErrBlockTooLarge = errors.New("block has too many samples")
	// ErrCorruptBlock: the bytes are not a block this version can decode.
	ErrCorruptBlock = errors.New("corrupt block")
)

// Header flag bits (byte 1 of a block).
const (
	flagTSMask     = 0x03 // timestamp encoding, bits 0-1
	flagValueShift = 2
	flagValueMask  = 0x07 << flagValueShift // value encoding, bits 2-4
	flagSnappy     = 0x80                   // payload is snappy-compressed
)

// Timestamp encodings.
const (
	tsRegular   = 0 // no bytes: the interval is (maxt-mint)/(n-1)
	tsDoDVarint = 1 // uvarint first delta, then zigzag varint deltas of deltas
	tsDoDBits   = 2 // the same, bit-packed in Gorilla-style buckets
)

// Value encodings.
const (
	valConst    = 0 // 8 bytes: the one value's bits, little-endian
	valXOR      = 1 // Gorilla XOR bit stream
	valDecDelta = 2 // decimal mantissas, zigzag varint deltas
	valDecDoD   = 3 // decimal mantissas, zigzag varint deltas of deltas
)

// maxDecimalExp bounds decimal exponents: 10^22 is the largest power of ten
// a float64 holds exactly, which the exact-rounding argument needs.
const maxDecimalExp = 22

// maxMantissa bounds decimal mantissas so that float64(m) is exact.
const maxMantissa = 1 << 53

var pow10 = [maxDecimalExp + 1]float64{
	1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
}

// blockEncoder holds AppendBlock's scratch buffers. They are pooled because
// sealing runs for every series every window and the buffers are the only
// allocation AppendBlock would otherwise make.
type blockEncoder struct {
	payload []byte
	comp    []byte
	mant    []int64
	isExc   []bool
	exc     []int
}

var encoderPool = sync.Pool{New: func() any { return new(blockEncoder) }}

// AppendBlock appends the sealed-block encoding of samples to dst and
// returns the extended slice. Samples must be non-empty, at most
// MaxBlockSamples, with strictly increasing timestamps; otherwise dst is
// returned unchanged with an error. Values are kept bit for bit.
//
// For each block it picks the smallest of the timestamp encodings and of the
// value encodings (constant, Gorilla XOR, decimal delta, decimal
// delta-of-delta), then snappy-compresses the payload if that makes it
// smaller. FORMAT.md ("Block") gives the layout and the measurements behind
// these choices.
func AppendBlock(dst []byte, samples []model.Sample) ([]byte, error) {
	n := len(samples)
	if n == 0 {
		return dst, ErrEmptyBlock
	}
	if n > MaxBlockSamples {
		return dst, fmt.Errorf("encode block of %d samples (max %d): %w", n, MaxBlockSamples, ErrBlockTooLarge)
	}
	for i := 1; i < n; i++ {
		if samples[i].T <= samples[i-1].T {
			return dst, fmt.Errorf("encode block: sample %d at %d after %d: %w", i, samples[i].T, samples[i-1].T, ErrOutOfOrderBlock)
		}
	}
	e := encoderPool.Get().(*blockEncoder)
	defer encoderPool.Put(e)

	tsEnc := chooseTimestampEncoding(samples)
	p := appendTimestamps(e.payload[:0], tsEnc, samples)
	var valEnc byte
	p, valEnc = e.appendValues(p, samples)
	e.payload = p

	mint, maxt := samples[0].T, samples[n-1].T
	flags := tsEnc | valEnc<<flagValueShift
	payload := e.payload
	if len(payload) > 16 {
		e.comp = snappy.Encode(e.comp[:cap(e.comp)], payload)
		if len(e.comp) < len(payload) {
			payload = e.comp
			flags |= flagSnappy
		}
	}
	dst = append(dst, BlockVersion, flags)
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendVarint(dst, mint)
	if n > 1 {
		dst = binary.AppendUvarint(dst, uint64(maxt)-uint64(mint))
	}
	return append(dst, payload...), nil
}

// BlockInfo returns a block's time range and sample count from its
// uncompressed header, without decoding the payload, so that queries can
// skip blocks outside their range.
func BlockInfo(b []byte) (mint, maxt int64, n int, err error) {
	h, err := parseHeader(b)
	if err != nil {
		return 0, 0, 0, err
	}
	return h.mint, h.maxt, h.n, nil
}

type blockHeader struct {
	flags      byte
	n          int
	mint, maxt int64
	span       uint64
	payload    []byte
}

func parseHeader(b []byte) (blockHeader, error) {
	var h blockHeader
	if len(b) < 2 {
		return h, fmt.Errorf("block of %d bytes is shorter than its header: %w", len(b), ErrCorruptBlock)
	}
	if b[0] != BlockVersion {
		return h, fmt.Errorf("block version %d, want %d: %w", b[0], BlockVersion, ErrCorruptBlock)
	}
	h.flags = b[1]
	if h.flags&^(flagTSMask|flagValueMask|flagSnappy) != 0 ||
		h.flags&flagTSMask > tsDoDBits ||
		(h.flags&flagValueMask)>>flagValueShift > valDecDoD {
		return h, fmt.Errorf("block flags %#x: %w", h.flags, ErrCorruptBlock)
	}
	pos := 2
	un, w := binary.Uvarint(b[pos:])
	if w <= 0 || un == 0 || un > MaxBlockSamples {
		return h, fmt.Errorf("block sample count: %w", ErrCorruptBlock)
	}
	pos += w
	h.n = int(un)
	h.mint, w = binary.Varint(b[pos:])
	if w <= 0 {
		return h, fmt.Errorf("block min time: %w", ErrCorruptBlock)
	}
	pos += w
	if h.n > 1 {
		h.span, w = binary.Uvarint(b[pos:])
		if w <= 0 || h.span < uint64(h.n-1) || int64(uint64(h.mint)+h.span) <= h.mint {
			return h, fmt.Errorf("block time span: %w", ErrCorruptBlock)
		}
		pos += w
	}
	h.maxt = int64(uint64(h.mint) + h.span)
	h.payload = b[pos:]
	return h, nil
}

// chooseTimestampEncoding returns the encoding that stores the samples'
// timestamps in the fewest bytes.
func chooseTimestampEncoding(s []model.Sample) byte {
	if len(s) <= 2 {
		return tsRegular // one interval at most: the header says it all
	}
	d0 := uint64(s[1].T) - uint64(s[0].T)
	regular := true
	varintLen := uvarintLen(d0)
	bitLen := 8 * varintLen
	prev := d0
	for i := 2; i < len(s); i++ {
		d := uint64(s[i].T) - uint64(s[i-1].T)
		dod := int64(d - prev)
		prev = d
		if dod != 0 {
			regular = false
		}
		varintLen += uvarintLen(zigzag(dod))
		bitLen += dodBits(dod)
	}
	switch {
	case regular:
		return tsRegular
	case (bitLen+7)/8 < varintLen:
		return tsDoDBits
	default:
		return tsDoDVarint
	}
}

func appendTimestamps(dst []byte, enc byte, s []model.Sample) []byte {
	switch enc {
	case tsDoDVarint:
		prev := uint64(s[1].T) - uint64(s[0].T)
		dst = binary.AppendUvarint(dst, prev)
		for i := 2; i < len(s); i++ {
			d := uint64(s[i].T) - uint64(s[i-1].T)
			dst = binary.AppendUvarint(dst, zigzag(int64(d-prev)))
			prev = d
		}
	case tsDoDBits:
		w := bitWriter{b: dst}
		prev := uint64(s[1].T) - uint64(s[0].T)
		w.writeUvarint(prev)
		for i := 2; i < len(s); i++ {
			d := uint64(s[i].T) - uint64(s[i-1].T)
			writeDoD(&w, int64(d-prev))
			prev = d
		}
		dst = w.b
	}
	return dst
}

// appendValues appends the smallest value encoding of s and returns it.
func (e *blockEncoder) appendValues(dst []byte, s []model.Sample) ([]byte, byte) {
	n := len(s)
	first := math.Float64bits(s[0].V)
	constant := true
	for i := 1; i < n; i++ {
		if math.Float64bits(s[i].V) != first {
			constant = false
			break
		}
	}
	if constant {
		return binary.LittleEndian.AppendUint64(dst, first), valConst
	}

	// Gorilla XOR is always possible; write it and keep it unless a decimal
	// encoding is smaller.
	start := len(dst)
	dst = appendXORValues(dst, s)
	xorLen := len(dst) - start

	exp, ok := e.decimalMantissas(s)
	if !ok {
		return dst, valXOR
	}
	deltaLen, dodLen := e.decimalSizes(exp)
	switch {
	case deltaLen <= dodLen && deltaLen < xorLen:
		return e.appendDecimal(dst[:start], exp, valDecDelta, s), valDecDelta
	case dodLen < deltaLen && dodLen < xorLen:
		return e.appendDecimal(dst[:start], exp, valDecDoD, s), valDecDoD
	}
	return dst, valXOR
}

func appendXORValues(dst []byte, s []model.Sample) []byte {
	first := math.Float64bits(s[0].V)
	w := bitWriter{b: dst}
	var xs xorState
	w.writeBits(first, 64)
	xs.reset(first)
	for i := 1; i < len(s); i++ {
		xs.write(&w, math.Float64bits(s[i].V))
	}
	return w.b
}

// decimalExp reports the smallest k in [from, maxDecimalExp] for which
// v == float64(m) / 10^k exactly with an integer |m| <= 2^53. Such a
// division is correctly rounded, so it gives back the float nearest to the
// decimal m·10^-k, which is v. NaN, ±Inf, -0 and values with more than
// about 16 significant digits have no such k.
func decimalExp(v float64, from int) (int, bool) {
	for k := from; k <= maxDecimalExp; k++ {
		if _, ok := mantissaAt(v, k); ok {
			return k, true
		}
		if !(math.Abs(v*pow10[k]) <= maxMantissa) {
			return 0, false // larger k only makes m larger
		}
	}
	return 0, false
}

// mantissaAt returns m with v == float64(m)/10^k bit for bit, if there is one.
func mantissaAt(v float64, k int) (int64, bool) {
	x := math.Round(v * pow10[k])
	if !(math.Abs(x) <= maxMantissa) { // also false for NaN
		return 0, false
	}
	m := int64(x)
	return m, math.Float64bits(float64(m)/pow10[k]) == math.Float64bits(v)
}

// decimalMantissas finds the common exponent of the block's values and
// fills e.mant with their mantissas; values that cannot use it (NaN, ±Inf,
// -0, too many digits) become exceptions, stored raw, their mantissa slot
// repeating the previous mantissa. It reports false when the decimal
// encoding cannot win (too many exceptions).
func (e *blockEncoder) decimalMantissas(s []model.Sample) (exp int, ok bool) {
	n := len(s)
	e.mant = grow(e.mant, n)
	e.isExc = grow(e.isExc, n)
	e.exc = e.exc[:0]
	k := 0
	for i, smp := range s {
		if _, ok := mantissaAt(smp.V, k); ok {
			e.isExc[i] = false
			continue
		}
		if kk, ok := decimalExp(smp.V, k+1); ok {
			k = kk
			e.isExc[i] = false
			continue
		}
		e.isExc[i] = true
	}
	var prev int64
	for i, smp := range s {
		if !e.isExc[i] {
			if m, ok := mantissaAt(smp.V, k); ok {
				e.mant[i] = m
				prev = m
				continue
			}
		}
		e.mant[i] = prev
		e.exc = append(e.exc, i)
		if len(e.exc) > n/4 {
			return 0, false
		}
	}
	return -k, true
}

// decimalSizes returns the payload sizes of the two decimal encodings.
func (e *blockEncoder) decimalSizes(exp int) (deltaLen, dodLen int) {
	m := e.mant
	common := uvarintLen(zigzag(int64(exp))) + uvarintLen(zigzag(m[0])) + uvarintLen(uint64(len(e.exc)))
	prev := 0
	for _, i := range e.exc {
		common += uvarintLen(uint64(i-prev)) + 8
		prev = i + 1
	}
	deltaLen, dodLen = common, common
	if len(m) > 1 {
		d0 := m[1] - m[0]
		deltaLen += uvarintLen(zigzag(d0))
		dodLen += uvarintLen(zigzag(d0))
		prevD := d0
		for i := 2; i < len(m); i++ {
			d := m[i] - m[i-1]
			deltaLen += uvarintLen(zigzag(d))
			dodLen += uvarintLen(zigzag(d - prevD))
			prevD = d
		}
	}
	return deltaLen, dodLen
}

func (e *blockEncoder) appendDecimal(dst []byte, exp int, enc byte, s []model.Sample) []byte {
	m := e.mant
	dst = binary.AppendUvarint(dst, zigzag(int64(exp)))
	dst = binary.AppendUvarint(dst, zigzag(m[0]))
	if len(m) > 1 {
		d0 := m[1] - m[0]
		dst = binary.AppendUvarint(dst, zigzag(d0))
		prevD := d0
		for i := 2; i < len(m); i++ {
			d := m[i] - m[i-1]
			if enc == valDecDelta {
				dst = binary.AppendUvarint(dst, zigzag(d))
			} else {
				dst = binary.AppendUvarint(dst, zigzag(d-prevD))
			}
			prevD = d
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.exc)))
	prev := 0
	for _, i := range e.exc {
		dst = binary.AppendUvarint(dst, uint64(i-prev))
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(s[i].V))
		prev = i + 1
	}
	return dst
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// grow returns s resized to n, reusing its array when large enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
