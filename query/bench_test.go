package query_test

// Benchmarks of our engine over our tsdb against Prometheus' engine over
// Prometheus' TSDB, with the same data: 10k series (STRATUS_BENCH_SERIES
// overrides) x 2h at 10s, half request counters, half histogram buckets.
// Each query runs as a Grafana-like range query over the 2h at a 1m step.
// Run with
//
//	go test -run '^$' -bench VsPrometheus -benchtime 3x ./query/
//
// Every sub-benchmark reports our time and allocated bytes per query
// (ns/op, B/op), Prometheus' (prom-ns/op, prom-B/op) and the ratios
// ours / Prometheus (x-time, x-bytes).

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/querytest"
)

const (
	benchInterval = querytest.BenchInterval
	benchSamples  = querytest.BenchSamples
)

var (
	benchOnce sync.Once
	benchData []model.TimeSeries
)

func benchSeries(b *testing.B) []model.TimeSeries {
	benchOnce.Do(func() {
		n := 10_000
		if s := os.Getenv("STRATUS_BENCH_SERIES"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				b.Fatalf("STRATUS_BENCH_SERIES=%q: %v", s, err)
			}
		}
		benchData = querytest.BenchData(n, 0)
	})
	return benchData
}

type benchEnv struct {
	ours *query.Engine
	pe   *promql.Engine
	prom storage.Storage
}

var (
	envOnce sync.Once
	env     benchEnv
)

func loadBenchEnv(b *testing.B) benchEnv {
	data := benchSeries(b)
	envOnce.Do(func() {
		end := int64(benchSamples * benchInterval)
		env.prom = loadProm(b, data)
		env.ours = query.NewEngine(loadStratus(b, data, end), query.DefaultEngineOptions())
		env.pe = promEngine()
	})
	b.Logf("bench data: %d series x %d samples", len(data), benchSamples)
	return env
}

// measure runs f n times and returns the time and bytes allocated per run.
func measure(n int, f func()) (ns, bytes float64) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	for range n {
		f()
	}
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	return float64(el.Nanoseconds()) / float64(n), float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n)
}

func BenchmarkQueryVsPrometheus(b *testing.B) {
	e := loadBenchEnv(b)
	ctx := context.Background()
	start, end, step := time.UnixMilli(0), time.UnixMilli(benchSamples*benchInterval), time.Minute
	for _, q := range querytest.BenchQueries {
		b.Run(q.Name, func(b *testing.B) {
			ours := func() {
				res, err := e.ours.Range(ctx, q.Expr, start, end, step)
				if err != nil {
					b.Fatal(err)
				}
				res.Close() // as Prometheus' side closes its query
			}
			prom := func() {
				pq, err := e.pe.NewRangeQuery(ctx, e.prom, nil, q.Expr, start, end, step)
				if err != nil {
					b.Fatal(err)
				}
				if res := pq.Exec(ctx); res.Err != nil {
					b.Fatal(res.Err)
				}
				pq.Close()
			}
			b.ReportAllocs()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for b.Loop() {
				ours()
			}
			runtime.ReadMemStats(&m1)
			ourNs := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			ourBytes := float64(m1.TotalAlloc-m0.TotalAlloc) / float64(b.N)
			promNs, promBytes := measure(b.N, prom)
			b.ReportMetric(promNs, "prom-ns/op")
			b.ReportMetric(promBytes, "prom-B/op")
			b.ReportMetric(ourNs/promNs, "x-time")
			b.ReportMetric(ourBytes/promBytes, "x-bytes")
		})
	}
}
