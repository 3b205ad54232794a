package tenant

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// BenchmarkAppend compares appending the same 5,000-series batch of known
// series to the store directly and through a tenant's scope, in turns, so
// that the ratio shows what the tenant label costs on the append path.
// "labels" looks every series up by its labels (the scope rewrites them
// first and its keys are longer); "refs" appends by the references the
// ingest handler keeps for remote write, where the scope adds nothing.
func BenchmarkAppend(b *testing.B) {
	for _, withRefs := range []bool{false, true} {
		name := "labels"
		if withRefs {
			name = "refs"
		}
		b.Run(name, func(b *testing.B) {
			db := openStore(b)
			sc := NewScope(db, "team-a", Limits{})
			series := datagen.Series(5000)
			t0 := time.Now().UnixMilli()
			batch := make([]model.TimeSeries, len(series))
			for i, ls := range series {
				batch[i] = model.TimeSeries{Labels: ls, Samples: []model.Sample{{T: t0, V: 1}}}
			}
			directRefs, scopedRefs := make([]uint64, len(batch)), make([]uint64, len(batch))
			direct := func(bt []model.TimeSeries) { db.Append(bt) }
			scoped := func(bt []model.TimeSeries) { sc.Append(bt) }
			if withRefs {
				direct = func(bt []model.TimeSeries) { db.AppendRefs(bt, directRefs) }
				scoped = func(bt []model.TimeSeries) { sc.AppendRefs(bt, scopedRefs) }
			}
			sides := []func([]model.TimeSeries){direct, scoped}
			for _, f := range sides {
				f(batch) // create the series (and learn the references)
			}
			var took [2]time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for j, f := range sides {
					for k := range batch {
						batch[k].Samples[0].T = t0 + int64(i+1)*1000
					}
					start := time.Now()
					f(batch)
					took[j] += time.Since(start)
				}
			}
			n := float64(b.N * len(batch))
			b.ReportMetric(n/took[0].Seconds(), "direct-samples/s")
			b.ReportMetric(n/took[1].Seconds(), "scoped-samples/s")
			b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "scoped/direct")
		})
	}
}

// BenchmarkSelect compares selecting and reading the same series directly
// and through a tenant's scope, in turns: what the tenant matcher and the
// label removal cost a query's store access. Each side has a store of its
// own, as a server with tenancy off has.
func BenchmarkSelect(b *testing.B) {
	db := openStore(b)                               // the series without tenancy
	sc := NewScope(openStore(b), "team-a", Limits{}) // the same series as a tenant's
	series := datagen.Series(20000)
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	for step := range 240 {
		batch := make([]model.TimeSeries, len(series))
		for i, ls := range series {
			batch[i] = model.TimeSeries{Labels: ls, Samples: []model.Sample{{T: t0 + int64(step)*15_000, V: float64(step)}}}
		}
		if _, err := db.Append(batch); err != nil {
			b.Fatal(err)
		}
		if _, err := sc.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	m := model.MustNewMatcher(model.MatchEqual, model.MetricName, "node_cpu_seconds_total")
	read := func(q interface {
		Select(context.Context, int64, int64, ...*model.Matcher) model.SeriesSet
	}) int {
		set := q.Select(context.Background(), math.MinInt64, math.MaxInt64, m)
		n := 0
		for set.Next() {
			s := set.At()
			_ = s.Labels()
			it := s.Iterator(nil)
			for it.Next() {
				n++
			}
		}
		return n
	}
	if a, c := read(db), read(sc); a != c || a == 0 {
		b.Fatalf("direct read %d samples, scoped %d", a, c)
	}
	var took [2]time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		read(db)
		took[0] += time.Since(start)
		start = time.Now()
		read(sc)
		took[1] += time.Since(start)
	}
	b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "scoped/direct")
}
