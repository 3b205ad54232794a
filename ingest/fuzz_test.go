package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stratus-metrics/stratus/model"
)

// checkingAppender fails the fuzz run if a batch holds anything the
// validation should have kept out.
type checkingAppender struct{ t *testing.T }

func (a checkingAppender) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	var res model.AppendResult
	for _, ts := range batch {
		if err := ts.Labels.Validate(); err != nil {
			a.t.Fatalf("invalid series reached the store: %v: %v", ts.Labels, err)
		}
		if len(ts.Samples) == 0 {
			a.t.Fatalf("series without samples reached the store: %v", ts.Labels)
		}
		res.Accepted += len(ts.Samples)
	}
	return res, nil
}

// fuzzRequest runs one decoder on a pooled request against a checking
// appender, as the handler does, but without HTTP so that a panic surfaces.
func fuzzRequest(t *testing.T, format, rowKind string, decode func(r *request)) {
	h := NewHandler(checkingAppender{t}, DefaultConfig(), nil, nil)
	h.now = func() time.Time { return testNow }
	r := h.newRequest(format, rowKind)
	decode(r)
	r.flush()
	_ = r.summary()
	if r.accepted+r.rejected < 0 {
		t.Fatal("negative counts")
	}
	r.release()
}

func FuzzRemoteWrite(f *testing.F) {
	f.Add(mustMarshal(f, rwSeries("up", "job", "a"), rwSeries("x")))
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRequest(t, formatRemoteWrite, "timeseries", func(r *request) { _ = r.decodeRemoteWrite(b) })
	})
}

func FuzzRemoteWriteV2(f *testing.F) {
	f.Add(snappyDecode(f, rw2Body(f, nil, labels.FromStrings("__name__", "up", "job", "a"))))
	f.Add([]byte{0x22, 0x00, 0x2a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRequest(t, formatRemoteWriteV2, "timeseries", func(r *request) { _ = r.decodeRemoteWriteV2(b) })
	})
}

func FuzzAtlasPublish(f *testing.F) {
	f.Add([]byte(fmt.Sprintf(`{"tags":{"nf.app":"a"},"metrics":[{"tags":{"name":"cpu"},"timestamp":%d,"value":1}]}`, testNowMs)))
	f.Add([]byte(`{"metrics":[{"tags":{"name":"x"},"value":"NaN"},{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env := newTestEnv(t, nil)
		env.h.app = checkingAppender{t}
		rec := env.do(t, "/api/v1/publish", b)
		if rec.Code >= 500 {
			t.Fatalf("code %d: %s", rec.Code, rec.Body)
		}
	})
}

func FuzzInflux(f *testing.F) {
	f.Add("cpu,host=a usage=1,up=t,n=3i,s=\"x\" 1700000000000000000\nm value=1\n")
	f.Add(`a\ b,c\,d=e\=f g\ h=1u`)
	f.Fuzz(func(t *testing.T, s string) {
		toMs, _ := influxPrecision("ns")
		fuzzRequest(t, formatInflux, "line", func(r *request) { r.decodeInflux(s, toMs) })
	})
}

func FuzzTextImport(f *testing.F) {
	f.Add([]byte("# TYPE a counter\na_total{x=\"1\"} 1 1700000000000\nb 2\n"), false)
	f.Add([]byte("# TYPE a counter\na_total 1 1700000000.5\n# EOF\n"), true)
	f.Fuzz(func(t *testing.T, b []byte, om bool) {
		fuzzRequest(t, formatText, "line", func(r *request) {
			r.decodeText(b, om, []labels.Label{{Name: "job", Value: "fuzz"}})
		})
	})
}

func FuzzOTLP(f *testing.F) {
	f.Add(otlpProtoRequest(), false)
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","gauge":{"dataPoints":[{"asDouble":1}]}}]}]}]}`), true)
	f.Fuzz(func(t *testing.T, b []byte, isJSON bool) {
		fuzzRequest(t, formatOTLP, "metric", func(r *request) {
			var rms []otlpResourceMetrics
			var err error
			if isJSON {
				rms, err = decodeOTLPJSON(b)
			} else {
				rms, err = decodeOTLPProto(b)
			}
			if err == nil {
				r.otlpToSeries(rms)
			}
		})
	})
}

// FuzzOTLPEscape checks otlpEscape's shortcut for names that need no
// escaping against building the result.
func FuzzOTLPEscape(f *testing.F) {
	for _, s := range []string{"http.server.requests", "rows_copied", "9lives", "a__b", "ünïcode", "a:b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, metric := range []bool{false, true} {
			if got, want := otlpEscape(s, metric), otlpEscapeCopy(s, metric); got != want {
				t.Fatalf("otlpEscape(%q, %v) = %q, building it gives %q", s, metric, got, want)
			}
		}
	})
}
