package tsdb

import (
	"math"
	"testing"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

func TestRecordRoundTrip(t *testing.T) {
	var sr seriesRecord
	sr.reset()
	sr.add(1, "a")
	sr.add(1<<31, string(model.AppendKey(nil, model.FromStrings(model.MetricName, "x", "k", "ü"))))
	var gotSeries []uint32
	if err := decodeSeriesRecord(sr.buf[1:], func(id uint32, key []byte) error { gotSeries = append(gotSeries, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(gotSeries) != 2 || gotSeries[1] != 1<<31 {
		t.Fatalf("series ids %v", gotSeries)
	}

	var rec samplesRecord
	rec.reset()
	in := map[uint32][]model.Sample{
		7:  {{T: math.MinInt64 + 1, V: math.Inf(-1)}, {T: 0, V: model.StaleNaN()}, {T: math.MaxInt64, V: math.Copysign(0, -1)}},
		9:  {},
		10: {{T: -5, V: 1.5}},
	}
	for _, id := range []uint32{7, 9, 10} {
		rec.begin(id)
		for _, s := range in[id] {
			rec.add(s.T, s.V)
		}
		rec.end()
	}
	got := map[uint32][]model.Sample{}
	if _, err := decodeSamplesRecord(rec.buf[1:], nil, func(id uint32, ss []model.Sample) {
		got[id] = append([]model.Sample(nil), ss...)
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := got[9]; ok || len(got) != 2 {
		t.Fatalf("empty series must be dropped: %v", got)
	}
	for id, want := range in {
		if len(want) > 0 && !sameSamples(got[id], want) {
			t.Fatalf("series %d: got %v, want %v", id, got[id], want)
		}
	}
}

// FuzzWALRecord feeds arbitrary payloads to the record decoders: they must
// return an error or data, never panic.
func FuzzWALRecord(f *testing.F) {
	var rec samplesRecord
	rec.reset()
	rec.begin(3)
	rec.add(1000, 1)
	rec.add(2000, 2)
	rec.end()
	f.Add(rec.buf[1:])
	var sr seriesRecord
	sr.reset()
	sr.add(3, "\x08__name__\x01m")
	f.Add(sr.buf[1:])
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeSeriesRecord(b, func(uint32, []byte) error { return nil })
		decodeSamplesRecord(b, nil, func(uint32, []model.Sample) {})
	})
}

// FuzzCheckpointFile checks that any file content is either read with
// verified entries or rejected, never a panic.
func FuzzCheckpointFile(f *testing.F) {
	good := ckptHeader(blockFileMagic, t0, 7_200_000, 1)
	good = appendEntry(good, 1, []byte("block"))
	f.Add(good)
	f.Add(good[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := vfs.NewMemFS()
		w, _ := fsys.Create("/f")
		w.Write(b)
		w.Close()
		cf, err := readCkptFile(fsys, "/f", blockFileMagic)
		if err == nil {
			for _, e := range cf.entries {
				_ = e.data
			}
		}
	})
}
