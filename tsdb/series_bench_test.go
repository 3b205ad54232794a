package tsdb

import (
	"fmt"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// BenchmarkAppendKnownSeries is the remote-write shape of the append path
// at the cardinality of the ingest benchmark (BENCHMARKS.md): every call
// appends one sample to each of 5000 known series, by labels, cycling
// through all the series, so that the series lookup works on a set larger
// than the CPU caches. It reports allocations per sample.
func BenchmarkAppendKnownSeries(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("series=%d", n), func(b *testing.B) {
			const perCall = 5000
			series := datagen.Series(n)
			start := (time.Now().UnixMilli()/peerWindow - 4) * peerWindow
			opts := DefaultOptions()
			opts.Now = (&fakeClock{t: time.UnixMilli(start)}).Now
			opts.MaintenanceInterval = time.Hour
			db, err := Open("", opts, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			samples := make([]model.Sample, n)
			batch := make([]model.TimeSeries, n)
			for i, ls := range series {
				batch[i] = model.TimeSeries{Labels: ls, Samples: samples[i : i+1]}
			}
			round := func(step int) {
				for i := range samples {
					samples[i] = model.Sample{T: start + int64(step)*10_000, V: float64(step + i)}
				}
			}
			round(0)
			if _, err := db.Append(batch); err != nil { // create the series
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			step, off := 1, 0
			round(step)
			for range b.N {
				if res, err := db.Append(batch[off : off+perCall]); err != nil || res.Rejected != 0 {
					b.Fatalf("append: %v %+v", err, res.Rejections)
				}
				if off += perCall; off >= n {
					off = 0
					step++
					round(step)
				}
			}
			b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perCall), "ns/sample")
		})
	}
}
