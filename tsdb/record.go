package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/stratus-metrics/stratus/model"
)

// Record types of the payloads the DB writes into the WAL. FORMAT.md
// documents their layout.
const (
	recSeries  byte = 1
	recSamples byte = 2
)

var errBadRecord = errors.New("malformed wal record")

// seriesRecord accumulates series definitions: id and canonical key.
type seriesRecord struct{ buf []byte }

func (r *seriesRecord) reset()      { r.buf = append(r.buf[:0], recSeries) }
func (r *seriesRecord) empty() bool { return len(r.buf) <= 1 }

func (r *seriesRecord) add(id uint32, key string) {
	r.buf = binary.AppendUvarint(r.buf, uint64(id))
	r.buf = binary.AppendUvarint(r.buf, uint64(len(key)))
	r.buf = append(r.buf, key...)
}

// samplesRecord accumulates samples grouped by series: for each series its
// id, the count, then each sample as a zigzag varint timestamp delta (from 0
// for the first) and the value's 8 raw bytes.
type samplesRecord struct {
	buf   []byte
	head  int   // offset where the open series' entry starts
	start int   // offset of the open series' count placeholder, or -1
	n     int   // samples in the open series
	prevT int64 // last timestamp in the open series
}

func (r *samplesRecord) reset()      { r.buf = append(r.buf[:0], recSamples); r.start = -1 }
func (r *samplesRecord) empty() bool { return len(r.buf) <= 1 }

// begin opens a series; end closes it. Samples go in between.
func (r *samplesRecord) begin(id uint32) {
	r.head = len(r.buf)
	r.buf = binary.AppendUvarint(r.buf, uint64(id))
	r.start = len(r.buf)
	r.buf = append(r.buf, 0, 0, 0, 0) // count, fixed width so it can be patched
	r.n, r.prevT = 0, 0
}

func (r *samplesRecord) add(t int64, v float64) {
	r.buf = binary.AppendVarint(r.buf, t-r.prevT)
	r.buf = binary.LittleEndian.AppendUint64(r.buf, math.Float64bits(v))
	r.prevT = t
	r.n++
}

// end closes the open series, dropping it when it got no samples.
func (r *samplesRecord) end() {
	if r.n == 0 {
		r.buf = r.buf[:r.head] // drop the entry of a series with no samples
	} else {
		binary.LittleEndian.PutUint32(r.buf[r.start:], uint32(r.n))
	}
	r.start = -1
}

// decodeSeriesRecord calls f for each series definition in rec (without
// its type byte).
func decodeSeriesRecord(rec []byte, f func(id uint32, key []byte) error) error {
	for len(rec) > 0 {
		id, n := binary.Uvarint(rec)
		if n <= 0 || id == 0 || id > math.MaxUint32 {
			return fmt.Errorf("%w: bad series id", errBadRecord)
		}
		rec = rec[n:]
		l, n := binary.Uvarint(rec)
		if n <= 0 || l > uint64(len(rec)-n) {
			return fmt.Errorf("%w: bad series key length", errBadRecord)
		}
		key := rec[n : n+int(l)]
		rec = rec[n+int(l):]
		if err := f(uint32(id), key); err != nil {
			return err
		}
	}
	return nil
}

// decodeSamplesRecord calls f for each series' samples in rec (without its
// type byte); the slice passed to f is reused between calls.
func decodeSamplesRecord(rec []byte, buf []model.Sample, f func(id uint32, samples []model.Sample)) ([]model.Sample, error) {
	for len(rec) > 0 {
		id, n := binary.Uvarint(rec)
		if n <= 0 || id == 0 || id > math.MaxUint32 || len(rec) < n+4 {
			return buf, fmt.Errorf("%w: bad samples header", errBadRecord)
		}
		count := binary.LittleEndian.Uint32(rec[n:])
		rec = rec[n+4:]
		if uint64(count)*9 > uint64(len(rec)) {
			return buf, fmt.Errorf("%w: sample count %d exceeds record", errBadRecord, count)
		}
		buf = buf[:0]
		var t int64
		for range count {
			d, n := binary.Varint(rec)
			if n <= 0 || len(rec) < n+8 {
				return buf, fmt.Errorf("%w: truncated sample", errBadRecord)
			}
			t += d
			v := math.Float64frombits(binary.LittleEndian.Uint64(rec[n:]))
			rec = rec[n+8:]
			buf = append(buf, model.Sample{T: t, V: v})
		}
		f(uint32(id), buf)
	}
	return buf, nil
}
