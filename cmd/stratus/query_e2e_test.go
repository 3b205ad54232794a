package main

// The differential test of the query engine through the real binary: the
// querytest data set is pushed over remote write 1.0 into a running
// `stratus serve`, and loaded into Prometheus' own TSDB in-process; every
// querytest expression then runs as instant and range queries through
// Stratus' /api/v1/query and /api/v1/query_range and through Prometheus'
// engine, and the answers must agree (values within 1e-9 relative, the
// same label sets, the same order where the query orders).
//
// Unlike query's in-process differential test, this one covers what lies
// between a client and the engine: the ingest path (remote-write decoding,
// staleness markers as the stale NaN bits, NaN and ±Inf), the tsdb as the
// binary configures it, the API's parameter parsing and its JSON.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query/querytest"
	"github.com/stratus-metrics/stratus/query/querytest/promref"
)

// diffPlacement chooses where the data set goes and the block duration
// the server runs with. The data set is two hours long; it is placed on a
// whole hour ending at least 5 minutes before now, so every sample is
// within ingest's default max_sample_age (24h) and none is in the future.
// The tsdb rejects samples in sealed windows, and the window holding
// now - out_of_order_window (10m) is the oldest open one, so the block
// duration is chosen (24h, or a little longer when today's UTC window
// started less than three hours ago) such that that window starts at or
// before the data.
func diffPlacement(t *testing.T, now time.Time) (base int64, blockDuration time.Duration) {
	t.Helper()
	const hour = int64(time.Hour / time.Millisecond)
	nowMs := now.UnixMilli()
	base = (nowMs - querytest.DataEnd - 5*60_000) / hour * hour
	cutoff := nowMs - (10 * time.Minute).Milliseconds()
	for d := 24 * hour; d <= 72*hour; d += hour {
		if cutoff-cutoff%d <= base {
			return base, time.Duration(d) * time.Millisecond
		}
	}
	t.Fatalf("no block duration between 24h and 72h puts %d in an open window at %v", base, now)
	return 0, 0
}

// pushDataSet remote-writes data to addr, perRequest series per request,
// and fails the test unless every request is acknowledged with 204 (or,
// from VictoriaMetrics, any 2xx).
func pushDataSet(t testing.TB, addr string, data []model.TimeSeries, perRequest int) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Minute}
	for i := 0; i < len(data); i += perRequest {
		var batch []prompb.TimeSeries
		for _, ts := range data[i:min(i+perRequest, len(data))] {
			pts := prompb.TimeSeries{Samples: make([]prompb.Sample, len(ts.Samples))}
			for _, l := range ts.Labels {
				pts.Labels = append(pts.Labels, prompb.Label{Name: l.Name, Value: l.Value})
			}
			// Staleness markers travel as the stale NaN's bits: the
			// float64 is copied, never re-created from math.NaN().
			for j, s := range ts.Samples {
				pts.Samples[j] = prompb.Sample{Timestamp: s.T, Value: s.V}
			}
			batch = append(batch, pts)
		}
		code, err := remoteWrite(client, addr, batch)
		if err != nil || code/100 != 2 {
			t.Fatalf("remote write of series %d..%d: status %d, %v", i, i+len(batch)-1, code, err)
		}
	}
}

// apiQuery runs one query through the HTTP API (POST, form-encoded, as
// Grafana sends it) and decodes the answer.
func apiQuery(ctx context.Context, client *http.Client, addr, path string, form url.Values) (querytest.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, strings.NewReader(form.Encode()))
	if err != nil {
		return querytest.Result{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return querytest.Result{}, fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return querytest.Result{}, fmt.Errorf("%s: read answer: %w", path, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return querytest.Result{}, fmt.Errorf("%s: status %d, Content-Type %q: %.200s", path, resp.StatusCode, ct, body)
	}
	res, err := querytest.DecodeAPI(body)
	if err != nil {
		return res, fmt.Errorf("%s: %w: %.200s", path, err, body)
	}
	if (res.Err == "") != (resp.StatusCode == http.StatusOK) {
		return res, fmt.Errorf("%s: status %d with answer %.200s", path, resp.StatusCode, body)
	}
	return res, nil
}

// apiTime renders milliseconds as the API's Unix seconds.
func apiTime(ms int64) string { return fmt.Sprintf("%d.%03d", ms/1000, ms%1000) }

func TestQueryDifferentialOverHTTP(t *testing.T) {
	began := time.Now()
	base, blockDuration := diffPlacement(t, began)
	data := querytest.Shift(querytest.Data(1), base)

	cfg := filepath.Join(t.TempDir(), "stratus.yml")
	cfgText := fmt.Sprintf("storage:\n  block_duration: %s\n  retention: 720h\n", blockDuration)
	if err := os.WriteFile(cfg, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startStratus(t, addr, t.TempDir(), "--config", cfg)
	pushDataSet(t, addr, data, 16)
	prom := promref.Load(t, data)
	pe := promref.NewEngine()
	t.Logf("data set: %d series at %s (block_duration %s), loaded in %v", len(data), time.UnixMilli(base).UTC().Format(time.RFC3339), blockDuration, time.Since(began).Round(time.Millisecond))

	exprs := querytest.Expressions()
	if len(exprs) < 300 {
		t.Fatalf("only %d expressions; the test needs at least 300", len(exprs))
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	ctx := context.Background()
	step := time.Duration(querytest.RangeStep) * time.Millisecond

	var (
		mu                             sync.Mutex
		total, matched, errorsCompared int
		skipped                        int
	)
	check := func(kind, expr string, ordered bool, got, want querytest.Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		total++
		if err != nil {
			t.Errorf("%s %s: %v", kind, expr, err)
			return
		}
		if want.Err != "" {
			errorsCompared++
		}
		if err := querytest.Compare(got, want, ordered); err != nil {
			t.Errorf("%s %s: %v", kind, expr, err)
			return
		}
		matched++
	}
	// Each expression is independent; a few workers overlap Prometheus'
	// evaluation with the HTTP round trips. The queue is the finite list
	// of expressions, so the loop is bounded.
	work := make(chan string)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for expr := range work {
				shifted := querytest.ShiftExpr(expr, base)
				ordered := querytest.Ordered(expr)
				for _, rel := range querytest.InstantTimes {
					ts := base + rel
					want, err := promref.Instant(ctx, pe, prom, shifted, ts)
					if err != nil {
						check("instant", expr, ordered, querytest.Result{}, want, err)
						continue
					}
					got, err := apiQuery(ctx, client, addr, "/api/v1/query", url.Values{"query": {shifted}, "time": {apiTime(ts)}})
					check(fmt.Sprintf("instant at +%ds", rel/1000), expr, ordered, got, want, err)
				}
				start, end := base+querytest.RangeStart, base+querytest.RangeEnd
				want, err := promref.Range(ctx, pe, prom, shifted, start, end, step)
				if err != nil {
					check("range", expr, ordered, querytest.Result{}, want, err)
					continue
				}
				// Prometheus refuses range queries over range vectors and
				// strings before evaluating them, as Stratus does; those
				// expressions are checked as instant queries only.
				if want.Type != string(parser.ValueTypeMatrix) && want.Err == "" {
					continue
				}
				got, err := apiQuery(ctx, client, addr, "/api/v1/query_range", url.Values{
					"query": {shifted}, "start": {apiTime(start)}, "end": {apiTime(end)}, "step": {step.String()},
				})
				check("range", expr, ordered, got, want, err)
			}
		}()
	}
	for _, expr := range exprs {
		if reason, ok := querytest.DeliberateDifferences[expr]; ok {
			t.Logf("skipped %q: %s", expr, reason)
			skipped++
			continue
		}
		work <- expr
	}
	close(work)
	wg.Wait()
	t.Logf("differential test over HTTP: %d of %d queries (%d expressions, %d skipped, %d expected errors) match Prometheus, in %v",
		matched, total, len(exprs), skipped, errorsCompared, time.Since(began).Round(time.Millisecond))
	if t.Failed() {
		t.Logf("stratus logs:\n%s", p.logs)
	}
	p.stop(t)
}

// TestQueryConfig checks that the query section of the configuration file
// reaches the engine (lookback_delta, max_series) and that invalid values
// stop the binary with a message naming the key.
func TestQueryConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "stratus.yml")
	if err := os.WriteFile(cfg, []byte("query:\n  lookback_delta: 1m\n  max_series: 3\n  slow_query_threshold: -1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startStratus(t, addr, t.TempDir(), "--config", cfg)
	now := time.Now().UnixMilli()
	var series []prompb.TimeSeries
	for i := range 5 {
		series = append(series, prompb.TimeSeries{
			Labels:  []prompb.Label{{Name: "__name__", Value: "cutover_progress_ratio"}, {Name: "country", Value: fmt.Sprintf("c%d", i)}},
			Samples: []prompb.Sample{{Timestamp: now - 120_000, Value: float64(i) / 4}},
		})
	}
	if code, err := remoteWrite(http.DefaultClient, addr, series); err != nil || code != http.StatusNoContent {
		t.Fatalf("remote write: %d %v", code, err)
	}
	ctx := context.Background()
	query := func(q string, at int64) querytest.Result {
		t.Helper()
		res, err := apiQuery(ctx, http.DefaultClient, addr, "/api/v1/query", url.Values{"query": {q}, "time": {apiTime(at)}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := query(`cutover_progress_ratio{country="c1"}`, now-90_000); res.Err != "" || len(res.Series) != 1 {
		t.Errorf("sample 30 s before the query time must be found: %+v", res)
	}
	if res := query(`cutover_progress_ratio{country="c1"}`, now); res.Err != "" || len(res.Series) != 0 {
		t.Errorf("with lookback_delta 1m a sample 2m old must not be found: %+v", res)
	}
	if res := query(`cutover_progress_ratio`, now-90_000); !strings.Contains(res.Err, "max_series") {
		t.Errorf("5 series with max_series 3 must fail naming max_series: %+v", res)
	}
	p.stop(t)

	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte("query:\n  lookback_delta: 0s\n  max_samples: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(stratusBin, "serve", "--config", bad, "--listen-addr", freeAddr(t), "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "query: lookback_delta") || !strings.Contains(string(out), "max_samples") {
		t.Fatalf("invalid query settings must fail naming them: %v %s", err, out)
	}
}
