package stacklang_test

// The stack language against the equivalent PromQL in the same engine,
// over the same tsdb: 10k series (STRATUS_BENCH_SERIES overrides) x 2h at
// 10s, a 2h graph at a 1m step. Run with
//
//	go test -run '^$' -bench StackVsPromQL -benchtime 5x ./query/stacklang/
//
// Each sub-benchmark reports the stack query's ns/op and B/op and, for
// the PromQL peer, promql-ns/op and promql-B/op and the ratios x-time and
// x-bytes (stack / PromQL). The two run in turns within each iteration.

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/stacklang"
	"github.com/stratus-metrics/stratus/tsdb"
)

const (
	benchInterval = int64(10_000)
	benchSamples  = 720
)

var (
	benchOnce sync.Once
	benchNg   *query.Engine
)

func benchEngine(b *testing.B) *query.Engine {
	benchOnce.Do(func() {
		n := 10_000
		if s := os.Getenv("STRATUS_BENCH_SERIES"); s != "" {
			var err error
			if n, err = strconv.Atoi(s); err != nil {
				b.Fatalf("STRATUS_BENCH_SERIES=%q: %v", s, err)
			}
		}
		data := make([]model.TimeSeries, n)
		codes := []string{"200", "201", "404", "500", "503"}
		for i := range data {
			ls := model.FromStrings("__name__", "http_server_requests_total", "service", fmt.Sprintf("svc-%02d", i%40),
				"instance", fmt.Sprintf("10.1.%d.%d:8080", i/250, i%250), "status", codes[i%5])
			s := make([]model.Sample, benchSamples)
			v := float64(i % 1000)
			for j := range s {
				v += float64((i*7 + j*13) % 50)
				s[j] = model.Sample{T: int64(j) * benchInterval, V: v}
			}
			data[i] = model.TimeSeries{Labels: ls, Samples: s}
		}
		opts := tsdb.DefaultOptions()
		end := int64(benchSamples) * benchInterval
		opts.Now = func() time.Time { return time.UnixMilli(end) }
		opts.Retention = 30 * 24 * time.Hour
		db, err := tsdb.Open("", opts, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if res, err := db.Append(data); err != nil || res.Rejected > 0 {
			b.Fatalf("append: %v, %d rejected", err, res.Rejected)
		}
		benchNg = query.NewEngine(db, query.DefaultEngineOptions())
	})
	return benchNg
}

func BenchmarkStackVsPromQL(b *testing.B) {
	ng := benchEngine(b)
	eng := stacklang.NewEngine(ng)
	ctx := context.Background()
	step := time.Minute
	start, end := time.UnixMilli(step.Milliseconds()), time.UnixMilli(benchSamples*benchInterval)
	n := int((end.UnixMilli()-start.UnixMilli())/step.Milliseconds()) + 1
	const stack = "name,http_server_requests_total,:eq,:sum,(,service,),:by"
	for _, peer := range []struct{ name, promql string }{
		// The same per-step value: the average of the samples in each
		// step, summed by service.
		{"avg_over_time", "sum by (service) (avg_over_time(http_server_requests_total[1m]))"},
		// The PromQL users would write: the latest sample at each step.
		{"instant", "sum by (service) (http_server_requests_total)"},
	} {
		b.Run(peer.name, func(b *testing.B) {
			runStack := func() {
				p, err := stacklang.Parse(stack)
				if err != nil {
					b.Fatal(err)
				}
				r, err := eng.Eval(ctx, p, start.UnixMilli(), step.Milliseconds(), n)
				if err != nil || len(r.Series) != 40 {
					b.Fatalf("stack: %v, %d series", err, len(r.Series))
				}
			}
			runProm := func() {
				r, err := ng.Range(ctx, peer.promql, start, end, step)
				if err != nil || len(r.Value.(query.Matrix)) != 40 {
					b.Fatalf("promql: %v", err)
				}
			}
			// The two run in turns, so that a change in the machine's load
			// during the benchmark falls on both alike.
			var m0, m1 runtime.MemStats
			var sNs, pNs, sBytes, pBytes, sAllocs float64
			n := 0
			for b.Loop() {
				runtime.ReadMemStats(&m0)
				t0 := time.Now()
				runStack()
				sNs += float64(time.Since(t0).Nanoseconds())
				runtime.ReadMemStats(&m1)
				sBytes += float64(m1.TotalAlloc - m0.TotalAlloc)
				sAllocs += float64(m1.Mallocs - m0.Mallocs)
				t0 = time.Now()
				runProm()
				pNs += float64(time.Since(t0).Nanoseconds())
				runtime.ReadMemStats(&m0)
				pBytes += float64(m0.TotalAlloc - m1.TotalAlloc)
				n++
			}
			ns, pns := sNs/float64(n), pNs/float64(n)
			bytes, pbytes := sBytes/float64(n), pBytes/float64(n)
			b.ReportMetric(ns, "ns/op")
			b.ReportMetric(bytes, "B/op")
			b.ReportMetric(sAllocs/float64(n), "allocs/op")
			b.ReportMetric(pns, "promql-ns/op")
			b.ReportMetric(pbytes, "promql-B/op")
			b.ReportMetric(ns/pns, "x-time")
			b.ReportMetric(bytes/pbytes, "x-bytes")
		})
	}
}
