package ingest

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// pb is a tiny protobuf writer for building OTLP test payloads by field
// number, following opentelemetry/proto/metrics/v1/metrics.proto.
type pb []byte

func (b pb) msg(num protowire.Number, m pb) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}
func (b pb) str(num protowire.Number, s string) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}
func (b pb) fixed(num protowire.Number, v uint64) pb {
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, v)
}
func (b pb) dbl(num protowire.Number, f float64) pb { return b.fixed(num, math.Float64bits(f)) }
func (b pb) varint(num protowire.Number, v uint64) pb {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}
func kv(k, v string) pb { return pb{}.str(1, k).msg(2, pb{}.str(1, v)) }

func otlpProtoRequest() []byte {
	tNano := uint64(testNowMs) * 1e6
	resource := pb{}.msg(1, kv("service.name", "billing")).msg(1, kv("service.namespace", "pay")).
		msg(1, kv("service.instance.id", "i-1")).msg(1, kv("cloud.region", "eu-west-1"))
	gauge := pb{}.str(1, "replication.lag").str(3, "s").msg(5,
		pb{}.msg(1, pb{}.msg(7, kv("country", "DE")).fixed(3, tNano).dbl(4, 1.5)))
	sum := pb{}.str(1, "http.server.requests").str(3, "{request}").msg(7,
		pb{}.msg(1, pb{}.fixed(3, tNano).fixed(6, 42)).varint(2, otlpCumulative).varint(3, 1))
	hist := pb{}.str(1, "rpc.duration").str(3, "ms").msg(9,
		pb{}.msg(1, pb{}.fixed(3, tNano).fixed(4, 5).dbl(5, 12.5).
			msg(6, nil). // an empty packed field is legal
			msg(6, packedFixed(2, 3)).msg(7, packedFloat(10))).varint(2, otlpCumulative))
	delta := pb{}.str(1, "delta.sum").msg(7, pb{}.msg(1, pb{}.fixed(3, tNano).dbl(4, 1)).varint(2, otlpDelta))
	scope := pb{}.msg(1, pb{}.str(1, "io.opentelemetry.runtime")).msg(2, gauge).msg(2, sum).msg(2, hist).msg(2, delta)
	return pb{}.msg(1, pb{}.msg(1, resource).msg(2, scope))
}

func packedFixed(vs ...uint64) pb {
	var b pb
	for _, v := range vs {
		b = protowire.AppendFixed64(b, v)
	}
	return b
}

func packedFloat(fs ...float64) pb {
	var b pb
	for _, f := range fs {
		b = protowire.AppendFixed64(b, math.Float64bits(f))
	}
	return b
}

const otlpWant = `{__name__="replication_lag_seconds", country="DE", instance="i-1", job="pay/billing"} 0=1.5
{__name__="http_server_requests_total", instance="i-1", job="pay/billing"} 0=42
{__name__="rpc_duration_milliseconds_bucket", instance="i-1", job="pay/billing", le="10"} 0=2
{__name__="rpc_duration_milliseconds_bucket", instance="i-1", job="pay/billing", le="+Inf"} 0=5
{__name__="rpc_duration_milliseconds_sum", instance="i-1", job="pay/billing"} 0=12.5
{__name__="rpc_duration_milliseconds_count", instance="i-1", job="pay/billing"} 0=5
{__name__="target_info", cloud_region="eu-west-1", instance="i-1", job="pay/billing"} 0=1
`

func TestOTLPProtobuf(t *testing.T) {
	env := newTestEnv(t, nil)
	rec := env.do(t, "/v1/metrics", otlpProtoRequest(), "Content-Type", "application/x-protobuf")
	if rec.Code != 200 {
		t.Fatalf("code = %d: %q", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "delta temporality is not supported") {
		t.Errorf("partial success does not explain the delta rejection: %q", rec.Body)
	}
	if got := dump(env.app.series()); got != otlpWant {
		t.Errorf("stored:\n%s\nwant:\n%s", got, otlpWant)
	}
}

func TestOTLPJSON(t *testing.T) {
	tNano := fmt.Sprint(testNowMs * 1e6)
	body := `{"resourceMetrics":[{"resource":{"attributes":[
	  {"key":"service.name","value":{"stringValue":"billing"}},
	  {"key":"service.namespace","value":{"stringValue":"pay"}},
	  {"key":"service.instance.id","value":{"stringValue":"i-1"}},
	  {"key":"cloud.region","value":{"stringValue":"eu-west-1"}}]},
	 "scopeMetrics":[{"scope":{"name":"x"},"metrics":[
	  {"name":"replication.lag","unit":"s","gauge":{"dataPoints":[{"attributes":[{"key":"country","value":{"stringValue":"DE"}}],"timeUnixNano":"` + tNano + `","asDouble":1.5}]}},
	  {"name":"http.server.requests","unit":"{request}","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[{"timeUnixNano":"` + tNano + `","asInt":"42"}]}},
	  {"name":"rpc.duration","unit":"ms","histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","dataPoints":[{"timeUnixNano":` + tNano + `,"count":"5","sum":12.5,"bucketCounts":["2","3"],"explicitBounds":[10]}]}},
	  {"name":"delta.sum","sum":{"aggregationTemporality":1,"dataPoints":[{"timeUnixNano":"` + tNano + `","asDouble":1}]}}
	 ]}]}]}`
	env := newTestEnv(t, nil)
	rec := env.do(t, "/v1/metrics", []byte(body), "Content-Type", "application/json")
	if rec.Code != 200 {
		t.Fatalf("code = %d: %s", rec.Code, rec.Body)
	}
	var resp struct {
		PartialSuccess struct {
			RejectedDataPoints string `json:"rejectedDataPoints"`
			ErrorMessage       string `json:"errorMessage"`
		} `json:"partialSuccess"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.PartialSuccess.RejectedDataPoints != "1" || !strings.Contains(resp.PartialSuccess.ErrorMessage, "delta temporality") {
		t.Errorf("partial success = %+v", resp.PartialSuccess)
	}
	if got := dump(env.app.series()); got != otlpWant {
		t.Errorf("stored:\n%s\nwant:\n%s", got, otlpWant)
	}
}

func TestOTLPErrors(t *testing.T) {
	tests := []struct {
		name, ctype string
		body        []byte
		wantCode    int
		wantBody    string
	}{
		{"truncated protobuf", "application/x-protobuf", otlpProtoRequest()[:40], 400, "decode OTLP metrics request"},
		{"bad JSON", "application/json", []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"asDouble":"abc"}]}}]}]}]}`), 400, "is not a number"},
		{"only delta", "application/json", []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","sum":{"aggregationTemporality":1,"dataPoints":[{"asDouble":1}]}}]}]}]}`), 400, "delta temporality"},
		{"bucket mismatch", "application/json", []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","histogram":{"aggregationTemporality":2,"dataPoints":[{"count":1,"bucketCounts":[1],"explicitBounds":[1,2]}]}}]}]}]}`), 400, "1 bucket counts for 2 bounds"},
		{"unsupported content type", "text/plain", []byte("x"), 415, "unsupported Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			rec := env.do(t, "/v1/metrics", tt.body, "Content-Type", tt.ctype)
			if rec.Code != tt.wantCode || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("code = %d, want %d; body %q, want it to contain %q", rec.Code, tt.wantCode, rec.Body, tt.wantBody)
			}
		})
	}
}

func TestOTLPMetricName(t *testing.T) {
	tests := []struct {
		m    otlpMetric
		want string
	}{
		{otlpMetric{name: "http.server.duration", unit: "s", kind: otlpHistogram}, "http_server_duration_seconds"},
		{otlpMetric{name: "system.network.io", unit: "By", kind: otlpSum, monotonic: true}, "system_network_io_bytes_total"},
		{otlpMetric{name: "requests_total", kind: otlpSum, monotonic: true}, "requests_total"},
		{otlpMetric{name: "throughput", unit: "By/s", kind: otlpGauge}, "throughput_bytes_per_second"},
		{otlpMetric{name: "cpu.utilization", unit: "1", kind: otlpGauge}, "cpu_utilization_ratio"},
		{otlpMetric{name: "queue.size", unit: "{item}", kind: otlpGauge}, "queue_size"},
		{otlpMetric{name: "2xx..count", kind: otlpGauge}, "_2xx_count"},
		{otlpMetric{name: "latency_seconds", unit: "s", kind: otlpGauge}, "latency_seconds"},
	}
	for _, tt := range tests {
		if got := otlpMetricName(&tt.m); got != tt.want {
			t.Errorf("otlpMetricName(%q, %q) = %q, want %q", tt.m.name, tt.m.unit, got, tt.want)
		}
	}
}
