package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// exportPoint is one exported sample.
type exportPoint struct {
	T int64
	V float64
}

// exportSeries reads every series matching any of the selectors through
// /api/v1/export, keyed by their labels' string form, samples in time
// order. Unlike export it keeps all labels, for series that have no
// "series" label.
func exportSeries(t *testing.T, addr string, selectors ...string) map[string][]exportPoint {
	t.Helper()
	q := url.Values{"match[]": selectors}
	resp, err := http.Get("http://" + addr + "/api/v1/export?" + q.Encode())
	if err != nil {
		t.Fatalf("export %v: %v", selectors, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("export %v: %d %s", selectors, resp.StatusCode, b)
	}
	out := map[string][]exportPoint{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e exported
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if len(e.Values) != len(e.Timestamps) {
			t.Fatalf("export line %q: %d values for %d timestamps", sc.Text(), len(e.Values), len(e.Timestamps))
		}
		var pts []exportPoint
		for i, ts := range e.Timestamps {
			v, ok := e.Values[i].(float64)
			if !ok {
				t.Fatalf("export line %q: non-numeric value %v", sc.Text(), e.Values[i])
			}
			pts = append(pts, exportPoint{T: ts, V: v})
		}
		slices.SortFunc(pts, func(a, b exportPoint) int { return int(a.T - b.T) })
		out[model.FromMap(e.Metric).String()] = pts
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read export %v: %v", selectors, err)
	}
	return out
}

// TestLoadgenAgainstStratus runs a small load against the real binary and
// checks that the report adds up and that every sample arrived with the
// value the generator defines for its series and round.
func TestLoadgenAgainstStratus(t *testing.T) {
	addr := freeAddr(t)
	startStratus(t, addr, t.TempDir())
	const series, perRequest, requests = 1000, 100, 45
	cfg := loadgenConfig{
		Target:           "http://" + addr + "/api/v1/write",
		Series:           series,
		SeriesPerRequest: perRequest,
		Concurrency:      3,
		Duration:         time.Minute, // a safety bound; --requests ends the run
		Requests:         requests,
		Timeout:          10 * time.Second,
	}
	res, err := loadgen(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != requests || res.Errors != 0 || res.SamplesAccepted != requests*perRequest || res.SamplesSent != res.SamplesAccepted {
		t.Fatalf("result %+v: want %d requests of %d samples, all accepted", res, requests, perRequest)
	}
	if res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 || res.SamplesPerSecond() <= 0 {
		t.Fatalf("result %+v: latencies and rate are not plausible", res)
	}

	got := exportSeries(t, addr, `{job="node"}`)
	all := datagen.Series(series)
	if len(got) != series {
		t.Fatalf("stored %d series, want %d", len(got), series)
	}
	total := 0
	for i, ls := range all {
		pts := got[ls.String()]
		if len(pts) == 0 {
			t.Fatalf("series %s: no samples stored", ls)
		}
		total += len(pts)
		for round, p := range pts {
			if round > 0 && p.T <= pts[round-1].T {
				t.Fatalf("series %s: timestamps do not increase: %v", ls, pts)
			}
			if want := loadValue(ls, i, round); p.V != want {
				t.Fatalf("series %s round %d: stored %v, the generator sent %v", ls, round, p.V, want)
			}
		}
	}
	if total != requests*perRequest {
		t.Fatalf("stored %d samples, want %d", total, requests*perRequest)
	}
}

// TestLoadgenValuesCrossBlocks checks that a chunk's values follow
// loadValue beyond the first block of rounds, where the generator
// refreshes its buffer.
func TestLoadgenValuesCrossBlocks(t *testing.T) {
	chunks := newLoadChunks(300, 128)
	c := chunks[2] // a partial chunk: series 256..299
	var scratch []model.Sample
	for round := range 2*valueBlock + 3 {
		scratch = c.fillValues(scratch)
		for _, i := range []int{0, len(c.series) - 1} {
			got := c.values[i*valueBlock+c.round%valueBlock]
			if want := loadValue(c.series[i], c.first+i, round); got != want {
				t.Fatalf("round %d series %d: %v, want %v", round, c.first+i, got, want)
			}
		}
		c.round++
	}
}

// TestLoadgenCountsErrors points the generator at a server that refuses
// everything: each request is an error, nothing is accepted, and the
// first error says what the server answered.
func TestLoadgenCountsErrors(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "out of disk", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	res, err := loadgen(context.Background(), loadgenConfig{
		Target: srv.URL + "/api/v1/write", Series: 50, SeriesPerRequest: 10, Concurrency: 2,
		Duration: 30 * time.Second, Requests: 6, Timeout: 5 * time.Second,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 6 || res.Errors != 6 || res.SamplesAccepted != 0 || hits.Load() != 6 {
		t.Fatalf("result %+v after %d hits: want 6 requests, 6 errors, nothing accepted", res, hits.Load())
	}
	if !strings.Contains(res.FirstError, "503") || !strings.Contains(res.FirstError, "out of disk") {
		t.Fatalf("first error %q does not say what the server answered", res.FirstError)
	}
}

// TestLoadgenDurationBound checks that --duration alone ends a run.
func TestLoadgenDurationBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	start := time.Now()
	res, err := loadgen(context.Background(), loadgenConfig{
		Target: srv.URL, Series: 20, SeriesPerRequest: 5, Concurrency: 2,
		Duration: 300 * time.Millisecond, Timeout: 5 * time.Second,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("a 300ms run took %v", el)
	}
	if res.Requests == 0 || res.Errors != 0 || res.SamplesAccepted != res.Requests*5 {
		t.Fatalf("result %+v: want some requests, all accepted", res)
	}
}

// TestLoadgenCommand runs the subcommand of the real binary: flags, the
// report on stdout, and the refusal of an unbounded or malformed run.
func TestLoadgenCommand(t *testing.T) {
	addr := freeAddr(t)
	startStratus(t, addr, t.TempDir())
	out, err := exec.Command(stratusBin, "loadgen", "--target", "http://"+addr+"/api/v1/write",
		"--series", "200", "--series-per-request", "50", "--concurrency", "2", "--requests", "8", "--quiet").CombinedOutput()
	if err != nil {
		t.Fatalf("loadgen: %v\n%s", err, out)
	}
	for _, want := range []string{"requests=8 errors=0 samples_sent=400 samples_accepted=400", "accepted_samples_per_sec=", "latency_p99_ms="} {
		if !bytes.Contains(out, []byte(want)) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--duration", "0"}, "set at least one"},
		{[]string{"--target", "127.0.0.1:1/api/v1/write", "--requests", "1"}, "--target"},
		{[]string{"--series", "0", "--requests", "1"}, "--series 0"},
	} {
		out, err := exec.Command(stratusBin, append([]string{"loadgen"}, tc.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Fatalf("loadgen %v: want a failure naming %q, got %v:\n%s", tc.args, tc.want, err, out)
		}
	}
	// A target that is not there: the run ends by its bound and fails.
	out, err = exec.Command(stratusBin, "loadgen", "--target", "http://"+freeAddr(t)+"/api/v1/write",
		"--series", "10", "--series-per-request", "10", "--requests", "2", "--quiet").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "2 of 2 requests failed") {
		t.Fatalf("loadgen against nothing: want a failure, got %v:\n%s", err, out)
	}
}
