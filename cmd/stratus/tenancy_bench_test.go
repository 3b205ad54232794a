package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/stratus-metrics/stratus/internal/datagen"
)

// BenchmarkTenancyOverhead measures what authentication and tenancy cost:
// two whole servers in one process, one with the defaults (no auth, one
// tenant) and one with tokens and a tenant-bound token (every series gets
// the tenant label, every selection its matcher), driven alternately over
// loopback HTTP with the same requests, so that machine noise hits both
// alike. It reports each side's throughput and on/off, the ratio the
// security issue sets at >= 0.95.
//
// ingest: 4 concurrent senders each post a remote-write request of 5,000
// series (20k active series), one sample each. query: a 1 h range query
// over 2,000 series, `sum by (mode) (rate(node_cpu_seconds_total[5m]))`.
func BenchmarkTenancyOverhead(b *testing.B) {
	_, off := newTestServer(b, nil)
	_, on := newTestServer(b, withAuth)
	servers := []struct {
		ts        *httptest.Server
		write     string // token for writes; "" with auth off
		read      string
		durations time.Duration
	}{{ts: off}, {ts: on, write: secretOf("a-push"), read: secretOf("a-read")}}

	const senders, perRequest = 4, 5000
	series := datagen.Series(senders * perRequest)
	end := time.Now().Truncate(time.Minute).UnixMilli()
	start := end - time.Hour.Milliseconds()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2 * senders}}

	body := func(from, to int, ts int64, samples int) []byte {
		req := prompb.WriteRequest{}
		for i, ls := range series[from:to] {
			pts := prompb.TimeSeries{}
			for _, l := range ls {
				pts.Labels = append(pts.Labels, prompb.Label{Name: l.Name, Value: l.Value})
			}
			for _, s := range datagen.Samples(ls, from+i, ts, 15_000, samples) {
				pts.Samples = append(pts.Samples, prompb.Sample{Timestamp: s.T, Value: s.V})
			}
			req.Timeseries = append(req.Timeseries, pts)
		}
		data, err := req.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		return snappy.Encode(nil, data)
	}
	post := func(base, token string, data []byte) {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/write", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("remote write: %d", resp.StatusCode)
		}
	}

	// The query data: 2,000 series x 1 h at 15 s, in both servers.
	const querySeries = 2000
	history := body(0, querySeries, start, 240)
	for _, s := range servers {
		post(s.ts.URL, s.write, history)
	}

	b.Run("ingest", func(b *testing.B) {
		bodies := make([][]byte, senders)
		for i := range bodies {
			bodies[i] = body(i*perRequest, (i+1)*perRequest, end+1000, 1)
		}
		for i := range servers {
			servers[i].durations = 0
		}
		b.ResetTimer()
		for range b.N {
			for i := range servers {
				s := &servers[i]
				t0 := time.Now()
				var wg sync.WaitGroup
				for _, data := range bodies {
					wg.Go(func() { post(s.ts.URL, s.write, data) })
				}
				wg.Wait()
				s.durations += time.Since(t0)
			}
		}
		samples := float64(b.N * senders * perRequest)
		offRate, onRate := samples/servers[0].durations.Seconds(), samples/servers[1].durations.Seconds()
		b.ReportMetric(offRate, "off-samples/s")
		b.ReportMetric(onRate, "on-samples/s")
		b.ReportMetric(onRate/offRate, "on/off")
	})

	b.Run("query", func(b *testing.B) {
		form := url.Values{"query": {`sum by (mode) (rate(node_cpu_seconds_total[5m]))`},
			"start": {time.UnixMilli(start).Format(time.RFC3339)}, "end": {time.UnixMilli(end).Format(time.RFC3339)}, "step": {"15"}}
		for i := range servers {
			servers[i].durations = 0
		}
		b.ResetTimer()
		for range b.N {
			for i := range servers {
				s := &servers[i]
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodGet, s.ts.URL+"/api/v1/query_range?"+form.Encode(), nil)
				if s.read != "" {
					req.Header.Set("Authorization", "Bearer "+s.read)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n < 1000 {
					b.Fatalf("query: %d, %d bytes", resp.StatusCode, n)
				}
				s.durations += time.Since(t0)
			}
		}
		offRate, onRate := float64(b.N)/servers[0].durations.Seconds(), float64(b.N)/servers[1].durations.Seconds()
		b.ReportMetric(offRate, "off-queries/s")
		b.ReportMetric(onRate, "on-queries/s")
		b.ReportMetric(onRate/offRate, "on/off")
	})
}
