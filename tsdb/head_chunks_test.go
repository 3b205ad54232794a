package tsdb

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// testChunk returns a closed chunk of n samples from t.
func testChunk(t int64, n int) *chunkenc.XORChunk {
	c := chunkenc.NewXORChunk()
	for i := range n {
		c.Append(t+int64(i)*15_000, float64(i)*0.1)
	}
	return c
}

// TestChunkLog adds records to a log of files small enough to see buffer
// flushes and file rotation, reads every record back while more are added,
// releases the files of old windows, and, after a write fails, keeps the
// records in memory.
func TestChunkLog(t *testing.T) {
	for _, backend := range []string{"files", "heap"} {
		t.Run(backend, func(t *testing.T) {
			dir := ""
			if backend == "files" {
				if !mmapSupported {
					t.Skip("no mmap on this platform")
				}
				dir = filepath.Join(t.TempDir(), chunkLogDirName)
				// Left over from an earlier process: deleted on open.
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "00000001.chunks"), []byte("old"), 0o644)
			}
			l, err := newChunkLog(dir, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer l.close()
			if dir != "" {
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Fatalf("left-over files kept: %v", ents)
				}
			}
			l.fileSize, l.bufferSize = 16<<10, 2<<10

			type added struct {
				ref    chunkRef
				window int64
				c      *chunkenc.XORChunk
			}
			var all []added
			check := func(stage string, from int) {
				t.Helper()
				var scratch []byte
				for _, a := range all[from:] {
					cc, s, err := l.read(a.ref, scratch)
					scratch = s
					if err != nil {
						t.Fatalf("%s: read %v: %v", stage, a.ref, err)
					}
					if cc.window != a.window || !slices.Equal(cc.c.Bytes(), a.c.Bytes()) || cc.c.NumSamples() != a.c.NumSamples() || cc.c.MaxTime() != a.c.MaxTime() {
						t.Fatalf("%s: record %v: got window %d, %d samples, want %d, %d", stage, a.ref, cc.window, cc.c.NumSamples(), a.window, a.c.NumSamples())
					}
				}
			}
			var prev chunkRef
			for i := range 300 {
				w := int64(i/100) * 7_200_000
				c := testChunk(w+int64(i%100)*1000, 1+i%40)
				ref := l.add(prev, w, c)
				all = append(all, added{ref, w, c})
				prev = ref
				if i%37 == 0 {
					check(fmt.Sprintf("after %d", i), 0)
				}
			}
			check("all", 0)
			ccs, _, err := l.chunks(nil, prev, len(all), math.MinInt64, nil)
			if err != nil || len(ccs) != len(all) {
				t.Fatalf("chunks: %d, %v", len(ccs), err)
			}
			for i, cc := range ccs {
				if !slices.Equal(cc.c.Bytes(), all[i].c.Bytes()) {
					t.Fatalf("chunk %d of the chain differs", i)
				}
			}
			// Stopping at mint: only the chunks of the last window.
			if ccs, _, _ := l.chunks(nil, prev, len(all), 2*7_200_000, nil); len(ccs) != 100 || ccs[0].window != 2*7_200_000 {
				t.Fatalf("chunks of the last window: %d", len(ccs))
			}
			if backend == "files" {
				files := *l.files.Load()
				if len(files) < 3 {
					t.Fatalf("%d files for %d bytes, want rotation at %d", len(files), l.bytes.Load(), l.fileSize)
				}
				l.dropReadPages()
				check("after dropping read pages", 0)
			}
			if l.holdsBefore(0) || !l.holdsBefore(1) {
				t.Fatalf("holdsBefore: %v before window 0, %v before 1ms", l.holdsBefore(0), l.holdsBefore(1))
			}
			before := l.bytes.Load()
			l.release(7_200_000) // window 0 is sealed
			check("after release", 100)
			if backend == "files" && l.bytes.Load() >= before {
				t.Fatalf("release freed nothing: %d bytes before, %d after", before, l.bytes.Load())
			}
			for _, f := range *l.files.Load() {
				if f.maxWindow < 7_200_000 {
					t.Fatalf("file %d of window %d kept", f.seq, f.maxWindow)
				}
			}

			if backend == "files" {
				// A write that fails leaves the records in memory, and the
				// log in heap slabs from then on.
				l.mu.Lock()
				l.cur.f.Close()
				l.mu.Unlock()
				for i := range 60 {
					w := int64(3) * 7_200_000
					c := testChunk(w+int64(i)*1000, 30)
					ref := l.add(prev, w, c)
					all = append(all, added{ref, w, c})
					prev = ref
				}
				check("after a failed write", 100)
				if l.failures.Load() == 0 || l.onDisk {
					t.Fatalf("failure not noticed: %d failures, on disk %v", l.failures.Load(), l.onDisk)
				}
			}
		})
	}
}

// chunkBackends are the ways a DB keeps closed head chunks.
var chunkBackends = []struct {
	name string
	open func(t *testing.T, clock *fakeClock, tweak func(*Options)) (*DB, func(*testing.T) *DB)
}{
	{"memory", func(t *testing.T, clock *fakeClock, tweak func(*Options)) (*DB, func(*testing.T) *DB) {
		opts := DefaultOptions()
		opts.Now = clock.Now
		opts.MaintenanceInterval = time.Hour
		tweak(&opts)
		db, err := Open("", opts, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return db, nil
	}},
	{"memfs", func(t *testing.T, clock *fakeClock, tweak func(*Options)) (*DB, func(*testing.T) *DB) {
		fsys := vfs.NewMemFS()
		reopen := func(t *testing.T) *DB { return durableDB(t, fsys, clock, tweak) }
		return reopen(t), reopen
	}},
	{"files", func(t *testing.T, clock *fakeClock, tweak func(*Options)) (*DB, func(*testing.T) *DB) {
		dir := t.TempDir()
		reopen := func(t *testing.T) *DB {
			opts := DefaultOptions()
			opts.Now = clock.Now
			opts.MaintenanceInterval = time.Hour
			opts.WAL.SegmentSize = 1 << 20
			tweak(&opts)
			db, err := Open(dir, opts, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
		return reopen(t), reopen
	}},
}

// TestClosedHeadChunks writes series whose head chunks close every few
// samples, across windows, with rewrites and out-of-order samples, and
// checks every query against a model of what was acknowledged: in the
// head, after sealing, and after a restart from the head snapshot.
func TestClosedHeadChunks(t *testing.T) {
	for _, b := range chunkBackends {
		t.Run(b.name, func(t *testing.T) {
			clock := &fakeClock{t: time.UnixMilli(t0)}
			tweak := func(o *Options) { o.HeadChunkSamples = 16 }
			db, reopen := b.open(t, clock, tweak)
			defer func() { db.Close() }()
			rng := rand.New(rand.NewPCG(1, 2))
			const nSeries = 30
			want := make([]map[int64]float64, nSeries)
			labels := make([]model.Labels, nSeries)
			for i := range labels {
				labels[i] = model.FromStrings(model.MetricName, "cutover_rows", "shard", fmt.Sprint(i))
				want[i] = map[int64]float64{}
			}
			ts := make([]int64, nSeries)
			write := func(until int64) {
				for {
					i := rng.IntN(nSeries)
					if ts[i] >= until {
						return
					}
					t := ts[i]
					switch r := rng.IntN(20); {
					case r == 0 && t > 0:
						t -= int64(rng.IntN(5)) * 15_000 // out of order or a rewrite
					default:
						ts[i] += 15_000
						t = ts[i]
					}
					v := rng.Float64()
					res := mustAppendNoFail(db, labels[i], model.Sample{T: t0 + t, V: v})
					if res.Accepted == 1 {
						want[i][t0+t] = v
					}
				}
			}
			check := func(stage string, db *DB) {
				t.Helper()
				got := query(t, db, math.MinInt64, math.MaxInt64, nameIs("cutover_rows"))
				for i, ls := range labels {
					var w []model.Sample
					for t, v := range want[i] {
						w = append(w, model.Sample{T: t, V: v})
					}
					slices.SortFunc(w, func(a, b model.Sample) int { return int(a.T - b.T) })
					if g := got[ls.String()]; !sameSamples(g, w) {
						t.Fatalf("%s: series %d: got %d samples, want %d (first diff at %d)", stage, i, len(g), len(w), firstDiff(g, w))
					}
					// A sub-range reads only what overlaps it.
					mint, maxt := t0+ts[i]/3, t0+ts[i]/2
					sub := query(t, db, mint, maxt, nameIs("cutover_rows"), model.MustNewMatcher(model.MatchEqual, "shard", fmt.Sprint(i)))[ls.String()]
					var wsub []model.Sample
					for _, s := range w {
						if s.T >= mint && s.T <= maxt {
							wsub = append(wsub, s)
						}
					}
					if !sameSamples(sub, wsub) {
						t.Fatalf("%s: series %d in [%d, %d]: got %d samples, want %d", stage, i, mint, maxt, len(sub), len(wsub))
					}
				}
			}
			write(7_200_000 + 3_600_000) // a window and a half
			if db.chunks.bytes.Load() == 0 {
				t.Fatal("no head chunk was closed")
			}
			check("head", db)
			clock.Set(time.UnixMilli(t0 + 7_200_000 + 11*60_000))
			db.Maintain(context.Background())
			check("first window sealed", db)
			for _, f := range *db.chunks.files.Load() {
				if f.maxWindow < t0+7_200_000 && f != db.chunks.cur {
					t.Fatalf("chunk file %d of a sealed window kept", f.seq)
				}
			}
			write(2*7_200_000 + 1_800_000)
			check("more", db)
			if reopen == nil {
				return
			}
			db.Close()
			db = reopen(t)
			check("restarted from the head snapshot", db)
			write(2*7_200_000 + 3_600_000)
			check("appending after the restart", db)
		})
	}
}

// mustAppendNoFail appends one sample; it may be rejected (too old), but
// the append must not fail.
func mustAppendNoFail(db *DB, ls model.Labels, s model.Sample) model.AppendResult {
	res, err := db.Append([]model.TimeSeries{{Labels: ls, Samples: []model.Sample{s}}})
	if err != nil {
		panic(err)
	}
	return res
}
