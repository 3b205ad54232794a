package ingest

import (
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

const rw2ContentType = "application/x-protobuf;proto=io.prometheus.write.v2.Request"

// rw2Body builds a v2 request from label sets, one sample each at now.
func rw2Body(t testing.TB, mod func(*writev2.Request), sets ...labels.Labels) []byte {
	t.Helper()
	st := writev2.NewSymbolTable()
	req := &writev2.Request{}
	for _, ls := range sets {
		req.Timeseries = append(req.Timeseries, writev2.TimeSeries{
			LabelsRefs: st.SymbolizeLabels(ls, nil),
			Samples:    []writev2.Sample{{Value: 1, Timestamp: testNowMs}},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: st.Symbolize("help text")},
		})
	}
	req.Symbols = st.Symbols()
	if mod != nil {
		mod(req)
	}
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

func TestRemoteWriteV2(t *testing.T) {
	tests := []struct {
		name        string
		body        []byte
		wantCode    int
		wantBody    string
		wantWritten string
		wantSaved   string
	}{
		{
			name:        "ok",
			body:        rw2Body(t, nil, labels.FromStrings("__name__", "up", "job", "api"), labels.FromStrings("__name__", "lag", "country", "DE")),
			wantCode:    204,
			wantWritten: "2",
			wantSaved:   "{__name__=\"up\", job=\"api\"} 0=1\n{__name__=\"lag\", country=\"DE\"} 0=1\n",
		},
		{
			name: "ref out of range and odd refs rejected, good series kept",
			body: rw2Body(t, func(r *writev2.Request) {
				r.Timeseries[0].LabelsRefs = []uint32{1, 999}
				r.Timeseries[1].LabelsRefs = r.Timeseries[1].LabelsRefs[:3]
			}, labels.FromStrings("__name__", "a"), labels.FromStrings("__name__", "b", "x", "y"), labels.FromStrings("__name__", "c")),
			wantCode:    400,
			wantBody:    "timeseries[0]: {}: labels_refs holds 999, but there are only",
			wantWritten: "1",
			wantSaved:   "{__name__=\"c\"} 0=1\n",
		},
		{
			// One symbol is not UTF-8, so the table is not all ASCII and
			// each series' labels are checked: only that series goes.
			name: "invalid UTF-8 in a symbol rejected, good series kept",
			body: rw2Body(t, func(r *writev2.Request) {
				for i, sym := range r.Symbols {
					if sym == "bad" {
						r.Symbols[i] = "b\xffd"
					}
				}
			}, labels.FromStrings("__name__", "a", "x", "bad"), labels.FromStrings("__name__", "lag", "country", "Österreich")),
			wantCode:    400,
			wantBody:    "timeseries[0]",
			wantWritten: "1",
			wantSaved:   "{__name__=\"lag\", country=\"Österreich\"} 0=1\n",
		},
		{
			name: "native histogram rejected",
			body: rw2Body(t, func(r *writev2.Request) {
				r.Timeseries[0].Samples = nil
				r.Timeseries[0].Histograms = []writev2.Histogram{{Timestamp: testNowMs}}
			}, labels.FromStrings("__name__", "h")),
			wantCode:    400,
			wantBody:    "native histograms are not supported",
			wantWritten: "0",
		},
		{
			name:        "symbols[0] must be empty",
			body:        rw2Body(t, func(r *writev2.Request) { r.Symbols[0] = "x" }, labels.FromStrings("__name__", "a")),
			wantCode:    400,
			wantBody:    "symbols[0]",
			wantWritten: "0",
		},
		{
			name:        "truncated",
			body:        snappy.Encode(nil, []byte{0x22, 0x05, 0x01}),
			wantCode:    400,
			wantWritten: "0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			rec := env.do(t, "/api/v1/write", tt.body, "Content-Type", rw2ContentType, "Content-Encoding", "snappy", "X-Prometheus-Remote-Write-Version", "2.0.0")
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %s\nwant it to contain %s", rec.Body, tt.wantBody)
			}
			if got := rec.Header().Get(headerSamplesWritten); got != tt.wantWritten {
				t.Errorf("%s = %q, want %q", headerSamplesWritten, got, tt.wantWritten)
			}
			if got := rec.Header().Get(headerHistogramsWritten); got != "0" {
				t.Errorf("%s = %q, want 0", headerHistogramsWritten, got)
			}
			if got := dump(env.app.series()); got != tt.wantSaved {
				t.Errorf("stored:\n%s\nwant:\n%s", got, tt.wantSaved)
			}
			if got := env.counter(t, "stratus_ingest_requests_total", map[string]string{"format": formatRemoteWriteV2}); got != 1 {
				t.Errorf("requests{format=v2} = %v, want 1", got)
			}
		})
	}
}
