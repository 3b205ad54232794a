package ingest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stratus-metrics/stratus/model"
)

// testNow is the fixed receive time of every test request.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var testNowMs = testNow.UnixMilli()

// fakeAppender records deep copies of every batch (the handler reuses its
// buffers) and can reject samples or fail.
type fakeAppender struct {
	mu      sync.Mutex
	batches [][]model.TimeSeries
	// reject, when set, decides per series whether to reject it whole.
	reject func(ls model.Labels) error
	// err, when set, fails every Append.
	err error
}

func (a *fakeAppender) Append(batch []model.TimeSeries) (model.AppendResult, error) {
	if a.err != nil {
		return model.AppendResult{}, a.err
	}
	var res model.AppendResult
	var kept []model.TimeSeries
	for i, ts := range batch {
		if a.reject != nil {
			if err := a.reject(ts.Labels); err != nil {
				res.Reject(i, -1, len(ts.Samples), err)
				continue
			}
		}
		res.Accepted += len(ts.Samples)
		kept = append(kept, model.TimeSeries{Labels: ts.Labels.Copy(), Samples: slices.Clone(ts.Samples)})
	}
	a.mu.Lock()
	a.batches = append(a.batches, kept)
	a.mu.Unlock()
	return res, nil
}

// series returns every stored series, in order, as "labels samples" lines.
func (a *fakeAppender) series() []model.TimeSeries {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []model.TimeSeries
	for _, b := range a.batches {
		out = append(out, b...)
	}
	return out
}

// dump renders stored series one per line: {labels} t=v t=v.
func dump(tss []model.TimeSeries) string {
	var b strings.Builder
	for _, ts := range tss {
		b.WriteString(ts.Labels.String())
		for _, s := range ts.Samples {
			fmt.Fprintf(&b, " %d=%v", s.T-testNowMs, s.V)
		}
		b.WriteString("\n")
	}
	return b.String()
}

type testEnv struct {
	app *fakeAppender
	h   *Handler
	reg *prometheus.Registry
	mux *mux.Router
}

func newTestEnv(t testing.TB, mod func(*Config)) *testEnv {
	t.Helper()
	cfg := DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	env := &testEnv{app: &fakeAppender{}, reg: prometheus.NewRegistry(), mux: mux.NewRouter()}
	env.h = NewHandler(env.app, cfg, env.reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	env.h.now = func() time.Time { return testNow }
	env.h.Register(env.mux)
	return env
}

// do sends a POST and returns the recorded response.
func (e *testEnv) do(t testing.TB, path string, body []byte, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	return rec
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// counter reads a self-metric counter's value.
func (e *testEnv) counter(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metric
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

var errTestStorage = errors.New("wal write failed: disk full")

func rejectSeriesLimit(name string) func(ls model.Labels) error {
	return func(ls model.Labels) error {
		if ls.Get(model.MetricName) == name {
			return fmt.Errorf("%w: 1000 active series", model.ErrSeriesLimit)
		}
		return nil
	}
}

func snappyDecode(t testing.TB, b []byte) []byte {
	out, err := snappy.Decode(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
