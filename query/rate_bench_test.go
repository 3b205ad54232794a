package query

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkRatePoints computes rate(x[5m]) at a 1m step over 2 h of a
// counter scraped every 10 s, the per-series work of the benchmark
// queries: incrementally (ratePoints, the fast path) and window by window
// (extrapolatedRate, the general path).
func BenchmarkRatePoints(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	pts := make([]FPoint, 750)
	v := 1000.0
	for i := range pts {
		v += float64(rng.IntN(50))
		pts[i] = FPoint{T: int64(i) * 10_000, F: v}
	}
	for _, c := range []struct {
		name    string
		general bool
	}{{"incremental", false}, {"per-window", true}} {
		b.Run(c.name, func(b *testing.B) {
			ev := &evaluator{ctx: context.Background(), start: 300_000, end: 300_000 + 120*60_000, interval: 60_000, noFastPaths: c.general}
			rc := &rangeCall{
				ev: ev, fn: functions["rate"], rs: rangeSource{rng: 300_000},
				c: &callCtx{rng: 300_000}, extrapolated: true, isCounter: true, isRate: true,
			}
			var dst []FPoint
			b.ReportAllocs()
			for b.Loop() {
				dst = rc.points(dst[:0], pts)
			}
			if len(dst) != 121 {
				b.Fatalf("%d values, want 121", len(dst))
			}
		})
	}
}
