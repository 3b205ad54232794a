package tsdb

// The comparison with Prometheus's TSDB that BENCHMARKS.md reports. Both
// engines get the same data from internal/datagen: node-exporter-like series
// (100k by default; STRATUS_BENCH_SERIES overrides), one sample every 10 s
// for 2 h. Run it with
//
//	go test -run '^$' -bench VsPrometheus -benchtime 1x ./tsdb/
//
// Each sub-benchmark reports Stratus's figure, Prometheus's and their ratio
// (Stratus / Prometheus) from the same run.

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	promtsdb "github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

const (
	peerInterval = 10_000         // ms between samples
	peerSamples  = 720            // 2 h
	peerBatch    = 5000           // series per append batch / commit
	peerWindow   = int64(7200000) // 2 h
)

type peerData struct {
	series  []model.Labels
	prom    []labels.Labels
	samples [][]model.Sample // [series][step]
	start   int64
}

var (
	peerOnce sync.Once
	peer     *peerData
)

func loadPeerData(b *testing.B) *peerData {
	peerOnce.Do(func() {
		n := 100_000
		if s := os.Getenv("STRATUS_BENCH_SERIES"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				panic(err)
			}
		}
		// Data in the past, starting on a window boundary.
		start := (time.Now().UnixMilli()/peerWindow - 4) * peerWindow
		d := &peerData{series: datagen.Series(n), start: start}
		d.prom = make([]labels.Labels, n)
		d.samples = make([][]model.Sample, n)
		for i, ls := range d.series {
			d.prom[i] = labels.New(toPromLabels(ls)...)
			d.samples[i] = datagen.Samples(ls, i, start, peerInterval, peerSamples)
		}
		peer = d
	})
	b.Logf("peer data: %d series x %d samples", len(peer.series), peerSamples)
	return peer
}

func toPromLabels(ls model.Labels) []labels.Label {
	out := make([]labels.Label, len(ls))
	for i, l := range ls {
		out[i] = labels.Label{Name: l.Name, Value: l.Value}
	}
	return out
}

// ingestStratus appends the series [lo, hi) time-major, as scrapes arrive.
// With refs it keeps the series references AppendRefs hands back, as the
// remote-write handler does; without, every series is looked up by its
// labels.
func ingestStratus(b *testing.B, db *DB, d *peerData, lo, hi int, useRefs bool) {
	batch := make([]model.TimeSeries, 0, peerBatch)
	refs := make([]uint64, len(d.series))
	for step := range peerSamples {
		for i := lo; i < hi; i += peerBatch {
			batch = batch[:0]
			end := min(i+peerBatch, hi)
			for j := i; j < end; j++ {
				batch = append(batch, model.TimeSeries{Labels: d.series[j], Samples: d.samples[j][step : step+1]})
			}
			var (
				res model.AppendResult
				err error
			)
			if useRefs {
				res, err = db.AppendRefs(batch, refs[i:end])
			} else {
				res, err = db.Append(batch)
			}
			if err != nil || res.Rejected != 0 {
				b.Fatalf("stratus append: %v %+v", err, res.Rejections)
			}
		}
	}
}

// ingestProm does the same through Prometheus's appender. With refs it
// caches series references as its scrape loop does; without, it looks each
// series up by labels as its remote-write receiver does.
func ingestProm(b *testing.B, db *promtsdb.DB, d *peerData, lo, hi int, useRefs bool) {
	refs := make([]storage.SeriesRef, len(d.series))
	ctx := context.Background()
	for step := range peerSamples {
		for i := lo; i < hi; i += peerBatch {
			app := db.Appender(ctx)
			for j := i; j < min(i+peerBatch, hi); j++ {
				s := d.samples[j][step]
				ref, err := app.Append(refs[j], d.prom[j], s.T, s.V)
				if err != nil {
					b.Fatalf("prometheus append: %v", err)
				}
				if useRefs {
					refs[j] = ref
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatalf("prometheus commit: %v", err)
			}
		}
	}
}

// openPeerStratus opens Stratus for the comparison: on disk, so sealing
// writes block files, but with the WAL off, like Prometheus's side.
func openPeerStratus(b *testing.B, d *peerData) (*DB, *fakeClock) {
	clock := &fakeClock{t: time.UnixMilli(d.start)}
	opts := DefaultOptions()
	opts.Now = clock.Now
	opts.MaintenanceInterval = time.Hour
	opts.WAL.Disabled = true
	db, err := Open(b.TempDir(), opts, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	return db, clock
}

func openPeerProm(b *testing.B) *promtsdb.DB {
	opts := promtsdb.DefaultOptions()
	opts.WALSegmentSize = -1 // no WAL: compare in-memory heads
	db, err := promtsdb.Open(b.TempDir(), nil, nil, opts, nil)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// parallelIngest runs ingest over n goroutines, each with its share of the
// series, and returns the elapsed time.
func parallelIngest(n, total int, ingest func(lo, hi int)) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	per := (total + n - 1) / n
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ingest(g*per, min((g+1)*per, total))
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func reportRatio(b *testing.B, unit string, ours, theirs float64) {
	b.ReportMetric(ours, "stratus_"+unit)
	b.ReportMetric(theirs, "prom_"+unit)
	b.ReportMetric(ours/theirs, "ratio")
}

func BenchmarkVsPrometheus(b *testing.B) {
	d := loadPeerData(b)
	total := float64(len(d.series) * peerSamples)

	for _, goroutines := range []int{1, 2} {
		for _, useRefs := range []bool{true, false} {
			path := "labels"
			if useRefs {
				path = "refs"
			}
			// Both engines take the same path: by cached references (the
			// scrape loop's, and Stratus' remote write 1.0) or by labels.
			b.Run(fmt.Sprintf("append/goroutines=%d/path=%s", goroutines, path), func(b *testing.B) {
				var ours, theirs time.Duration
				for range b.N {
					db, _ := openPeerStratus(b, d)
					ours += parallelIngest(goroutines, len(d.series), func(lo, hi int) { ingestStratus(b, db, d, lo, hi, useRefs) })
					db.Close()
					pdb := openPeerProm(b)
					theirs += parallelIngest(goroutines, len(d.series), func(lo, hi int) { ingestProm(b, pdb, d, lo, hi, useRefs) })
					pdb.Close()
				}
				reportRatio(b, "samples/s", total*float64(b.N)/ours.Seconds(), total*float64(b.N)/theirs.Seconds())
			})
		}
	}

	// One load of each engine serves the storage and query comparisons.
	base := heapInUse()
	db, clock := openPeerStratus(b, d)
	defer db.Close()
	ingestStratus(b, db, d, 0, len(d.series), false)
	headHeap := heapInUse() - base
	clock.Set(time.UnixMilli(d.start + peerWindow + 11*60_000))
	db.Maintain(context.Background())
	sealedHeap := heapInUse() - base

	base = heapInUse()
	pdb := openPeerProm(b)
	defer pdb.Close()
	ingestProm(b, pdb, d, 0, len(d.series), true)
	promHeap := heapInUse() - base

	b.Run("heap_bytes_per_series", func(b *testing.B) {
		n := float64(len(d.series))
		b.ReportMetric(float64(headHeap)/n, "stratus_head_B/series")
		reportRatio(b, "B/series", float64(sealedHeap)/n, float64(promHeap)/n)
	})

	b.Run("sealed_bytes_per_sample", func(b *testing.B) {
		var ourBytes, ourSamples int
		for s := range db.seriesUpTo(db.nextID.Load()) {
			for _, blk := range s.blocks {
				ourBytes += len(blk.data)
			}
		}
		ourSamples = int(total)
		promBytes, promSamples := promChunkBytes(b, pdb, d.start-peerWindow, d.start+2*peerWindow)
		if promSamples != ourSamples {
			b.Fatalf("prometheus holds %d samples, stratus %d", promSamples, ourSamples)
		}
		reportRatio(b, "B/sample", float64(ourBytes)/float64(ourSamples), float64(promBytes)/float64(promSamples))
	})

	b.Run("disk_bytes_per_sample", func(b *testing.B) {
		ours := dirSize(b, filepath.Join(db.dir, blocksDirName))
		head := pdb.Head()
		if err := pdb.CompactHead(promtsdb.NewRangeHead(head, head.MinTime(), head.MaxTime())); err != nil {
			b.Fatal(err)
		}
		var theirs int64
		for _, blk := range pdb.Blocks() {
			theirs += dirSize(b, blk.Dir())
		}
		reportRatio(b, "B/sample", float64(ours)/total, float64(theirs)/total)
	})

	// Select 10% of the series (83 of ~830 hosts) over 1 h and decode it.
	hosts := len(d.series) / datagen.SeriesPerHost
	ms := []*model.Matcher{model.MustNewMatcher(model.MatchRegexp, "instance", tenthOfHosts(hosts))}
	pms := []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "instance", tenthOfHosts(hosts))}
	mint, maxt := d.start+peerWindow/4, d.start+peerWindow/4+3_600_000
	b.Run("select_10pct_1h", func(b *testing.B) {
		var ours, theirs time.Duration
		var ourN, theirN int
		for range b.N {
			start := time.Now()
			ourN = drainStratus(b, db, mint, maxt, ms)
			ours += time.Since(start)
			start = time.Now()
			theirN = drainProm(b, pdb, mint, maxt, pms)
			theirs += time.Since(start)
		}
		if ourN != theirN || ourN == 0 {
			b.Fatalf("stratus decoded %d samples, prometheus %d", ourN, theirN)
		}
		reportRatio(b, "ms/query", float64(ours.Milliseconds())/float64(b.N), float64(theirs.Milliseconds())/float64(b.N))
		b.ReportMetric(float64(ourN), "samples/query")
	})
}

// dirSize sums the sizes of the files under dir.
func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		n += info.Size()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// tenthOfHosts returns a regexp matching the instance label of the first
// tenth of hosts.
func tenthOfHosts(hosts int) string {
	n := max(hosts/10, 1)
	re := ""
	for h := range n {
		if h > 0 {
			re += "|"
		}
		re += fmt.Sprintf("host-%04d:9100", h)
	}
	return re
}

func drainStratus(b *testing.B, db *DB, mint, maxt int64, ms []*model.Matcher) int {
	n := 0
	set := db.Select(context.Background(), mint, maxt, ms...)
	var it model.SampleIterator
	for set.Next() {
		it = set.At().Iterator(it)
		for it.Next() {
			n++
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
	}
	if err := set.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

func drainProm(b *testing.B, db *promtsdb.DB, mint, maxt int64, ms []*labels.Matcher) int {
	q, err := db.Querier(mint, maxt)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	n := 0
	set := q.Select(context.Background(), true, nil, ms...)
	var it chunkenc.Iterator
	for set.Next() {
		it = set.At().Iterator(it)
		for it.Next() != chunkenc.ValNone {
			n++
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
	}
	if err := set.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// promChunkBytes sums the encoded bytes of Prometheus's XOR chunks.
func promChunkBytes(b *testing.B, db *promtsdb.DB, mint, maxt int64) (bytes, samples int) {
	q, err := db.ChunkQuerier(mint, maxt)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() {
			c := it.At().Chunk
			bytes += len(c.Bytes())
			samples += c.NumSamples()
		}
		if err := it.Err(); err != nil {
			b.Fatal(err)
		}
	}
	if err := set.Err(); err != nil {
		b.Fatal(err)
	}
	return bytes, samples
}
