package ingest

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stratus-metrics/stratus/model"
)

func rwSeries(name string, kv ...string) prompb.TimeSeries {
	ts := prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: name}}}
	for i := 0; i+1 < len(kv); i += 2 {
		ts.Labels = append(ts.Labels, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	ts.Samples = []prompb.Sample{{Value: 1, Timestamp: testNowMs}}
	return ts
}

func rwBody(t testing.TB, series ...prompb.TimeSeries) []byte {
	t.Helper()
	req := &prompb.WriteRequest{Timeseries: series}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

func TestRemoteWrite(t *testing.T) {
	withSamples := func(ts prompb.TimeSeries, ss ...prompb.Sample) prompb.TimeSeries {
		ts.Samples = ss
		return ts
	}
	hour := int64(3600_000)
	tests := []struct {
		name      string
		series    []prompb.TimeSeries
		body      []byte // overrides series
		headers   []string
		wantCode  int
		wantBody  string // substring
		wantSaved string
	}{
		{
			name:      "ok, labels sorted and empty values dropped",
			series:    []prompb.TimeSeries{rwSeries("up", "job", "api", "instance", "a:1", "empty", "")},
			wantCode:  204,
			wantSaved: "{__name__=\"up\", instance=\"a:1\", job=\"api\"} 0=1\n",
		},
		{
			name: "NaN, Inf and stale NaN are values",
			series: []prompb.TimeSeries{withSamples(rwSeries("x"),
				prompb.Sample{Value: math.NaN(), Timestamp: testNowMs},
				prompb.Sample{Value: math.Inf(1), Timestamp: testNowMs + 1},
				prompb.Sample{Value: model.StaleNaN(), Timestamp: testNowMs + 2})},
			wantCode:  204,
			wantSaved: "{__name__=\"x\"} 0=NaN 1=+Inf 2=NaN\n",
		},
		{
			name:      "duplicate label names rejected, good series kept",
			series:    []prompb.TimeSeries{rwSeries("a", "job", "x", "job", "y"), rwSeries("b")},
			wantCode:  400,
			wantBody:  `timeseries[0]: {__name__="a", job="x", job="y"}: duplicate label name: "job"`,
			wantSaved: "{__name__=\"b\"} 0=1\n",
		},
		{
			name:      "missing metric name",
			series:    []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "job", Value: "x"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: testNowMs}}}, rwSeries("b")},
			wantCode:  400,
			wantBody:  "timeseries[0]: {job=\"x\"}: series has no metric name",
			wantSaved: "{__name__=\"b\"} 0=1\n",
		},
		{
			name:     "empty label name",
			series:   []prompb.TimeSeries{rwSeries("a", "", "v")},
			wantCode: 400,
			wantBody: "empty label name",
		},
		{
			name:     "invalid UTF-8 in a label value",
			series:   []prompb.TimeSeries{rwSeries("a", "job", "\xff\xfe")},
			wantCode: 400,
			wantBody: `label "job" value "\xff\xfe" is not valid UTF-8`,
		},
		{
			name:     "huge label value",
			series:   []prompb.TimeSeries{rwSeries("a", "job", strings.Repeat("x", 5000))},
			wantCode: 400,
			wantBody: "is 5000 bytes, limit is 4096 (MaxLabelValueLength)",
		},
		{
			name: "timestamps far in the past and future rejected per sample",
			series: []prompb.TimeSeries{withSamples(rwSeries("a"),
				prompb.Sample{Value: 1, Timestamp: testNowMs - 48*hour},
				prompb.Sample{Value: 2, Timestamp: testNowMs},
				prompb.Sample{Value: 3, Timestamp: testNowMs * 1000})},
			wantCode:  400,
			wantBody:  "sample 2: timestamp 1772366400000000 is more than 10m0s in the future",
			wantSaved: "{__name__=\"a\"} 0=2\n",
		},
		{
			name:     "native histogram series rejected",
			series:   []prompb.TimeSeries{{Labels: []prompb.Label{{Name: "__name__", Value: "h"}}, Histograms: []prompb.Histogram{{Timestamp: testNowMs}}}, rwSeries("b")},
			wantCode: 400, wantBody: "native histograms are not supported",
			wantSaved: "{__name__=\"b\"} 0=1\n",
		},
		{
			name:      "exemplars and metadata ignored",
			series:    []prompb.TimeSeries{{Labels: rwSeries("a").Labels, Samples: rwSeries("a").Samples, Exemplars: []prompb.Exemplar{{Value: 1, Timestamp: testNowMs, Labels: []prompb.Label{{Name: "trace_id", Value: "x"}}}}}},
			wantCode:  204,
			wantSaved: "{__name__=\"a\"} 0=1\n",
		},
		{
			name:     "bad snappy",
			body:     []byte("\xff\xff\xff\xff not snappy"),
			wantCode: 400, wantBody: "snappy",
		},
		{
			name:     "truncated protobuf",
			body:     snappy.Encode(nil, mustMarshal(t, rwSeries("a"))[:9]),
			wantCode: 400, wantBody: "decode remote write request",
		},
		{
			name:     "unknown proto",
			body:     rwBody(t, rwSeries("a")),
			headers:  []string{"Content-Type", "application/x-protobuf;proto=foo.Bar"},
			wantCode: 415, wantBody: "unsupported remote write proto",
		},
		{
			name:     "gzip not accepted",
			body:     rwBody(t, rwSeries("a")),
			headers:  []string{"Content-Encoding", "gzip"},
			wantCode: 415,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			body := tt.body
			if body == nil {
				body = rwBody(t, tt.series...)
			}
			headers := append([]string{"Content-Type", "application/x-protobuf", "Content-Encoding", "snappy"}, tt.headers...)
			rec := env.do(t, "/api/v1/write", body, headers...)
			if got := rec.Code; got != tt.wantCode {
				t.Fatalf("code = %d, want %d; body: %s", got, tt.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body, tt.wantBody)
			}
			if got := dump(env.app.series()); got != tt.wantSaved {
				t.Errorf("stored:\n%s\nwant:\n%s", got, tt.wantSaved)
			}
		})
	}
}

func mustMarshal(t testing.TB, series ...prompb.TimeSeries) []byte {
	b, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRemoteWriteBatchesAndLimits(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.BatchSeries = 3 })
	var series []prompb.TimeSeries
	for i := range 10 {
		series = append(series, rwSeries("m", "i", fmt.Sprint(i)))
	}
	rec := env.do(t, "/api/v1/write", rwBody(t, series...), "Content-Encoding", "snappy")
	if rec.Code != 204 {
		t.Fatalf("code = %d: %s", rec.Code, rec.Body)
	}
	if got := len(env.app.batches); got != 4 {
		t.Errorf("batches = %d, want 4", got)
	}
	if got := len(env.app.series()); got != 10 {
		t.Errorf("series = %d, want 10", got)
	}
	if got := env.counter(t, "stratus_ingest_samples_accepted_total", map[string]string{"format": formatRemoteWrite}); got != 10 {
		t.Errorf("accepted metric = %v, want 10", got)
	}
	if got := env.counter(t, "stratus_ingest_requests_total", map[string]string{"code": "204"}); got != 1 {
		t.Errorf("requests{code=204} = %v, want 1", got)
	}
}

func TestRemoteWriteStoreAnswers(t *testing.T) {
	t.Run("series limit is 429", func(t *testing.T) {
		env := newTestEnv(t, nil)
		env.app.reject = rejectSeriesLimit("new")
		rec := env.do(t, "/api/v1/write", rwBody(t, rwSeries("old"), rwSeries("new")))
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("code = %d: %s", rec.Code, rec.Body)
		}
		if !strings.Contains(rec.Body.String(), "series limit reached: 1000 active series") {
			t.Errorf("body does not name the limit: %s", rec.Body)
		}
		if got := env.counter(t, "stratus_ingest_samples_rejected_total", map[string]string{"reason": reasonSeriesLimit}); got != 1 {
			t.Errorf("rejected{series_limit} = %v, want 1", got)
		}
	})
	t.Run("out of order is 400", func(t *testing.T) {
		env := newTestEnv(t, nil)
		env.app.reject = func(ls model.Labels) error { return fmt.Errorf("%w: newest is later", model.ErrOutOfOrder) }
		rec := env.do(t, "/api/v1/write", rwBody(t, rwSeries("a")))
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "out-of-order") {
			t.Fatalf("code = %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("storage error is 503", func(t *testing.T) {
		env := newTestEnv(t, nil)
		env.app.err = errTestStorage
		rec := env.do(t, "/api/v1/write", rwBody(t, rwSeries("a")))
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), "disk full") {
			t.Fatalf("code = %d: %s", rec.Code, rec.Body)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxBodyBytes = 10000; c.MaxDecompressedBytes = 5000 })
	big := make([]byte, 100_000) // compresses to far less than 1000 bytes
	rec := env.do(t, "/api/v1/write", snappy.Encode(nil, big))
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "declares 100000 decompressed bytes, limit is 5000") {
		t.Errorf("snappy bomb: code = %d: %s", rec.Code, rec.Body)
	}
	rec = env.do(t, "/api/v1/write", make([]byte, 20000))
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "limit is 10000") {
		t.Errorf("big body: code = %d: %s", rec.Code, rec.Body)
	}
}
