package ingest

import (
	"fmt"
	"math"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// pbField is one field of a protobuf message as read by nextField: its
// number and wire type, and its value as a varint, a fixed 32/64-bit word,
// or the bytes of a length-delimited field (a slice of the message).
type pbField struct {
	num   protowire.Number
	typ   protowire.Type
	u     uint64
	bytes []byte
}

// nextField reads the field at the start of b and returns it with the rest
// of b. Groups are skipped whole (they are never used by the formats we
// read); the caller sees them as a field of wire type StartGroup with no
// value. Hand-reading fields this way keeps the hot path free of
// reflection and allocation.
func nextField(b []byte) (pbField, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return pbField{}, nil, fmt.Errorf("read field tag: %w", protowire.ParseError(n))
	}
	b = b[n:]
	f := pbField{num: num, typ: typ}
	switch typ {
	case protowire.VarintType:
		f.u, n = protowire.ConsumeVarint(b)
	case protowire.Fixed64Type:
		f.u, n = protowire.ConsumeFixed64(b)
	case protowire.Fixed32Type:
		var v uint32
		v, n = protowire.ConsumeFixed32(b)
		f.u = uint64(v)
	case protowire.BytesType:
		f.bytes, n = protowire.ConsumeBytes(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return pbField{}, nil, fmt.Errorf("read field %d: %w", num, protowire.ParseError(n))
	}
	return f, b[n:], nil
}

// wantType checks a known field's wire type, so that a field of the wrong
// type is an error rather than a silently wrong value.
func (f pbField) wantType(t protowire.Type, name string) error {
	if f.typ != t {
		return fmt.Errorf("field %d (%s) has wire type %d, want %d", f.num, name, f.typ, t)
	}
	return nil
}

func (f pbField) float64() float64 { return math.Float64frombits(f.u) }

// packedVarints calls fn for each varint of a packed repeated field, or for
// the single value of an unpacked one (both encodings are legal).
func (f pbField) packedVarints(fn func(uint64) error) error {
	switch f.typ {
	case protowire.VarintType:
		return fn(f.u)
	case protowire.BytesType:
		b := f.bytes
		for len(b) > 0 {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("read packed field %d: %w", f.num, protowire.ParseError(n))
			}
			if err := fn(v); err != nil {
				return err
			}
			b = b[n:]
		}
		return nil
	}
	return fmt.Errorf("field %d has wire type %d, want varint or packed", f.num, f.typ)
}

// packedFixed64 is packedVarints for fixed64 and double fields.
func (f pbField) packedFixed64(fn func(uint64)) error {
	switch f.typ {
	case protowire.Fixed64Type:
		fn(f.u)
		return nil
	case protowire.BytesType:
		b := f.bytes
		if len(b)%8 != 0 {
			return fmt.Errorf("packed fixed64 field %d has %d bytes, not a multiple of 8", f.num, len(b))
		}
		for len(b) > 0 {
			v, _ := protowire.ConsumeFixed64(b)
			fn(v)
			b = b[8:]
		}
		return nil
	}
	return fmt.Errorf("field %d has wire type %d, want fixed64 or packed", f.num, f.typ)
}

// bodyString returns the decompressed body buf as a string without copying
// it, so that the label strings of a protobuf request (cut from it with
// strIn, or converted piece by piece) cost neither a copy nor an
// allocation. buf is r.dec or r.raw (or, for Atlas, the request's JSON
// parser's copy of them), so the strings are valid until the request is
// released, and nothing may keep them beyond that: the Appender contract already says a store copies
// what it keeps, and messages are formatted into new strings. Copying a
// 750 KB body into a string per request was two thirds of the bytes
// the server allocated under remote write, and the GC work that came with
// them.
func bodyString(buf []byte) string {
	return unsafe.String(unsafe.SliceData(buf), len(buf))
}

// strIn returns sub, a slice of base, as a substring of s, the string
// holding base's bytes (see bodyString), so that decoding allocates nothing
// per label. sub must lie within base[:len(s)].
func strIn(s string, base, sub []byte) string {
	off := cap(base) - cap(sub)
	return s[off : off+len(sub)]
}
