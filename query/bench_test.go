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
	"fmt"
	"math/rand/v2"
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
)

const (
	benchInterval = 10_000
	benchSamples  = 720 // 2h
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
				panic(err)
			}
		}
		rng := rand.New(rand.NewPCG(7, 7))
		codes := []string{"200", "201", "404", "500", "503"}
		les := []string{"0.005", "0.01", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "10", "+Inf"}
		for i := 0; len(benchData) < n/2; i++ {
			handler := fmt.Sprintf("/api/v%d/items/%d", i%3, i/5%20)
			ls := model.FromStrings(model.MetricName, "http_requests_total", "job", "api",
				"instance", fmt.Sprintf("10.1.%d.%d:8080", i/250, i%250/5), "handler", handler, "code", codes[i%5])
			benchData = append(benchData, model.TimeSeries{Labels: ls, Samples: counterSamples(rng, 5)})
		}
		for i := 0; len(benchData) < n; i++ {
			counts := counterSamples(rng, 1)
			for j, le := range les {
				if len(benchData) >= n {
					break
				}
				ls := model.FromStrings(model.MetricName, "request_duration_seconds_bucket", "job", "api",
					"instance", fmt.Sprintf("10.1.%d.%d:8080", i/50, i%50), "le", le)
				s := make([]model.Sample, len(counts))
				for k, c := range counts {
					s[k] = model.Sample{T: c.T, V: c.V * float64(j+1)}
				}
				benchData = append(benchData, model.TimeSeries{Labels: ls, Samples: s})
			}
		}
	})
	return benchData
}

func counterSamples(rng *rand.Rand, rate int) []model.Sample {
	s := make([]model.Sample, benchSamples)
	v := float64(rng.IntN(1000))
	for i := range s {
		v += float64(rng.IntN(10 * rate))
		s[i] = model.Sample{T: int64(i) * benchInterval, V: v}
	}
	return s
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
	queries := []struct{ name, expr string }{
		{"sum_rate", `sum by (code) (rate(http_requests_total[5m]))`},
		{"histogram_quantile", `histogram_quantile(0.99, sum by (le) (rate(request_duration_seconds_bucket[5m])))`},
		{"topk", `topk(10, rate(http_requests_total[5m]))`},
		{"regex", `sum(rate(http_requests_total{handler=~"/api/v1/.*", code=~"5.."}[5m]))`},
		{"subquery", `max_over_time(sum by (code) (rate(http_requests_total[1m]))[30m:1m])`},
		{"join", `sum by (instance) (rate(http_requests_total{code=~"5.."}[5m])) / on (instance) sum by (instance) (rate(http_requests_total[5m]))`},
	}
	e := loadBenchEnv(b)
	ctx := context.Background()
	start, end, step := time.UnixMilli(0), time.UnixMilli(benchSamples*benchInterval), time.Minute
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			ours := func() {
				if _, err := e.ours.Range(ctx, q.expr, start, end, step); err != nil {
					b.Fatal(err)
				}
			}
			prom := func() {
				pq, err := e.pe.NewRangeQuery(ctx, e.prom, nil, q.expr, start, end, step)
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
