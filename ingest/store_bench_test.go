package ingest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/tsdb"
)

// plainAppender hides the store's AppendRefs, so the handler looks every
// series up by its labels.
type plainAppender struct{ db *tsdb.DB }

func (p plainAppender) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	return p.db.Append(batch)
}

// BenchmarkRemoteWriteStore pushes remote-write requests of 5,000 series
// through the handler into a real in-memory store holding 100,000 active
// series, round after round as senders do, for both protocol versions,
// with the series references the handler keeps ("refs") and without
// ("labels"). An operation is one request; samples/s is the handler and
// the store together, without HTTP.
func BenchmarkRemoteWriteStore(b *testing.B) {
	const active, perRequest = 100_000, 5000
	series := datagen.Series(active)
	for _, version := range []int{1, 2} {
		for _, refs := range []bool{true, false} {
			path := "labels"
			if refs {
				path = "refs"
			}
			b.Run(fmt.Sprintf("v%d/%s", version, path), func(b *testing.B) {
				db, err := tsdb.Open("", tsdb.DefaultOptions(), nil, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				var app Appender = plainAppender{db}
				if refs {
					app = db
				}
				h := NewHandler(app, DefaultConfig(), nil, nil)
				t0, now := time.Now(), time.Now()
				h.now = func() time.Time { return now } // the newest request's time
				r := mux.NewRouter()
				h.Register(r)
				headers := map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}
				if version == 2 {
					headers["Content-Type"] = rw2ContentType
				}
				// request i carries the series of slot i%20 at round i/20.
				request := func(i int) []byte {
					lo, ts := (i%(active/perRequest))*perRequest, t0.UnixMilli()+int64(i/(active/perRequest))*15_000
					now = time.UnixMilli(ts)
					return encodeRequest(b, version, series[lo:lo+perRequest], ts)
				}
				send := func(body []byte) {
					req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
					for k, v := range headers {
						req.Header.Set(k, v)
					}
					rec := httptest.NewRecorder()
					r.ServeHTTP(rec, req)
					if rec.Code != http.StatusNoContent {
						b.Fatalf("code %d: %s", rec.Code, rec.Body)
					}
				}
				n := active / perRequest
				for i := range n { // create the series
					send(request(i))
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					b.StopTimer()
					body := request(n + i)
					b.StartTimer()
					send(body)
				}
				b.ReportMetric(float64(perRequest)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

// encodeRequest builds a snappy-compressed remote-write request of the
// given version: one sample per series at ts.
func encodeRequest(b *testing.B, version int, series []model.Labels, ts int64) []byte {
	if version == 1 {
		req := prompb.WriteRequest{}
		for _, ls := range series {
			pts := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: ts, Value: float64(ts)}}}
			for _, l := range ls {
				pts.Labels = append(pts.Labels, prompb.Label{Name: l.Name, Value: l.Value})
			}
			req.Timeseries = append(req.Timeseries, pts)
		}
		return rwBody(b, req.Timeseries...)
	}
	sets := make([]labels.Labels, len(series))
	for i, ls := range series {
		sb := labels.NewScratchBuilder(len(ls))
		for _, l := range ls {
			sb.Add(l.Name, l.Value)
		}
		sets[i] = sb.Labels()
	}
	return rw2Body(b, func(req *writev2.Request) {
		for i := range req.Timeseries {
			req.Timeseries[i].Samples = []writev2.Sample{{Timestamp: ts, Value: float64(ts)}}
		}
	}, sets...)
}
