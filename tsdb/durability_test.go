package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/vfs"
)

// durableDB opens a DB on fsys at /data with a fake clock.
func durableDB(t *testing.T, fsys vfs.FS, clock *fakeClock, tweak func(*Options)) *DB {
	t.Helper()
	opts := DefaultOptions()
	opts.Now = clock.Now
	opts.MaintenanceInterval = time.Hour
	opts.FS = fsys
	opts.WAL.SegmentSize = 1 << 20
	if tweak != nil {
		tweak(&opts)
	}
	db, err := Open("/data", opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// acked records every sample an Append acknowledged, per series.
type acked struct {
	mu sync.Mutex
	m  map[string][]model.Sample
}

func (a *acked) add(ls model.Labels, s model.Sample) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string][]model.Sample{}
	}
	a.m[ls.String()] = append(a.m[ls.String()], s)
}

// check asserts that db holds every acknowledged sample with its value.
func (a *acked) check(t *testing.T, db *DB) {
	t.Helper()
	got := query(t, db, math.MinInt64, math.MaxInt64, model.MustNewMatcher(model.MatchRegexp, model.MetricName, ".+"))
	for series, want := range a.m {
		have := map[int64]uint64{}
		for _, s := range got[series] {
			have[s.T] = math.Float64bits(s.V)
		}
		for _, s := range want {
			bits, ok := have[s.T]
			if !ok {
				t.Fatalf("%s: acknowledged sample at %d is missing (have %d samples)", series, s.T, len(got[series]))
			}
			if bits != math.Float64bits(s.V) {
				t.Fatalf("%s: sample at %d has value %v, want %v", series, s.T, math.Float64frombits(bits), s.V)
			}
		}
	}
}

func appendSeries(t *testing.T, db *DB, a *acked, name string, from, to int64) {
	t.Helper()
	ls := model.FromStrings(model.MetricName, name, "country", "pt")
	for ts := from; ts < to; ts += 10_000 {
		smp := model.Sample{T: ts, V: float64(ts/1000) + 0.25}
		res, err := db.Append([]model.TimeSeries{{Labels: ls, Samples: []model.Sample{smp}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted == 1 {
			a.add(ls, smp)
		}
	}
}

func TestRestartRestoresBlocksAndWAL(t *testing.T) {
	fsys := vfs.NewMemFS()
	clock := &fakeClock{t: time.UnixMilli(t0)}
	db := durableDB(t, fsys, clock, nil)
	var a acked
	// Three windows of data; the first two get sealed and checkpointed.
	appendSeries(t, db, &a, "replication_lag_seconds", t0, t0+3*7_200_000)
	appendSeries(t, db, &a, "rows_target_total", t0+7_200_000, t0+3*7_200_000)
	clock.Set(time.UnixMilli(t0 + 2*7_200_000 + 11*60_000))
	db.Maintain(context.Background())
	names, _ := fsys.List("/data/blocks")
	if fmt.Sprint(names) != fmt.Sprintf("[%d.blk %d.blk]", t0, t0+7_200_000) {
		t.Fatalf("block files: %v", names)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = durableDB(t, fsys, clock, nil)
	a.check(t, db)
	if got := db.sealedBefore.Load(); got != t0+2*7_200_000 {
		t.Fatalf("sealed boundary after restart: %d, want %d", got, t0+2*7_200_000)
	}
	// Sealed windows stay read-only after a restart.
	res := mustAppend(t, db, model.FromStrings(model.MetricName, "replication_lag_seconds", "country", "pt"), model.Sample{T: t0 + 1, V: 1})
	if res.Rejected != 1 || !errors.Is(res.Rejections[0].Err, model.ErrTooOld) {
		t.Fatalf("append into sealed window after restart: %+v", res)
	}
	// Another window later, the WAL segments covered by checkpoints go.
	appendSeries(t, db, &a, "replication_lag_seconds", t0+3*7_200_000, t0+4*7_200_000)
	clock.Set(time.UnixMilli(t0 + 3*7_200_000 + 11*60_000))
	db.Maintain(context.Background())
	clock.Set(time.UnixMilli(t0 + 4*7_200_000 + 11*60_000))
	db.Maintain(context.Background())
	first, _, err := db.wal.Segments()
	if err != nil || first <= 1 {
		t.Fatalf("wal not truncated: first segment %d, err %v", first, err)
	}
	db.Close()
	db = durableDB(t, fsys, clock, nil)
	defer db.Close()
	a.check(t, db)
}

// TestCrashKeepsAcknowledgedSamples simulates power loss with MemFS: under
// the always policy every acknowledged sample survives, from concurrent
// writers, across checkpoints and WAL truncation.
func TestCrashKeepsAcknowledgedSamples(t *testing.T) {
	fsys := vfs.NewMemFS()
	clock := &fakeClock{t: time.UnixMilli(t0)}
	always := func(o *Options) { o.WAL.Sync = "always" }
	db := durableDB(t, fsys, clock, always)
	var a acked
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			appendSeries(t, db, &a, fmt.Sprintf("retry_queue_depth_%d", w), t0, t0+7_200_000+30*60_000)
		}()
	}
	wg.Wait()
	clock.Set(time.UnixMilli(t0 + 7_200_000 + 11*60_000))
	db.Maintain(context.Background())
	appendSeries(t, db, &a, "cutover_progress_ratio", t0+7_200_000+30*60_000, t0+7_200_000+40*60_000)

	crashed := fsys.CrashClone() // power loss: only synced data survives
	db.Close()
	db2 := durableDB(t, crashed, clock, always)
	defer db2.Close()
	a.check(t, db2)
}

// noSnapshots keeps the whole unsealed WAL, for tests of WAL recovery.
func noSnapshots(o *Options) { o.HeadSnapshotInterval = 0 }

func TestCorruptBlockFileIsQuarantined(t *testing.T) {
	fsys := vfs.NewMemFS()
	clock := &fakeClock{t: time.UnixMilli(t0)}
	db := durableDB(t, fsys, clock, noSnapshots)
	var a acked
	for i := range 20 {
		appendSeries(t, db, &a, fmt.Sprintf("m%02d", i), t0, t0+7_200_000+60_000)
	}
	clock.Set(time.UnixMilli(t0 + 7_200_000 + 11*60_000))
	db.Maintain(context.Background())
	db.Close()

	// Flip a byte in the middle of the block file.
	path := fmt.Sprintf("/data/blocks/%d.blk", t0)
	flipByte(t, fsys, path, 0.6)

	db = durableDB(t, fsys, clock, noSnapshots)
	names, _ := fsys.List("/data/blocks")
	if len(names) != 1 || !strings.Contains(names[0], ".corrupt-") {
		t.Fatalf("block files after corruption: %v", names)
	}
	// The series before the damage come from the file, the others from
	// the WAL, which no later checkpoint truncated: nothing is lost.
	a.check(t, db)
	// The window is sealed again and the next checkpoint rewrites its file.
	db.Maintain(context.Background())
	if names, _ := fsys.List("/data/blocks"); len(names) != 2 {
		t.Fatalf("block files after re-checkpoint: %v", names)
	}
	db.Close()
	// With the WAL gone, the rewritten file alone serves the window; a
	// damaged file without WAL keeps the entries before the damage.
	fsys.RemoveAll("/data/wal")
	db = durableDB(t, fsys, clock, noSnapshots)
	window := acked{}
	for series, samples := range a.m {
		for _, smp := range samples {
			if smp.T < t0+7_200_000 {
				window.m = mapAdd(window.m, series, smp)
			}
		}
	}
	window.check(t, db)
	db.Close()
	flipByte(t, fsys, path, 0.6)
	fsys.RemoveAll("/data/wal")
	db = durableDB(t, fsys, clock, noSnapshots)
	defer db.Close()
	got := query(t, db, math.MinInt64, math.MaxInt64, model.MustNewMatcher(model.MatchRegexp, model.MetricName, ".+"))
	complete := 0
	for series, want := range window.m {
		have := got[series]
		if len(have) == len(want) {
			complete++
		}
		wantAt := map[int64]float64{}
		for _, s := range want {
			wantAt[s.T] = s.V
		}
		for _, s := range have {
			if v, ok := wantAt[s.T]; !ok || v != s.V {
				t.Fatalf("%s: served sample %v was never written", series, s)
			}
		}
	}
	if complete < 10 {
		t.Fatalf("only %d of 20 series complete; the entries before the damage must be served", complete)
	}
}

func TestCorruptWALTailIsTruncated(t *testing.T) {
	fsys := vfs.NewMemFS()
	clock := &fakeClock{t: time.UnixMilli(t0)}
	db := durableDB(t, fsys, clock, nil)
	var a acked
	appendSeries(t, db, &a, "replication_lag_seconds", t0, t0+600_000)
	db.Close()
	segs, _ := fsys.List("/data/wal")
	last := filepath.Join("/data/wal", segs[len(segs)-1])
	// Append half a record's worth of garbage: a torn write.
	f, err := fsys.OpenAppend(last)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0x10, 0, 0, 0, 0xde, 0xad})
	f.Close()

	db = durableDB(t, fsys, clock, nil)
	a.check(t, db)
	appendSeries(t, db, &a, "replication_lag_seconds", t0+600_000, t0+700_000)
	db.Close()
	db = durableDB(t, fsys, clock, nil)
	defer db.Close()
	a.check(t, db)
}

func TestDiskFullFailsAppendsThenRecovers(t *testing.T) {
	var full atomic.Bool
	fsys := vfs.NewInjectFS(vfs.NewMemFS(), func(op vfs.Op, path string) error {
		if full.Load() && (op == vfs.OpWrite || op == vfs.OpSync || op == vfs.OpCreate) {
			return syscall.ENOSPC
		}
		return nil
	})
	clock := &fakeClock{t: time.UnixMilli(t0)}
	db := durableDB(t, fsys, clock, func(o *Options) { o.WAL.Sync = "always" })
	var a acked
	appendSeries(t, db, &a, "rows_source_total", t0, t0+300_000)

	full.Store(true)
	ls := model.FromStrings(model.MetricName, "rows_source_total", "country", "pt")
	_, err := db.Append([]model.TimeSeries{{Labels: ls, Samples: []model.Sample{{T: t0 + 400_000, V: 1}}}})
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: err %v, want ENOSPC", err)
	}
	// A checkpoint on a full disk fails and is retried later.
	clock.Set(time.UnixMilli(t0 + 7_200_000 + 11*60_000))
	db.Maintain(context.Background())

	full.Store(false)
	appendSeries(t, db, &a, "rows_source_total", t0+7_200_000+11*60_000, t0+7_200_000+20*60_000)
	db.Maintain(context.Background()) // the retried checkpoint succeeds
	if names, _ := fsys.List("/data/blocks"); len(names) != 1 {
		t.Fatalf("block files after recovery: %v", names)
	}
	db.Close()
	db = durableDB(t, fsys, clock, nil)
	defer db.Close()
	a.check(t, db)
}

func flipByte(t *testing.T, fsys vfs.FS, path string, at float64) {
	t.Helper()
	f, err := fsys.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data[int(float64(len(data))*at)] ^= 0x5a
	g, err := fsys.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	g.Write(data)
	g.Sync()
	g.Close()
}

func mapAdd(m map[string][]model.Sample, k string, s model.Sample) map[string][]model.Sample {
	if m == nil {
		m = map[string][]model.Sample{}
	}
	m[k] = append(m[k], s)
	return m
}

// TestCorruptWALSegmentInTheMiddle flips a byte inside an older segment:
// the DB starts, reports the damage, and serves what the log holds before
// it and in the later segments.
func TestCorruptWALSegmentInTheMiddle(t *testing.T) {
	fsys := vfs.NewMemFS()
	clock := &fakeClock{t: time.UnixMilli(t0)}
	db := durableDB(t, fsys, clock, noSnapshots)
	var before, after acked
	appendSeries(t, db, &before, "rows_target_total", t0, t0+300_000)
	if _, err := db.wal.Cut(); err != nil {
		t.Fatal(err)
	}
	appendSeries(t, db, &after, "replication_lag_seconds", t0, t0+300_000)
	if _, err := db.wal.Cut(); err != nil {
		t.Fatal(err)
	}
	appendSeries(t, db, &after, "cutover_progress_ratio", t0, t0+300_000)
	db.Close()
	segs, _ := fsys.List("/data/wal")
	if len(segs) < 3 {
		t.Fatalf("want 3 segments, have %v", segs)
	}
	flipByte(t, fsys, filepath.Join("/data/wal", segs[1]), 0.7)

	reg := prometheus.NewRegistry()
	opts := DefaultOptions()
	opts.Now, opts.FS, opts.MaintenanceInterval = clock.Now, fsys, time.Hour
	noSnapshots(&opts)
	db, err := Open("/data", opts, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before.check(t, db)
	// The last segment's series lost nothing; the damaged one keeps its
	// samples before the damage.
	got := query(t, db, math.MinInt64, math.MaxInt64, nameIs("cutover_progress_ratio"))
	if len(got) != 1 || len(got[model.FromStrings(model.MetricName, "cutover_progress_ratio", "country", "pt").String()]) != 30 {
		t.Fatalf("last segment's samples: %v", got)
	}
	if n := testutil.ToFloat64(db.m.corruptions); n < 1 {
		t.Fatalf("corruption not counted: %v", n)
	}
}

// TestHeadSnapshot checks that a graceful shutdown snapshots the head and
// deletes the WAL before it, that start-up restores from it, and that a
// damaged snapshot is quarantined with the series before the damage kept.
func TestHeadSnapshot(t *testing.T) {
	fsys := vfs.NewMemFS()
	clock := &fakeClock{t: time.UnixMilli(t0)}
	db := durableDB(t, fsys, clock, nil)
	var a acked
	for i := range 20 {
		appendSeries(t, db, &a, fmt.Sprintf("retry_queue_depth_%02d", i), t0, t0+3_600_000)
	}
	// An out-of-order sample and a pending rewrite are part of the head.
	ls := model.FromStrings(model.MetricName, "retry_queue_depth_00", "country", "pt")
	ooo := model.Sample{T: t0 + 3_600_000 - 65_000, V: 42}
	if res := mustAppend(t, db, ls, ooo); res.Accepted != 1 {
		t.Fatalf("out-of-order sample rejected: %v", res.Rejections)
	}
	a.add(ls, ooo)
	db.Close()
	segs, _ := fsys.List("/data/wal")
	if len(segs) != 1 {
		t.Fatalf("wal after shutdown snapshot: %v, want only the segment after the cut", segs)
	}
	db = durableDB(t, fsys, clock, nil)
	a.check(t, db)
	// Appending continues where the restored chunks left off.
	appendSeries(t, db, &a, "retry_queue_depth_00", t0+3_600_000, t0+3_700_000)
	db.Close()
	db = durableDB(t, fsys, clock, nil)
	a.check(t, db)
	db.Close()

	flipByte(t, fsys, "/data/head.snap", 0.5)
	reg := prometheus.NewRegistry()
	opts := DefaultOptions()
	opts.Now, opts.FS, opts.MaintenanceInterval = clock.Now, fsys, time.Hour
	db, err := Open("/data", opts, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := testutil.ToFloat64(db.m.corruptions); n != 1 {
		t.Fatalf("corruptions counted: %v", n)
	}
	if n := db.NumSeries(); n < 5 || n >= 20 {
		t.Fatalf("series restored from a damaged snapshot: %d", n)
	}
}
