package tsdb

import (
	"context"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// openMemBenchDB opens an in-memory DB whose clock stands at a window
// start in the past, and returns it with its clock and that start.
func openMemBenchDB(b *testing.B) (*DB, *fakeClock, int64) {
	b.Helper()
	start := (time.Now().UnixMilli()/peerWindow - 4) * peerWindow
	clock := &fakeClock{t: time.UnixMilli(start)}
	opts := DefaultOptions()
	opts.Now = clock.Now
	opts.MaintenanceInterval = time.Hour
	db, err := Open("", opts, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, clock, start
}

// benchDB loads n datagen series x 720 samples (2 h at 10 s) starting at a
// window boundary, sealed when seal is set.
func benchDB(b *testing.B, n int, seal bool) (*DB, []model.Labels, int64) {
	b.Helper()
	db, clock, start := openMemBenchDB(b)
	series := datagen.Series(n)
	batch := make([]model.TimeSeries, n)
	for i, ls := range series {
		batch[i] = model.TimeSeries{Labels: ls, Samples: datagen.Samples(ls, i, start, peerInterval, peerSamples)}
	}
	if _, err := db.Append(batch); err != nil {
		b.Fatal(err)
	}
	if seal {
		clock.Set(time.UnixMilli(start + peerWindow + 11*60_000))
		db.Maintain(context.Background())
	}
	return db, series, start
}

// appendBench is an in-memory store and a batch of n datagen series with
// one sample each, the set-up of the append benchmarks.
type appendBench struct {
	db      *DB
	start   int64
	samples []model.Sample
	batch   []model.TimeSeries
}

func newAppendBench(b *testing.B, n int) *appendBench {
	db, _, start := openMemBenchDB(b)
	a := &appendBench{db: db, start: start, samples: make([]model.Sample, n), batch: make([]model.TimeSeries, n)}
	for i, ls := range datagen.Series(n) {
		a.batch[i] = model.TimeSeries{Labels: ls, Samples: a.samples[i : i+1]}
	}
	return a
}

// setStep gives every series its sample of round step, 10 s apart.
func (a *appendBench) setStep(step int) {
	for i := range a.samples {
		a.samples[i] = model.Sample{T: a.start + int64(step)*10_000, V: float64(step + i)}
	}
}

// BenchmarkAppend measures the append path for known series, one sample
// per series per call, as scrapes and remote-write batches arrive.
func BenchmarkAppend(b *testing.B) {
	const n = 10_000
	a := newAppendBench(b, n)
	b.ReportAllocs()
	b.ResetTimer()
	for step := 0; step < b.N; step++ {
		a.setStep(step)
		if res, err := a.db.Append(a.batch); err != nil || res.Rejected != 0 {
			b.Fatalf("append: %v %+v", err, res.Rejections)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkAppendRefs is BenchmarkAppend by series references (as remote
// write appends known series) over 100k series in batches of 5,000: the
// path where only the series' own state is touched.
func BenchmarkAppendRefs(b *testing.B) {
	const n, per = 100_000, 5000
	a := newAppendBench(b, n)
	refs := make([]uint64, n)
	step := 0
	appendAll := func() {
		a.setStep(step)
		for lo := 0; lo < n; lo += per {
			if res, err := a.db.AppendRefs(a.batch[lo:lo+per], refs[lo:lo+per]); err != nil || res.Rejected != 0 {
				b.Fatalf("append: %v %+v", err, res.Rejections)
			}
		}
		step++
	}
	appendAll() // create the series and learn their references
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		appendAll()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkSelect decodes 10% of 10k sealed series over 1 h.
func BenchmarkSelect(b *testing.B) {
	db, series, start := benchDB(b, 10_000, true)
	benchSelectTenth(b, db, len(series), start)
}

// benchSelectTenth times selecting the series of a tenth of the hosts of n
// datagen series and decoding one hour of them, starting a quarter into
// the window that begins at start.
func benchSelectTenth(b *testing.B, db *DB, n int, start int64) {
	hosts := n / datagen.SeriesPerHost
	ms := []*model.Matcher{model.MustNewMatcher(model.MatchRegexp, "instance", tenthOfHosts(hosts))}
	mint, maxt := start+peerWindow/4, start+peerWindow/4+3_600_000
	b.ReportAllocs()
	b.ResetTimer()
	var got int
	for range b.N {
		got = drainStratus(b, db, mint, maxt, ms)
	}
	b.ReportMetric(float64(got), "samples/op")
	b.ReportMetric(float64(got*b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkSelectHead decodes 10% of 10k series over 1 h of their open
// window: closed head chunks and the open one, in memory and, on a data
// directory, in head chunk files.
func BenchmarkSelectHead(b *testing.B) {
	for _, backend := range []string{"memory", "files"} {
		b.Run(backend, func(b *testing.B) {
			dir := ""
			if backend == "files" {
				dir = b.TempDir()
			}
			start := (time.Now().UnixMilli()/peerWindow - 4) * peerWindow
			clock := &fakeClock{t: time.UnixMilli(start)}
			opts := DefaultOptions()
			opts.Now = clock.Now
			opts.MaintenanceInterval = time.Hour
			opts.WAL.Disabled = true
			db, err := Open(dir, opts, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			series := datagen.Series(10_000)
			batch := make([]model.TimeSeries, len(series))
			for i, ls := range series {
				batch[i] = model.TimeSeries{Labels: ls, Samples: datagen.Samples(ls, i, start, peerInterval, peerSamples)}
			}
			if _, err := db.Append(batch); err != nil {
				b.Fatal(err)
			}
			benchSelectTenth(b, db, len(series), start)
		})
	}
}
