package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/gorilla/mux"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stratus-metrics/stratus/model"
)

// nopAppender accepts everything and keeps nothing, so that benchmarks
// measure ingest alone.
type nopAppender struct{}

func (nopAppender) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	n := 0
	for _, ts := range batch {
		n += len(ts.Samples)
	}
	return model.AppendResult{Accepted: n}, nil
}

const benchSeries = 5000

// benchLabels are node_exporter-like label sets: ten labels per series.
func benchLabels(i int) []string {
	return []string{
		"__name__", fmt.Sprintf("node_cpu_seconds_total_%d", i%50),
		"cpu", fmt.Sprint(i % 16), "mode", []string{"idle", "user", "system", "iowait"}[i%4],
		"instance", fmt.Sprintf("10.0.%d.%d:9100", i/256%256, i%256), "job", "node",
		"region", "eu-west-1", "az", "eu-west-1a", "env", "prod", "team", "billing-migration",
		"country", []string{"DE", "FR", "GB", "ES"}[i%4],
	}
}

// benchServe runs requests through the real handler and router.
func benchServe(b *testing.B, path string, body []byte, samples int, headers ...string) {
	h := NewHandler(nopAppender{}, DefaultConfig(), nil, nil)
	h.now = func() time.Time { return testNow }
	r := mux.NewRouter()
	h.Register(r)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			b.Fatalf("code %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(samples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkRemoteWrite decodes and validates remote write 1.0 requests,
// with labels in benchLabels' order (which needs sorting) and sorted, as
// Prometheus and vmagent send them.
func BenchmarkRemoteWrite(b *testing.B) {
	for _, sorted := range []bool{false, true} {
		b.Run(fmt.Sprintf("sorted=%v", sorted), func(b *testing.B) {
			var series []prompb.TimeSeries
			for i := range benchSeries {
				ls := benchLabels(i)
				if sorted {
					ls = ls[:0:0]
					for _, l := range model.FromStrings(benchLabels(i)...) {
						ls = append(ls, l.Name, l.Value)
					}
				}
				ts := prompb.TimeSeries{Samples: []prompb.Sample{{Value: float64(i), Timestamp: testNowMs}}}
				for j := 0; j < len(ls); j += 2 {
					ts.Labels = append(ts.Labels, prompb.Label{Name: ls[j], Value: ls[j+1]})
				}
				series = append(series, ts)
			}
			body := rwBody(b, series...)
			benchServe(b, "/api/v1/write", body, benchSeries, "Content-Encoding", "snappy", "Content-Type", "application/x-protobuf")
		})
	}
}

func BenchmarkRemoteWriteV2(b *testing.B) {
	var sets []labels.Labels
	for i := range benchSeries {
		sets = append(sets, labels.FromStrings(benchLabels(i)...))
	}
	body := rw2Body(b, nil, sets...)
	benchServe(b, "/api/v1/write", body, benchSeries, "Content-Encoding", "snappy", "Content-Type", rw2ContentType)
}

func BenchmarkAtlasPublish(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"tags":{"nf.app":"billing","nf.region":"eu-west-1"},"metrics":[`)
	for i := range benchSeries {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"tags":{"name":"replication.lag","country":"C%d","table":"t%d"},"timestamp":%d,"value":%d}`, i%40, i, testNowMs, i)
	}
	sb.WriteString("]}")
	benchServe(b, "/api/v1/publish", []byte(sb.String()), benchSeries)
}

func BenchmarkTextImport(b *testing.B) {
	b.Run("format=text", func(b *testing.B) {
		benchServe(b, "/api/v1/import/prometheus", benchTextBody(""), benchSeries)
	})
	b.Run("format=openmetrics", func(b *testing.B) {
		benchServe(b, "/api/v1/import/prometheus", benchTextBody("# EOF\n"), benchSeries,
			"Content-Type", "application/openmetrics-text; version=1.0.0")
	})
}

// benchTextBody writes benchSeries series in the exposition format, one
// sample each, followed by tail.
func benchTextBody(tail string) []byte {
	var sb strings.Builder
	for i := range benchSeries {
		ls := benchLabels(i)
		fmt.Fprintf(&sb, "%s{", ls[1])
		for j := 2; j < len(ls); j += 2 {
			if j > 2 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "%s=%q", ls[j], ls[j+1])
		}
		fmt.Fprintf(&sb, "} %d\n", i)
	}
	sb.WriteString(tail)
	return []byte(sb.String())
}

func BenchmarkInflux(b *testing.B) {
	var sb strings.Builder
	for i := range benchSeries {
		fmt.Fprintf(&sb, "cpu,host=h%d,region=eu-west-1,cpu=%d usage_user=%d,usage_idle=1.5 %d\n", i, i%16, i, testNowMs*1e6)
	}
	benchServe(b, "/write", []byte(sb.String()), 2*benchSeries)
}

func BenchmarkOTLP(b *testing.B) {
	b.Run("fixture", func(b *testing.B) {
		benchServe(b, "/v1/metrics", otlpProtoRequest(), 7, "Content-Type", "application/x-protobuf")
	})
	// An export as an OpenTelemetry SDK or Collector sends it: one
	// resource, 50 gauges and 50 cumulative sums of 50 points each, every
	// point with three attributes (5,000 points).
	b.Run("export", func(b *testing.B) {
		tNano := uint64(testNowMs) * 1e6
		resource := pb{}.msg(1, kv("service.name", "billing")).msg(1, kv("service.namespace", "pay")).
			msg(1, kv("service.instance.id", "i-1")).msg(1, kv("cloud.region", "eu-west-1"))
		scope := pb{}.msg(1, pb{}.str(1, "io.opentelemetry.runtime"))
		for m := range 100 {
			var points pb
			for i := range 50 {
				attrs := pb{}.msg(7, kv("country", fmt.Sprint("c", i%20))).msg(7, kv("table", fmt.Sprint("t", i))).msg(7, kv("state", "ok"))
				points = points.msg(1, append(attrs, pb{}.fixed(3, tNano).dbl(4, float64(i))...))
			}
			if m%2 == 0 {
				scope = scope.msg(2, pb{}.str(1, fmt.Sprint("replication.lag.", m)).str(3, "s").msg(5, points))
			} else {
				scope = scope.msg(2, pb{}.str(1, fmt.Sprint("rows.copied.", m)).msg(7, append(points, pb{}.varint(2, otlpCumulative).varint(3, 1)...)))
			}
		}
		body := pb{}.msg(1, pb{}.msg(1, resource).msg(2, scope))
		benchServe(b, "/v1/metrics", body, 5000+1, "Content-Type", "application/x-protobuf")
	})
}

// BenchmarkSnappyOnly is the floor for remote write: decompressing the
// same body and nothing else, to read BenchmarkRemoteWrite against.
func BenchmarkSnappyOnly(b *testing.B) {
	var series []prompb.TimeSeries
	for i := range benchSeries {
		series = append(series, rwSeries("m", benchLabels(i)[2:]...))
	}
	body := rwBody(b, series...)
	dst := make([]byte, 0, 8<<20)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		n, _ := snappy.DecodedLen(body)
		if _, err := snappy.Decode(dst[:n], body); err != nil {
			b.Fatal(err)
		}
	}
}
