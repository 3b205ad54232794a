package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/golang/snappy"

	"github.com/stratus-metrics/stratus/model"
)

// refDecodeBlock is the block decoder as it was before BlockIterator was
// tuned: a plain, sample-at-a-time reading of FORMAT.md. Tests and fuzz
// targets check that the tuned decoder accepts exactly the blocks this one
// accepts and returns the same samples, bit for bit.
func refDecodeBlock(b []byte) ([]model.Sample, error) {
	h, err := parseHeader(b)
	if err != nil {
		return nil, fmt.Errorf("decode block: %w", err)
	}
	p := h.payload
	if h.flags&flagSnappy != 0 {
		dlen, err := snappy.DecodedLen(p)
		if err != nil || dlen > 40*h.n+64 {
			return nil, fmt.Errorf("decode block: snappy payload length: %w", ErrCorruptBlock)
		}
		p, err = snappy.Decode(make([]byte, dlen), p)
		if err != nil {
			return nil, fmt.Errorf("decode block: snappy payload: %v: %w", err, ErrCorruptBlock)
		}
	}
	ts := make([]int64, h.n)
	vs := make([]float64, h.n)
	rest, err := refDecodeTimestamps(ts, h, p)
	if err != nil {
		return nil, err
	}
	if err := refDecodeValues(vs, byte(h.flags&flagValueMask)>>flagValueShift, rest); err != nil {
		return nil, err
	}
	out := make([]model.Sample, h.n)
	for i := range out {
		out[i] = model.Sample{T: ts[i], V: vs[i]}
	}
	return out, nil
}

func refDecodeTimestamps(ts []int64, h blockHeader, p []byte) ([]byte, error) {
	n := len(ts)
	ts[0] = h.mint
	if n == 1 {
		return p, nil
	}
	switch h.flags & flagTSMask {
	case tsRegular:
		if h.span%uint64(n-1) != 0 {
			return nil, fmt.Errorf("decode block: span %d is not %d regular intervals: %w", h.span, n-1, ErrCorruptBlock)
		}
		d := h.span / uint64(n-1)
		t := uint64(h.mint)
		for i := 1; i < n; i++ {
			t += d
			ts[i] = int64(t)
		}
		// parseHeader checked mint < maxt, and the steps are equal and
		// positive, so the timestamps increase.
		return p, nil
	case tsDoDVarint:
		d, w := binary.Uvarint(p)
		if w <= 0 {
			return nil, fmt.Errorf("decode block: first interval: %w", ErrCorruptBlock)
		}
		p = p[w:]
		t := uint64(h.mint) + d
		ts[1] = int64(t)
		for i := 2; i < n; i++ {
			u, w := binary.Uvarint(p)
			if w <= 0 {
				return nil, fmt.Errorf("decode block: timestamp %d: %w", i, ErrCorruptBlock)
			}
			p = p[w:]
			d += uint64(unzigzag(u))
			t += d
			ts[i] = int64(t)
		}
	case tsDoDBits:
		var r bitReader
		r.reset(p)
		d, ok := r.readUvarint()
		if !ok {
			return nil, fmt.Errorf("decode block: first interval: %w", ErrCorruptBlock)
		}
		t := uint64(h.mint) + d
		ts[1] = int64(t)
		for i := 2; i < n; i++ {
			dod, ok := readDoD(&r)
			if !ok {
				return nil, fmt.Errorf("decode block: timestamp %d: %w", i, ErrCorruptBlock)
			}
			d += uint64(dod)
			t += d
			ts[i] = int64(t)
		}
		p = p[(r.pos+7)/8:]
	}
	for i := 1; i < n; i++ {
		if ts[i] <= ts[i-1] {
			return nil, fmt.Errorf("decode block: timestamp %d at %d after %d: %w", i, ts[i], ts[i-1], ErrCorruptBlock)
		}
	}
	if ts[n-1] != h.maxt {
		return nil, fmt.Errorf("decode block: last timestamp %d, header says %d: %w", ts[n-1], h.maxt, ErrCorruptBlock)
	}
	return p, nil
}

func refDecodeValues(vs []float64, enc byte, p []byte) error {
	n := len(vs)
	switch enc {
	case valConst:
		if len(p) != 8 {
			return fmt.Errorf("decode block: constant value of %d bytes: %w", len(p), ErrCorruptBlock)
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(p))
		for i := range vs {
			vs[i] = v
		}
		return nil
	case valXOR:
		var r bitReader
		r.reset(p)
		first, ok := r.readBits(64)
		if !ok {
			return fmt.Errorf("decode block: first value: %w", ErrCorruptBlock)
		}
		var xs xorState
		xs.reset(first)
		vs[0] = math.Float64frombits(first)
		for i := 1; i < n; i++ {
			u, ok := xs.read(&r)
			if !ok {
				return fmt.Errorf("decode block: value %d: %w", i, ErrCorruptBlock)
			}
			vs[i] = math.Float64frombits(u)
		}
		if (r.pos+7)/8 != uint64(len(p)) {
			return fmt.Errorf("decode block: %d bytes after the values: %w", uint64(len(p))-(r.pos+7)/8, ErrCorruptBlock)
		}
		return nil
	case valDecDelta, valDecDoD:
		return refDecodeDecimal(vs, enc, p)
	}
	return fmt.Errorf("decode block: value encoding %d: %w", enc, ErrCorruptBlock)
}

func refDecodeDecimal(vs []float64, enc byte, p []byte) error {
	n := len(vs)
	var vals [3]uint64 // exponent, first mantissa, first delta
	need := 3
	if n == 1 {
		need = 2
	}
	for k := 0; k < need; k++ {
		u, w := binary.Uvarint(p)
		if w <= 0 {
			return fmt.Errorf("decode block: decimal header: %w", ErrCorruptBlock)
		}
		vals[k] = u
		p = p[w:]
	}
	exp := unzigzag(vals[0])
	if exp < -maxDecimalExp || exp > maxDecimalExp {
		return fmt.Errorf("decode block: decimal exponent %d: %w", exp, ErrCorruptBlock)
	}
	// Division by an exact power of ten rounds correctly, which the encoder
	// relied on; multiplying by the reciprocal would not.
	scale, div := pow10[max(exp, -exp)], exp < 0
	conv := func(m int64) float64 {
		if div {
			return float64(m) / scale
		}
		return float64(m) * scale
	}
	m := unzigzag(vals[1])
	vs[0] = conv(m)
	if n > 1 {
		d := unzigzag(vals[2])
		m += d
		vs[1] = conv(m)
		for i := 2; i < n; i++ {
			u, w := binary.Uvarint(p)
			if w <= 0 {
				return fmt.Errorf("decode block: value %d: %w", i, ErrCorruptBlock)
			}
			p = p[w:]
			if enc == valDecDelta {
				d = unzigzag(u)
			} else {
				d += unzigzag(u)
			}
			m += d
			vs[i] = conv(m)
		}
	}
	nexc, w := binary.Uvarint(p)
	if w <= 0 || nexc > uint64(n) {
		return fmt.Errorf("decode block: exception count: %w", ErrCorruptBlock)
	}
	p = p[w:]
	next := uint64(0)
	for k := uint64(0); k < nexc; k++ {
		gap, w := binary.Uvarint(p)
		if w <= 0 || gap >= uint64(n) || next+gap >= uint64(n) || len(p)-w < 8 {
			return fmt.Errorf("decode block: exception %d: %w", k, ErrCorruptBlock)
		}
		i := next + gap
		vs[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[w:]))
		p = p[w+8:]
		next = i + 1
	}
	if len(p) != 0 {
		return fmt.Errorf("decode block: %d bytes after the values: %w", len(p), ErrCorruptBlock)
	}
	return nil
}
