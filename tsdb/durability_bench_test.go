package tsdb

// Durability benchmarks for BENCHMARKS.md:
//
//	go test -run '^$' -bench 'WAL|Restart' -benchtime 1x ./tsdb/
//
// STRATUS_BENCH_RESTART_SERIES sets the series of the restart benchmark
// (default 1,000,000).

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

func openBenchDurable(b *testing.B, dir string, clock *fakeClock, tweak func(*Options)) *DB {
	b.Helper()
	opts := DefaultOptions()
	opts.Now = clock.Now
	opts.MaintenanceInterval = time.Hour
	if tweak != nil {
		tweak(&opts)
	}
	db, err := Open(dir, opts, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkWALIngest compares ingest with the WAL off, and with the
// interval and always policies, on 10k series x 30 min, time-major, 5k
// series per append: the ratio is WAL throughput / no-WAL throughput.
func BenchmarkWALIngest(b *testing.B) {
	const n, steps = 10_000, 180
	series := datagen.Series(n)
	start := (time.Now().UnixMilli()/peerWindow - 4) * peerWindow
	data := make([][]model.Sample, n)
	for i, ls := range series {
		data[i] = datagen.Samples(ls, i, start, peerInterval, steps)
	}
	run := func(b *testing.B, dir string, tweak func(*Options)) time.Duration {
		db := openBenchDurable(b, dir, &fakeClock{t: time.UnixMilli(start)}, tweak)
		defer db.Close()
		batch := make([]model.TimeSeries, 0, peerBatch)
		began := time.Now()
		for step := range steps {
			for i := 0; i < n; i += peerBatch {
				batch = batch[:0]
				for j := i; j < i+peerBatch; j++ {
					batch = append(batch, model.TimeSeries{Labels: series[j], Samples: data[j][step : step+1]})
				}
				if _, err := db.Append(batch); err != nil {
					b.Fatal(err)
				}
			}
		}
		return time.Since(began)
	}
	total := float64(n * steps)
	for _, policy := range []string{"interval", "always", "none"} {
		b.Run("sync="+policy, func(b *testing.B) {
			var off, on time.Duration
			for range b.N {
				off += run(b, "", nil)
				on += run(b, b.TempDir(), func(o *Options) { o.WAL.Sync = policy })
			}
			b.ReportMetric(total*float64(b.N)/off.Seconds(), "nowal_samples/s")
			b.ReportMetric(total*float64(b.N)/on.Seconds(), "wal_samples/s")
			b.ReportMetric(off.Seconds()/on.Seconds(), "ratio")
		})
	}
}

// BenchmarkWALAlways8Writers measures throughput and acknowledgement
// latency with fsync before every acknowledgement, shared by 8 concurrent
// writers (group commit), each appending 1k series per request.
func BenchmarkWALAlways8Writers(b *testing.B) {
	const writers, perWriter, requests = 8, 1000, 200
	series := datagen.Series(writers * perWriter)
	start := (time.Now().UnixMilli()/peerWindow - 4) * peerWindow
	for range b.N {
		db := openBenchDurable(b, b.TempDir(), &fakeClock{t: time.UnixMilli(start)}, func(o *Options) { o.WAL.Sync = "always" })
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			lats []time.Duration
		)
		began := time.Now()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				batch := make([]model.TimeSeries, perWriter)
				samples := make([]model.Sample, perWriter)
				var mine []time.Duration
				for r := range requests {
					for i := range batch {
						samples[i] = model.Sample{T: start + int64(r)*10_000, V: float64(r)}
						batch[i] = model.TimeSeries{Labels: series[w*perWriter+i], Samples: samples[i : i+1]}
					}
					t := time.Now()
					if _, err := db.Append(batch); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t))
				}
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(began)
		db.Close()
		slices.Sort(lats)
		b.ReportMetric(float64(writers*perWriter*requests)/elapsed.Seconds(), "samples/s")
		b.ReportMetric(float64(writers*requests)/elapsed.Seconds(), "acks/s")
		b.ReportMetric(float64(lats[len(lats)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lats[len(lats)*99/100].Microseconds())/1000, "p99_ms")
	}
}

// BenchmarkRestart measures the time to reopen a DB holding N series x 2 h
// of 10 s samples: with the window sealed into block files (the steady
// state), and with the 2 h still unsealed (1/10 of the series, to bound the
// run), restored from a head snapshot or replayed from the WAL.
func BenchmarkRestart(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("STRATUS_BENCH_RESTART_SERIES"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	start := (time.Now().UnixMilli()/peerWindow - 4) * peerWindow
	load := func(b *testing.B, dir string, n int, seal bool, tweak func(*Options)) {
		clock := &fakeClock{t: time.UnixMilli(start)}
		db := openBenchDurable(b, dir, clock, tweak)
		series := datagen.Series(n)
		batch := make([]model.TimeSeries, 0, 1000)
		var buf []model.Sample
		for i := 0; i < n; i += 1000 {
			batch, buf = batch[:0], buf[:0]
			for j := i; j < min(i+1000, n); j++ {
				from := len(buf)
				buf = datagen.AppendSamples(buf, series[j], j, start, peerInterval, peerSamples)
				batch = append(batch, model.TimeSeries{Labels: series[j], Samples: buf[from:len(buf):len(buf)]})
			}
			if res, err := db.Append(batch); err != nil || res.Rejected > 0 {
				b.Fatalf("load: %v %+v", err, res.Rejections)
			}
		}
		if seal {
			clock.Set(time.UnixMilli(start + peerWindow + 11*60_000))
			db.Maintain(context.Background())
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	reopen := func(b *testing.B, dir string, tweak func(*Options)) time.Duration {
		began := time.Now()
		db := openBenchDurable(b, dir, &fakeClock{t: time.UnixMilli(start + peerWindow + 11*60_000)}, tweak)
		elapsed := time.Since(began)
		db.Close()
		return elapsed
	}
	noSnapshot := func(o *Options) { o.HeadSnapshotInterval = 0 }
	for _, c := range []struct {
		name   string
		series int
		seal   bool
		tweak  func(*Options)
	}{
		// Steady state: the window sealed into block files.
		{fmt.Sprintf("checkpointed/series=%d", n), n, true, nil},
		// After a graceful stop mid-window: the head from head.snap.
		{fmt.Sprintf("head_snapshot/series=%d", n/10), n / 10, false, nil},
		// The worst case, a crash just before a window seals with head
		// snapshots off: 2 h of samples replayed from the WAL.
		{fmt.Sprintf("wal_replay/series=%d", n/10), n / 10, false, noSnapshot},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			load(b, dir, c.series, c.seal, c.tweak)
			blocks := dirSize(b, dir+"/"+blocksDirName)
			walBytes := dirSize(b, dir+"/"+walDirName)
			var snapBytes int64
			if st, err := os.Stat(dir + "/" + headSnapshotName); err == nil {
				snapBytes = st.Size()
			}
			var took time.Duration
			for range b.N {
				took += reopen(b, dir, c.tweak)
			}
			secs := took.Seconds() / float64(b.N)
			b.ReportMetric(secs, "restart_s")
			b.ReportMetric(float64(blocks)/1e6, "block_MB")
			b.ReportMetric(float64(snapBytes)/1e6, "snapshot_MB")
			b.ReportMetric(float64(walBytes)/1e6, "wal_MB")
			b.ReportMetric(float64(blocks+snapBytes+walBytes)/1e6/secs, "MB/s")
		})
	}
}
