package tenant

import (
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// BenchmarkAppend compares appending the same 5,000-series batch of known
// series to the store directly and through a tenant's scope, in turns, so
// that the ratio shows what the label rewrite and the longer series keys
// cost on the append path.
func BenchmarkAppend(b *testing.B) {
	db := openStore(b)
	sc := NewScope(db, "team-a", Limits{})
	series := datagen.Series(5000)
	t0 := time.Now().UnixMilli()
	batch := make([]model.TimeSeries, len(series))
	for i, ls := range series {
		batch[i] = model.TimeSeries{Labels: ls, Samples: []model.Sample{{T: t0, V: 1}}}
	}
	direct, scoped := func(bt []model.TimeSeries) { db.Append(bt) }, func(bt []model.TimeSeries) { sc.Append(bt) }
	for _, f := range []func([]model.TimeSeries){direct, scoped} {
		f(batch) // create the series
	}
	var took [2]time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for j, f := range []func([]model.TimeSeries){direct, scoped} {
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
}
