package main

// The query benchmark over HTTP against VictoriaMetrics single-node: the
// querytest benchmark data (10k series x 2h at 10 s, within the last few
// hours) remote-written to a real `stratus serve` and a real
// victoria-metrics, then the querytest benchmark queries as Grafana-like
// range queries (the 2h at a 1m step) against both, alternating, in the
// same run. It needs Debian's victoria-metrics package and minutes of
// load, so it runs only when asked:
//
//	STRATUS_BENCH_VM=1 go test -run '^$' -bench QueryHTTP -benchtime 10x -timeout 30m ./cmd/stratus/
//
// (scripts/bench-query.sh does this). Each sub-benchmark reports the
// median latency of Stratus (ns/op, stratus-ms) and VictoriaMetrics
// (vm-ms), their ratio Stratus / VictoriaMetrics (x-time; below 1 means
// Stratus is faster) and the series each answered. STRATUS_BENCH_SERIES
// changes the number of series; STRATUS_BENCH_PROFILE=file saves a 10 s
// CPU profile of Stratus taken while the queries run.

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/query/querytest"
)

// benchServer is a server process started by the benchmark.
type benchServer struct {
	cmd  *exec.Cmd
	logs *syncWriter
	addr string
}

// startBenchServer starts bin and waits up to two minutes for readyPath
// to answer 200; the process is killed when the benchmark ends unless
// stopped before.
func startBenchServer(tb testing.TB, addr, readyPath, bin string, args ...string) *benchServer {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	logs := &syncWriter{w: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	s := &benchServer{cmd: cmd, logs: logs, addr: addr}
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		}
	})
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + readyPath); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
	}
	tb.Fatalf("%s did not become ready at %s within 2 minutes; output:\n%s", bin, readyPath, logs.w)
	return nil
}

// stop ends the process with SIGTERM (a graceful shutdown) and waits.
func (s *benchServer) stop(tb testing.TB) {
	tb.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		tb.Fatalf("%s exited with %v; output:\n%s", s.cmd.Path, err, s.logs.w)
	}
}

func benchAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// metricValue reads one unlabelled metric from a /metrics page.
func metricValue(tb testing.TB, addr, name string) float64 {
	tb.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("metric %s: %v", name, err)
			}
			return f
		}
	}
	tb.Fatalf("metric %s not on %s/metrics", name, addr)
	return 0
}

// timedRangeQuery runs one range query and returns its latency and the
// number of series answered.
func timedRangeQuery(tb testing.TB, client *http.Client, addr, expr string, start, end int64) (time.Duration, int) {
	tb.Helper()
	form := url.Values{"query": {expr}, "start": {apiTime(start)}, "end": {apiTime(end)}, "step": {"60"}}
	began := time.Now()
	resp, err := client.PostForm("http://"+addr+"/api/v1/query_range", form)
	if err != nil {
		tb.Fatalf("query %s at %s: %v", expr, addr, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(began)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("query %s at %s: status %d, %v: %.300s", expr, addr, resp.StatusCode, err, body)
	}
	var env struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		tb.Fatalf("query %s at %s: %v", expr, addr, err)
	}
	return took, len(env.Data.Result)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func BenchmarkQueryHTTPVsVictoriaMetrics(b *testing.B) {
	if os.Getenv("STRATUS_BENCH_VM") == "" {
		b.Skip("set STRATUS_BENCH_VM=1 to run (needs the victoria-metrics binary and a few minutes); see scripts/bench-query.sh")
	}
	vmBin, err := exec.LookPath("victoria-metrics")
	if err != nil {
		b.Fatalf("victoria-metrics not found: apt-get install -y --no-install-recommends victoria-metrics")
	}
	n := 10_000
	if s := os.Getenv("STRATUS_BENCH_SERIES"); s != "" {
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("STRATUS_BENCH_SERIES=%q: %v", s, err)
		}
	}
	// The data ends 10 minutes before now: well inside VictoriaMetrics'
	// -search.latencyOffset (30s), Stratus' max_sample_age (24h) and both
	// retentions.
	now := time.Now().UnixMilli()
	base := (now - querytest.BenchSamples*querytest.BenchInterval - 10*60_000) / 60_000 * 60_000
	start, end := base, base+(querytest.BenchSamples-1)*querytest.BenchInterval
	data := querytest.BenchData(n, base)
	samples := n * querytest.BenchSamples

	// Stratus in three steps, so that it answers from the state it would be
	// in after running for two hours, with the older windows sealed into
	// blocks: load with sealing held off (a two-hour backfill crosses a
	// window boundary, and samples of sealed windows are refused), restart
	// with frequent maintenance until the closed windows are sealed, then
	// restart with the default configuration and measure.
	dir := b.TempDir()
	stratusAddr := benchAddr(b)
	cfgFile := func(yaml string) string {
		p := filepath.Join(b.TempDir(), "stratus.yml")
		if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
			b.Fatal(err)
		}
		return p
	}
	stratusArgs := func(extra ...string) []string {
		return append([]string{"serve", "--listen-addr", stratusAddr, "--data-dir", dir, "--log-level", "warn"}, extra...)
	}
	began := time.Now()
	st := startBenchServer(b, stratusAddr, "/-/ready", stratusBin, stratusArgs("--config", cfgFile("storage:\n  maintenance_interval: 24h\n"))...)
	pushDataSet(b, stratusAddr, data, 100)
	b.Logf("stratus: %d series x %d samples loaded in %v", n, querytest.BenchSamples, time.Since(began).Round(time.Millisecond))
	st.stop(b)
	st = startBenchServer(b, stratusAddr, "/-/ready", stratusBin, stratusArgs("--config", cfgFile("storage:\n  maintenance_interval: 1s\n"))...)
	for deadline := time.Now().Add(time.Minute); metricValue(b, stratusAddr, "stratus_tsdb_blocks_sealed_total") == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("stratus sealed no block within a minute")
		}
	}
	st.stop(b)
	st = startBenchServer(b, stratusAddr, "/-/ready", stratusBin, stratusArgs()...)

	vmAddr := benchAddr(b)
	vmDir := b.TempDir()
	began = time.Now()
	startBenchServer(b, vmAddr, "/health", vmBin, "-storageDataPath", vmDir, "-httpListenAddr", vmAddr,
		"-retentionPeriod", "1y", "-search.disableCache", "-loggerLevel", "WARN")
	pushDataSet(b, vmAddr, data, 100)
	// Samples become searchable once VictoriaMetrics flushes its in-memory
	// buffers; force it instead of waiting.
	if resp, err := http.Get("http://" + vmAddr + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
	b.Logf("victoria-metrics: loaded in %v", time.Since(began).Round(time.Millisecond))

	client := &http.Client{Timeout: 5 * time.Minute}
	defer client.CloseIdleConnections()
	// Both must hold the whole data set before anything is measured.
	for _, addr := range []string{stratusAddr, vmAddr} {
		expr := `sum(count_over_time({__name__=~"http_requests_total|request_duration_seconds_bucket"}[3h]))`
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
			res, err := apiQuery(context.Background(), client, addr, "/api/v1/query", url.Values{"query": {expr}, "time": {apiTime(end)}})
			if err == nil && len(res.Series) == 1 && len(res.Series[0].Points) == 1 && int(res.Series[0].Points[0].F) == samples {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s does not hold the %d samples pushed: %+v %v", addr, samples, res, err)
			}
		}
	}

	if prof := os.Getenv("STRATUS_BENCH_PROFILE"); prof != "" {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			resp, err := http.Get("http://" + stratusAddr + "/debug/pprof/profile?seconds=10")
			if err != nil {
				b.Errorf("profile: %v", err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(prof)
			if err != nil {
				b.Errorf("profile: %v", err)
				return
			}
			defer f.Close()
			io.Copy(f, resp.Body)
		}()
	}

	for _, q := range querytest.BenchQueries {
		b.Run(q.Name, func(b *testing.B) {
			// One untimed run each: connections, page cache, VictoriaMetrics'
			// per-query caches that -search.disableCache does not cover.
			timedRangeQuery(b, client, stratusAddr, q.Expr, start, end)
			timedRangeQuery(b, client, vmAddr, q.Expr, start, end)
			// Alternate the two servers so both see the same load from the
			// other work on this shared machine.
			var ours, vm []time.Duration
			var ourSeries, vmSeries int
			for range b.N {
				d, s := timedRangeQuery(b, client, stratusAddr, q.Expr, start, end)
				ours, ourSeries = append(ours, d), s
				d, s = timedRangeQuery(b, client, vmAddr, q.Expr, start, end)
				vm, vmSeries = append(vm, d), s
			}
			mo, mv := median(ours), median(vm)
			b.ReportMetric(float64(mo.Nanoseconds()), "ns/op")
			b.ReportMetric(float64(mo.Microseconds())/1000, "stratus-ms")
			b.ReportMetric(float64(mv.Microseconds())/1000, "vm-ms")
			b.ReportMetric(float64(mo)/float64(mv), "x-time")
			b.ReportMetric(float64(ourSeries), "stratus-series")
			b.ReportMetric(float64(vmSeries), "vm-series")
		})
	}
	st.stop(b)
}
