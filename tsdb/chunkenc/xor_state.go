package chunkenc

import (
	"encoding/binary"
	"fmt"
)

// AppendXORChunkState appends the chunk's full state — its stream and the
// appender's registers — so that ReadXORChunkState can rebuild an
// appendable chunk without decoding the stream. The TSDB's head snapshot
// uses it: restoring a million open chunks by decoding them would dominate
// start-up. The layout is in FORMAT.md ("Head chunk state").
func AppendXORChunkState(dst []byte, c *XORChunk) []byte {
	dst = binary.AppendUvarint(dst, uint64(c.n))
	dst = binary.AppendVarint(dst, c.maxt)
	dst = binary.AppendUvarint(dst, c.tDelta)
	dst = binary.LittleEndian.AppendUint64(dst, c.prev)
	dst = append(dst, c.leading, c.trailing, c.free)
	dst = binary.AppendUvarint(dst, uint64(len(c.b)))
	return append(dst, c.b...)
}

// ReadXORChunkState rebuilds a chunk written by AppendXORChunkState and
// returns the rest of b. It checks the state for consistency (lengths,
// padding bits, window) but trusts the stream's bits: callers protect the
// bytes with a checksum. The chunk copies what it keeps.
func ReadXORChunkState(b []byte) (*XORChunk, []byte, error) {
	v, rest, err := ViewXORChunkState(b, 0)
	if err != nil {
		return nil, nil, err
	}
	c := v
	c.b = append(make([]byte, 0, max(32, len(v.b)+writeHeadroom)), v.b...)
	return &c, rest, nil
}

// ViewXORChunkState is ReadXORChunkState without the copy: the chunk's
// stream aliases b, which must stay unchanged while the chunk is in use. It
// is for reading a closed chunk in place (Iterator, MinTime, MaxTime,
// NumSamples), for instance from a file mapped read-only.
//
// readAhead is how many bytes of b after the state the view's iterator may
// load (never use) to decode the last samples on its fast path; b must
// hold them. With readAhead 0 an Append to the view never writes into b
// (the stream has no spare capacity, so the first write copies it); with
// more, the view must not be appended to.
func ViewXORChunkState(b []byte, readAhead int) (XORChunk, []byte, error) {
	fail := func(what string) (XORChunk, []byte, error) {
		return XORChunk{}, nil, fmt.Errorf("read head chunk state: %s: %w", what, ErrCorruptChunk)
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 1<<31 {
		return fail("sample count")
	}
	b = b[k:]
	maxt, k := binary.Varint(b)
	if k <= 0 {
		return fail("max time")
	}
	b = b[k:]
	tDelta, k := binary.Uvarint(b)
	if k <= 0 {
		return fail("timestamp delta")
	}
	b = b[k:]
	if len(b) < 11 {
		return fail("registers")
	}
	prev := binary.LittleEndian.Uint64(b)
	leading, trailing, free := b[8], b[9], b[10]
	b = b[11:]
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return fail("stream length")
	}
	stream := b[k : k+int(l)]
	b = b[k+int(l):]
	switch {
	case free > 7 || (len(stream) == 0 && (free != 0 || n != 0)) || (n > 0 && len(stream) == 0):
		return fail("stream and free bits disagree")
	case len(stream) > 0 && stream[len(stream)-1]&(1<<free-1) != 0:
		return fail("nonzero padding")
	case leading != noWindow && (leading > 64 || trailing > 64 || int(leading)+int(trailing) > 64):
		return fail("xor window")
	}
	if readAhead < 0 || len(b) < readAhead {
		return fail("read-ahead past the end")
	}
	c := XORChunk{
		b:         stream[: len(stream) : len(stream)+readAhead],
		n:         uint32(n),
		maxt:      maxt,
		tDelta:    tDelta,
		prev:      prev,
		free:      free,
		xorWindow: xorWindow{leading: leading, trailing: trailing},
	}
	return c, b, nil
}
