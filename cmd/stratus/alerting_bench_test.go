package main

// The alerting load benchmark of issue 7: 10,000 alerting rules over
// 100,000 series, evaluated as one round by the rule evaluator, store and
// PromQL engine that `stratus serve` wires together. It loads its data set
// (100k series x 20 min at 15 s), so `make bench` runs it once:
//
//	go test -run '^$' -bench AlertingRound -benchtime 1x ./cmd/stratus/
//
// Each op is one round: every group evaluated once at the same instant,
// GOMAXPROCS groups at a time — the worst case of the Manager's schedule,
// where every group's slot falls together (it spreads them over the
// interval). It reports the steady-state round's wall time (ms/round), its
// share of a 15 s evaluation interval (%-of-15s; at 100 the evaluator
// would fall behind), the CPU time the process spent in it (cpu-ms/round),
// the wall time of the earlier round in which all 1,200 alerts start
// firing (firing-round-ms) and the alerts firing.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/alert"
	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/tsdb"
)

const (
	benchServices        = 10_000 // one rule per service
	benchInstances       = 5      // per service, each with a 200 and a 500 counter: 100k series
	benchRulesPerGroup   = 100
	benchSampleStep      = 15_000 // ms
	benchSamplesPerSerie = 80     // 20 minutes
	benchRoundInterval   = 15 * time.Second
)

// benchRulesData returns the counters: for service s, instance i,
// bench_requests_total{service, instance, code="200"|"500"}. Every 25th
// service answers 10% 5xx, the rest 0.5%.
func benchRulesData(end int64) []model.TimeSeries {
	out := make([]model.TimeSeries, 0, benchServices*benchInstances*2)
	start := end - int64(benchSamplesPerSerie-1)*benchSampleStep
	for s := range benchServices {
		errPerStep := 0.5
		if s%25 == 0 {
			errPerStep = 10
		}
		for i := range benchInstances {
			for _, code := range []string{"200", "500"} {
				ls := model.FromStrings("__name__", "bench_requests_total", "service", benchService(s),
					"instance", fmt.Sprintf("10.%d.%d.%d:8080", s/250, s%250, i), "code", code)
				inc := 100 - errPerStep
				if code == "500" {
					inc = errPerStep
				}
				samples := make([]model.Sample, benchSamplesPerSerie)
				v := float64(s % 1000)
				for j := range samples {
					v += inc
					samples[j] = model.Sample{T: start + int64(j)*benchSampleStep, V: v}
				}
				out = append(out, model.TimeSeries{Labels: ls, Samples: samples})
			}
		}
	}
	return out
}

func benchService(s int) string { return fmt.Sprintf("svc-%05d", s) }

// benchRuleFiles writes the rules: per service, alternately, the service's
// 5xx ratio over 5m and the per-instance 5xx rate, each above a threshold
// that every 25th service passes. Groups of 100 rules, 100 groups.
func benchRuleFiles(tb testing.TB, dir string) string {
	var b strings.Builder
	b.WriteString("groups:\n")
	for s := range benchServices {
		if s%benchRulesPerGroup == 0 {
			fmt.Fprintf(&b, "  - name: bench-%03d\n    interval: 15s\n    rules:\n", s/benchRulesPerGroup)
		}
		svc := benchService(s)
		if s%2 == 0 {
			fmt.Fprintf(&b, `      - alert: ErrorRatioHigh
        expr: sum(rate(bench_requests_total{service=%q,code="500"}[5m])) / sum(rate(bench_requests_total{service=%q}[5m])) > 0.05
        for: 1m
        labels: {severity: page, service: %q}
        annotations: {summary: '{{ $labels.service }} answers {{ $value | humanizePercentage }} 5xx'}
`, svc, svc, svc)
		} else {
			fmt.Fprintf(&b, `      - alert: InstanceErrorsHigh
        expr: rate(bench_requests_total{service=%q,code="500"}[5m]) > 0.1
        for: 1m
        labels: {severity: ticket}
        annotations: {summary: '{{ $labels.instance }} of {{ $labels.service }}: {{ $value }} 5xx/s'}
`, svc)
		}
	}
	p := filepath.Join(dir, "bench-rules.yml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// processCPU returns the CPU time (user + system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// evalRound evaluates every group once at ts, GOMAXPROCS at a time.
func evalRound(ctx context.Context, groups []*alert.Group, ts time.Time) {
	work := make(chan *alert.Group)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range work {
				g.Eval(ctx, ts)
			}
		}()
	}
	for _, g := range groups {
		work <- g
	}
	close(work)
	wg.Wait()
}

func BenchmarkAlertingRound(b *testing.B) {
	end := time.Now().Truncate(time.Minute)
	opts := tsdb.DefaultOptions()
	opts.Now = func() time.Time { return end }
	db, err := tsdb.Open("", opts, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	data := benchRulesData(end.UnixMilli())
	for i := 0; i < len(data); i += 10_000 {
		if res, err := db.Append(data[i:min(i+10_000, len(data))]); err != nil || res.Rejected > 0 {
			b.Fatalf("append: %v, %d rejected", err, res.Rejected)
		}
	}
	data = nil

	dir := b.TempDir()
	amCfg, err := alert.LoadNotifierConfig(defaultAlerting)
	if err != nil {
		b.Fatal(err)
	}
	n, err := alert.NewNotifier(alert.NotifierOptions{Config: amCfg, DataDir: filepath.Join(dir, "alert")})
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	ng := query.NewEngine(db, query.DefaultEngineOptions())
	m, err := alert.NewManager(alert.Options{Query: engineQueryFunc(ng), Appender: db, Notifier: n,
		DataDir: filepath.Join(dir, "alert"), Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.Reload([]string{benchRuleFiles(b, dir)}); err != nil {
		b.Fatal(err)
	}
	groups := m.Groups()
	if len(groups) != benchServices/benchRulesPerGroup {
		b.Fatalf("%d groups, want %d", len(groups), benchServices/benchRulesPerGroup)
	}
	ctx := context.Background()

	// A first round at end-1m makes the alerts pending; the round at end
	// turns them firing (for: 1m), which writes every group's state file
	// and hands 1,200 new alerts to the notifier: timed apart. The
	// measured rounds after it are the steady state.
	evalRound(ctx, groups, end.Add(-time.Minute))
	began := time.Now()
	evalRound(ctx, groups, end)
	firingRound := time.Since(began)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := range b.N {
		evalRound(ctx, groups, end.Add(time.Duration(i+1)*benchRoundInterval))
	}
	b.StopTimer()
	cpu := processCPU() - cpu0

	firing := 0
	for _, a := range m.Alerts() {
		if a.State == alert.StateFiring {
			firing++
		}
	}
	// Every 25th service fires: its ratio rule (even services) or its
	// instances (odd ones).
	if want := benchServices/50 + benchServices/50*benchInstances; firing != want {
		b.Fatalf("%d alerts firing, want %d", firing, want)
	}
	for _, g := range groups {
		if errs := g.LastErrors(); len(errs) > 0 {
			b.Fatalf("group %s: %v", g.Name(), errs[0])
		}
	}
	perRound := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(perRound.Microseconds())/1000, "ms/round")
	b.ReportMetric(100*perRound.Seconds()/benchRoundInterval.Seconds(), "%-of-15s")
	b.ReportMetric(float64((cpu/time.Duration(b.N)).Microseconds())/1000, "cpu-ms/round")
	b.ReportMetric(float64(firingRound.Microseconds())/1000, "firing-round-ms")
	b.ReportMetric(float64(firing), "firing")
	b.ReportMetric(benchServices, "rules")
}
