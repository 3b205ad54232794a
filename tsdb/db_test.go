package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb/chunkenc"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// openTestDB opens a DB with a fake clock at t0 (a window start) and a long
// maintenance interval, so that only explicit Maintain calls seal.
func openTestDB(t *testing.T, tweak func(*Options)) (*DB, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.UnixMilli(t0)}
	opts := DefaultOptions()
	opts.Now = clock.Now
	opts.MaintenanceInterval = time.Hour
	if tweak != nil {
		tweak(&opts)
	}
	db, err := Open("", opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, clock
}

// t0 is a 2h window start.
const t0 = int64(1_700_000_000_000) / 7_200_000 * 7_200_000

func mustAppend(t *testing.T, db *DB, ls model.Labels, samples ...model.Sample) model.AppendResult {
	t.Helper()
	res, err := db.Append([]model.TimeSeries{{Labels: ls, Samples: samples}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// query returns the samples of every series matching ms in [mint, maxt].
func query(t *testing.T, db *DB, mint, maxt int64, ms ...*model.Matcher) map[string][]model.Sample {
	t.Helper()
	out := map[string][]model.Sample{}
	set := db.Select(context.Background(), mint, maxt, ms...)
	var it model.SampleIterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		var got []model.Sample
		for it.Next() {
			ts, v := it.At()
			got = append(got, model.Sample{T: ts, V: v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		out[s.Labels().String()] = got
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func nameIs(name string) *model.Matcher {
	return model.MustNewMatcher(model.MatchEqual, model.MetricName, name)
}

func sameSamples(a, b []model.Sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].T != b[i].T || math.Float64bits(a[i].V) != math.Float64bits(b[i].V) {
			return false
		}
	}
	return true
}

func TestAppendAndSelectAcrossSealing(t *testing.T) {
	db, clock := openTestDB(t, nil)
	ls := model.FromStrings(model.MetricName, "up", "job", "api")
	var want []model.Sample
	// Three windows of 10 s samples, with the special values mixed in.
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), model.StaleNaN(), math.Copysign(0, -1), math.MaxFloat64}
	for i := int64(0); i < 3*720; i++ {
		v := float64(i) * 1.5
		if i%97 == 0 {
			v = special[int(i/97)%len(special)]
		}
		want = append(want, model.Sample{T: t0 + i*10_000, V: v})
	}
	res := mustAppend(t, db, ls, want...)
	if res.Accepted != len(want) || res.Rejected != 0 || res.NewSeries != 1 {
		t.Fatalf("append result %+v", res)
	}
	check := func(stage string) {
		t.Helper()
		got := query(t, db, t0, t0+3*7_200_000, nameIs("up"))[ls.String()]
		if !sameSamples(got, want) {
			t.Fatalf("%s: got %d samples, want %d (first diff at %d)", stage, len(got), len(want), firstDiff(got, want))
		}
		// A sub-range decodes just what overlaps it.
		mint, maxt := t0+7_200_000-25_000, t0+7_200_000+25_000
		got = query(t, db, mint, maxt, nameIs("up"))[ls.String()]
		var wantSub []model.Sample
		for _, s := range want {
			if s.T >= mint && s.T <= maxt {
				wantSub = append(wantSub, s)
			}
		}
		if !sameSamples(got, wantSub) {
			t.Fatalf("%s: sub-range got %v, want %v", stage, got, wantSub)
		}
	}
	check("head only")
	clock.Set(time.UnixMilli(t0 + 2*7_200_000 + 11*60_000)) // past window 2's end + ooo window
	db.Maintain(context.Background())
	db.mu(ls, func(s *memSeries) {
		if len(s.blocks) != 2 {
			t.Fatalf("got %d sealed blocks, want 2", len(s.blocks))
		}
	})
	check("two windows sealed")
	// A sample in a sealed window is now too old.
	res = mustAppend(t, db, ls, model.Sample{T: t0 + 5, V: 1})
	if res.Rejected != 1 || !errors.Is(res.Rejections[0].Err, model.ErrTooOld) {
		t.Fatalf("append into sealed window: %+v", res)
	}
}

func firstDiff(a, b []model.Sample) int {
	for i := range min(len(a), len(b)) {
		if a[i].T != b[i].T || math.Float64bits(a[i].V) != math.Float64bits(b[i].V) {
			return i
		}
	}
	return min(len(a), len(b))
}

// mu runs f with the series' lock held, for white-box checks.
func (db *DB) mu(ls model.Labels, f func(*memSeries)) {
	key := model.AppendKey(nil, ls)
	s, _, err := db.getOrCreate(key, ls, nil)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func TestOutOfOrderAndDuplicatePolicy(t *testing.T) {
	db, clock := openTestDB(t, func(o *Options) { o.OutOfOrderWindow = 5 * time.Minute })
	ls := model.FromStrings(model.MetricName, "m")
	base := t0 + 3_600_000
	for _, tc := range []struct {
		name   string
		sample model.Sample
		err    error
	}{
		{"first", model.Sample{T: base, V: 1}, nil},
		{"newer", model.Sample{T: base + 60_000, V: 2}, nil},
		{"same timestamp as newest: last write wins", model.Sample{T: base + 60_000, V: 3}, nil},
		{"older within window", model.Sample{T: base + 30_000, V: 4}, nil},
		{"rewrite of an encoded sample within window", model.Sample{T: base, V: 5}, nil},
		{"rewrite of an out-of-order sample", model.Sample{T: base + 30_000, V: 6}, nil},
		{"older than the window", model.Sample{T: base + 60_000 - 5*60_000 - 1, V: 7}, model.ErrOutOfOrder},
		{"newest moves on", model.Sample{T: base + 120_000, V: 8}, nil},
	} {
		res := mustAppend(t, db, ls, tc.sample)
		switch {
		case tc.err == nil && res.Accepted != 1:
			t.Fatalf("%s: rejected: %v", tc.name, res.Rejections)
		case tc.err != nil && (res.Rejected != 1 || !errors.Is(res.Rejections[0].Err, tc.err)):
			t.Fatalf("%s: got %+v, want rejection %v", tc.name, res, tc.err)
		}
	}
	want := []model.Sample{{T: base, V: 5}, {T: base + 30_000, V: 6}, {T: base + 60_000, V: 3}, {T: base + 120_000, V: 8}}
	if got := query(t, db, 0, math.MaxInt64, nameIs("m"))[ls.String()]; !sameSamples(got, want) {
		t.Fatalf("head: got %v, want %v", got, want)
	}
	clock.Set(time.UnixMilli(t0 + 7_200_000 + 6*60_000))
	db.Maintain(context.Background())
	if got := query(t, db, 0, math.MaxInt64, nameIs("m"))[ls.String()]; !sameSamples(got, want) {
		t.Fatalf("sealed: got %v, want %v", got, want)
	}
}

func TestInvalidSeriesAndSeriesLimit(t *testing.T) {
	db, _ := openTestDB(t, func(o *Options) { o.MaxSeries = 2 })
	batch := []model.TimeSeries{
		{Labels: model.FromStrings(model.MetricName, "a"), Samples: []model.Sample{{T: t0, V: 1}}},
		{Labels: model.FromStrings("job", "no-name"), Samples: []model.Sample{{T: t0, V: 1}}},
		{Labels: model.FromStrings(model.MetricName, "b"), Samples: []model.Sample{{T: t0, V: 1}, {T: t0 + 1, V: 2}}},
		{Labels: model.FromStrings(model.MetricName, "c"), Samples: []model.Sample{{T: t0, V: 1}}},
		{Labels: model.FromStrings(model.MetricName, "a"), Samples: []model.Sample{{T: t0 + 1, V: 1}}},
	}
	res, err := db.Append(batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 4 || res.Rejected != 2 || res.NewSeries != 2 {
		t.Fatalf("result %+v", res)
	}
	if r := res.Rejections[0]; r.Series != 1 || !errors.Is(r.Err, model.ErrInvalidSeries) {
		t.Fatalf("first rejection %+v, want invalid series 1", r)
	}
	if r := res.Rejections[1]; r.Series != 3 || !errors.Is(r.Err, model.ErrSeriesLimit) {
		t.Fatalf("second rejection %+v, want series limit on series 3", r)
	}
}

func TestRetentionDropsBlocksAndSeries(t *testing.T) {
	db, clock := openTestDB(t, func(o *Options) { o.Retention = 4 * time.Hour })
	old := model.FromStrings(model.MetricName, "old")
	live := model.FromStrings(model.MetricName, "live")
	mustAppend(t, db, old, model.Sample{T: t0, V: 1}, model.Sample{T: t0 + 10_000, V: 2})
	mustAppend(t, db, live, model.Sample{T: t0, V: 1}, model.Sample{T: t0 + 5*3_600_000, V: 2})
	clock.Set(time.UnixMilli(t0 + 5*3_600_000 + 60_000))
	db.Maintain(context.Background())
	if n := db.NumSeries(); n != 1 {
		t.Fatalf("series after retention: %d, want 1", n)
	}
	got := query(t, db, 0, math.MaxInt64, model.MustNewMatcher(model.MatchRegexp, model.MetricName, ".+"))
	want := []model.Sample{{T: t0 + 5*3_600_000, V: 2}}
	if len(got) != 1 || !sameSamples(got[live.String()], want) {
		t.Fatalf("after retention got %v", got)
	}
	names, err := db.LabelValues(context.Background(), model.MetricName, math.MinInt64, math.MaxInt64)
	if err != nil || len(names) != 1 || names[0] != "live" {
		t.Fatalf("label values after retention: %v %v", names, err)
	}
	// The dropped series can come back as a new series.
	res := mustAppend(t, db, old, model.Sample{T: t0 + 5*3_600_000, V: 3})
	if res.Accepted != 1 || res.NewSeries != 1 {
		t.Fatalf("re-created series: %+v", res)
	}
}

func TestLabelNamesAndValuesByTimeRange(t *testing.T) {
	db, _ := openTestDB(t, nil)
	mustAppend(t, db, model.FromStrings(model.MetricName, "a", "env", "prod"), model.Sample{T: t0, V: 1})
	mustAppend(t, db, model.FromStrings(model.MetricName, "b", "zone", "eu"), model.Sample{T: t0 + 3_600_000, V: 1})
	ctx := context.Background()
	names, _ := db.LabelNames(ctx, t0, t0+1000)
	if fmt.Sprint(names) != "[__name__ env]" {
		t.Fatalf("label names in first range: %v", names)
	}
	vals, _ := db.LabelValues(ctx, model.MetricName, t0, t0+2*3_600_000, model.MustNewMatcher(model.MatchNotEqual, "zone", "eu"))
	if fmt.Sprint(vals) != "[a]" {
		t.Fatalf("values with matcher: %v", vals)
	}
}

func TestConcurrentAppendSelectMaintain(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		db, clock := openTestDB(t, func(o *Options) { o.OutOfOrderWindow = 0 })
		testConcurrentAppendSelectMaintain(t, db, clock)
	})
	// Head chunks that close every 16 samples, kept in memory and in files.
	for _, b := range chunkBackends {
		t.Run("small chunks in "+b.name, func(t *testing.T) {
			clock := &fakeClock{t: time.UnixMilli(t0)}
			db, _ := b.open(t, clock, func(o *Options) { o.OutOfOrderWindow, o.HeadChunkSamples = 0, 16 })
			defer db.Close()
			testConcurrentAppendSelectMaintain(t, db, clock)
		})
	}
}

func testConcurrentAppendSelectMaintain(t *testing.T, db *DB, clock *fakeClock) {
	const writers, series, samples = 4, 50, 400
	var (
		wg       sync.WaitGroup
		progress [writers]atomic.Int64 // sample index each writer is at
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range samples {
				progress[w].Store(int64(i))
				batch := make([]model.TimeSeries, 0, series)
				for s := range series {
					ls := model.FromStrings(model.MetricName, "load", "writer", fmt.Sprint(w), "s", fmt.Sprint(s))
					batch = append(batch, model.TimeSeries{Labels: ls, Samples: []model.Sample{{T: t0 + int64(i)*60_000, V: float64(i)}}})
				}
				if res, err := db.Append(batch); err != nil || res.Rejected != 0 {
					t.Errorf("append: %v %+v", err, res)
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			set := db.Select(context.Background(), 0, math.MaxInt64, nameIs("load"), model.MustNewMatcher(model.MatchRegexp, "s", "1.*"))
			var it model.SampleIterator
			for set.Next() {
				it = set.At().Iterator(it)
				prev := int64(math.MinInt64)
				for it.Next() {
					ts, _ := it.At()
					if ts <= prev {
						t.Errorf("samples out of order: %d after %d", ts, prev)
						return
					}
					prev = ts
				}
			}
		}
	}()
	go func() {
		defer readers.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// The clock follows the slowest writer, so sealing never
			// overtakes a sample still to be written.
			slowest := int64(samples)
			for w := range writers {
				slowest = min(slowest, progress[w].Load())
			}
			clock.Set(time.UnixMilli(t0 + slowest*60_000))
			db.Maintain(context.Background())
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	got := query(t, db, 0, math.MaxInt64, nameIs("load"))
	if len(got) != writers*series {
		t.Fatalf("got %d series, want %d", len(got), writers*series)
	}
}

// TestSealSplitsDenseWindows checks that a window holding more samples than
// one block may carry is sealed into several blocks, not a crash.
func TestSealSplitsDenseWindows(t *testing.T) {
	db, clock := openTestDB(t, nil)
	ls := model.FromStrings(model.MetricName, "dense")
	n := chunkenc.MaxBlockSamples + 1000
	samples := make([]model.Sample, n)
	for i := range samples {
		samples[i] = model.Sample{T: t0 + int64(i)*50, V: float64(i)}
	}
	if res := mustAppend(t, db, ls, samples...); res.Accepted != n {
		t.Fatalf("accepted %d of %d", res.Accepted, n)
	}
	clock.Set(time.UnixMilli(t0 + 7_200_000 + 11*60_000))
	db.Maintain(context.Background())
	db.mu(ls, func(s *memSeries) {
		if len(s.blocks) != 2 {
			t.Fatalf("got %d blocks, want 2", len(s.blocks))
		}
	})
	if got := query(t, db, 0, math.MaxInt64, nameIs("dense"))[ls.String()]; !sameSamples(got, samples) {
		t.Fatalf("got %d samples back, want %d", len(got), n)
	}
}
