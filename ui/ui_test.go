package ui

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/stratus-metrics/stratus/model"
)

func newTestServer(t *testing.T, opts Options) (*httptest.Server, *UI) {
	t.Helper()
	u := New(opts)
	t.Cleanup(u.Close)
	r := mux.NewRouter()
	u.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, u
}

func do(t *testing.T, method, url, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestAssetsAndPages(t *testing.T) {
	srv, _ := newTestServer(t, Options{})
	for _, tc := range []struct {
		path, contentType string
		code              int
	}{
		{"/", "text/html; charset=utf-8", 200},
		{"/explore", "text/html; charset=utf-8", 200},
		{"/dashboards", "text/html; charset=utf-8", 200},
		{"/dashboards/service-health", "text/html; charset=utf-8", 200},
		{"/dashboards/service-health/edit", "text/html; charset=utf-8", 200},
		{"/alerts", "text/html; charset=utf-8", 200},
		{"/status", "text/html; charset=utf-8", 200},
		{"/ui/js/app.js", "text/javascript; charset=utf-8", 200},
		{"/ui/js/pages/explore.js", "text/javascript; charset=utf-8", 200},
		{"/ui/css/app.css", "text/css; charset=utf-8", 200},
		{"/ui/favicon.svg", "image/svg+xml", 200},
		{"/ui/js/missing.js", "", 404},
		{"/ui/index.html", "", 404},
	} {
		resp, body := do(t, "GET", srv.URL+tc.path, "")
		if resp.StatusCode != tc.code {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.code)
			continue
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, got)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", tc.path)
		}
		if tc.code != 200 {
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if strings.HasPrefix(tc.contentType, "text/html") && !strings.Contains(body, `<script type="module" src="/ui/js/app.js">`) {
			t.Errorf("GET %s: not the app shell", tc.path)
		}
		// Revalidation: the ETag answers 304.
		resp2, _ := do(t, "GET", srv.URL+tc.path, "", "If-None-Match", resp.Header.Get("ETag"))
		if resp2.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match: %d, want 304", tc.path, resp2.StatusCode)
		}
	}
}

// TestCSPIsStrict: no inline scripts or styles are allowed, so an injected
// <script> or style attribute cannot run or apply.
func TestCSPIsStrict(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "data: 'self'"} {
		for _, dir := range strings.Split(ContentSecurityPolicy, ";") {
			if strings.HasPrefix(strings.TrimSpace(dir), "script-src") && strings.Contains(dir, bad) {
				t.Errorf("script-src allows %s", bad)
			}
		}
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("CSP lacks %s", want)
		}
	}
	// The shell has no inline script or style the CSP would block.
	shell := string(loadAssets().shell.body)
	if strings.Contains(shell, "<script>") || strings.Contains(shell, "style=") || strings.Contains(shell, "<style") {
		t.Error("index.html has inline script or style")
	}
}

// TestNoInnerHTML keeps data out of HTML parsing: the app builds DOM nodes
// with textContent only.
func TestNoInnerHTML(t *testing.T) {
	for name, a := range loadAssets().files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if strings.Contains(string(a.body), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

type envelope struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Error  string          `json:"error"`
}

func decode(t *testing.T, body string) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	return e
}

const userDash = `{"schemaVersion":1,"title":"Mine","variables":[{"name":"svc","label":"service","includeAll":true}],
"panels":[{"title":"Rate","type":"timeseries","width":12,"queries":[{"expr":"sum(rate(http_server_requests_total{service=~\"$svc\"}[5m]))"}]}]}`

func TestDashboardsCRUD(t *testing.T) {
	dataDir := t.TempDir()
	srv, _ := newTestServer(t, Options{DataDir: dataDir, Now: func() time.Time { return time.Unix(1700000000, 0) }})
	api := srv.URL + "/api/v1/dashboards"

	list := func() []DashboardSummary {
		resp, body := do(t, "GET", api, "")
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		var out []DashboardSummary
		json.Unmarshal(decode(t, body).Data, &out)
		return out
	}
	ids := func() []string {
		var ids []string
		for _, d := range list() {
			ids = append(ids, d.ID+":"+d.Source)
		}
		return ids
	}
	if got := ids(); !slices.Equal(got, []string{"migration-overview:builtin", "service-health:builtin"}) {
		t.Fatalf("built-ins = %v", got)
	}

	resp, body := do(t, "PUT", api+"/mine", userDash)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("API response lacks the CSP header")
	}
	resp, body = do(t, "PUT", api+"/mine", strings.Replace(userDash, `"Mine"`, `"Mine v2"`, 1))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, "GET", api+"/mine", "")
	var d Dashboard
	json.Unmarshal(decode(t, body).Data, &d)
	if resp.StatusCode != 200 || d.Title != "Mine v2" || d.Source != "user" || d.ID != "mine" || len(d.Panels) != 1 || !d.UpdatedAt.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("get: %d %+v", resp.StatusCode, d)
	}
	// It is a file in <data-dir>/dashboards, readable by hand.
	raw, err := os.ReadFile(filepath.Join(dataDir, "dashboards", "mine.json"))
	if err != nil || !strings.Contains(string(raw), `"title": "Mine v2"`) {
		t.Fatalf("file: %v %s", err, raw)
	}
	if got := ids(); !slices.Equal(got, []string{"migration-overview:builtin", "mine:user", "service-health:builtin"}) {
		t.Fatalf("list = %v", got)
	}

	// Errors say what and where.
	for _, tc := range []struct{ path, body, want string }{
		{"/mine", `{"title":"x","panels":[{"title":"p","type":"pie","queries":[{"expr":"up"}]}]}`, `panels[0].type "pie"`},
		{"/mine", `{"title":"x","panels":[{"title":"p","type":"stat","queries":[]}]}`, `panels[0] ("p"): needs at least one query`},
		{"/mine", `{"title":"","panels":[]}`, "title: must not be empty"},
		{"/mine", `{"title":"x","panelz":[]}`, `unknown field "panelz"`},
		{"/mine", `{"id":"other","title":"x","panels":[]}`, `differs from "mine"`},
		{"/Bad..id", `{"title":"x","panels":[]}`, "must be 1-64"},
		{"/mine", `{"schemaVersion":2,"title":"x","panels":[]}`, "schemaVersion: 2 is not supported"},
		{"/mine", `not json`, "parse dashboard"},
	} {
		resp, body := do(t, "PUT", api+tc.path, tc.body)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(decode(t, body).Error, tc.want) {
			t.Errorf("PUT %s %s: %d %s, want 400 with %q", tc.path, tc.body, resp.StatusCode, body, tc.want)
		}
	}

	// A user copy shadows a built-in; deleting it restores the built-in.
	resp, _ = do(t, "PUT", api+"/service-health", strings.Replace(userDash, `"Mine"`, `"My service health"`, 1))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("shadow: %d", resp.StatusCode)
	}
	_, body = do(t, "GET", api+"/service-health", "")
	json.Unmarshal(decode(t, body).Data, &d)
	if d.Title != "My service health" || !d.Builtin || d.Source != "user" {
		t.Fatalf("shadowed = %+v", d)
	}
	resp, body = do(t, "DELETE", api+"/service-health", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"restoredBuiltin":true`) {
		t.Fatalf("delete shadow: %d %s", resp.StatusCode, body)
	}
	_, body = do(t, "GET", api+"/service-health", "")
	json.Unmarshal(decode(t, body).Data, &d)
	if d.Title != "Service health" || d.Source != "builtin" {
		t.Fatalf("restored = %+v", d)
	}
	// Built-ins cannot be deleted; unknown ids are 404.
	if resp, _ := do(t, "DELETE", api+"/service-health", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("delete built-in: %d, want 409", resp.StatusCode)
	}
	if resp, _ := do(t, "DELETE", api+"/mine", ""); resp.StatusCode != 200 {
		t.Errorf("delete: %d", resp.StatusCode)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if resp, _ := do(t, m, api+"/mine", ""); resp.StatusCode != 404 {
			t.Errorf("%s deleted: %d, want 404", m, resp.StatusCode)
		}
	}
	// A broken file is reported, not fatal to the list.
	os.WriteFile(filepath.Join(dataDir, "dashboards", "broken.json"), []byte("{"), 0o644)
	resp, body = do(t, "GET", api, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "broken.json") || !strings.Contains(body, "service-health") {
		t.Errorf("list with a broken file: %d %s", resp.StatusCode, body)
	}
}

// TestBuiltinRange: Options.BuiltinRange replaces the built-ins' own
// default range; without it they keep theirs.
func TestBuiltinRange(t *testing.T) {
	own := newDashboardStore("", time.Now, "")
	demo := newDashboardStore("", time.Now, "15m")
	for id, d := range demo.builtin {
		if d.Time != "15m" {
			t.Errorf("%s opens with %q, want 15m", id, d.Time)
		}
		if own.builtin[id].Time == "" || own.builtin[id].Time == "15m" {
			t.Errorf("%s's own range is %q; the test needs one that differs", id, own.builtin[id].Time)
		}
	}
	if len(demo.builtin) == 0 {
		t.Fatal("no built-in dashboards")
	}
}

func TestBuiltinDashboardsHaveTwelvePanels(t *testing.T) {
	s := newDashboardStore("", time.Now, "")
	for _, id := range []string{"migration-overview", "service-health"} {
		d := s.builtin[id]
		if d == nil {
			t.Fatalf("built-in %s missing", id)
		}
		if len(d.Panels) != 12 {
			t.Errorf("%s: %d panels", id, len(d.Panels))
		}
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	type webhook struct {
		URL      string `yaml:"url"`
		Password string `yaml:"password"`
		APIKey   string `yaml:"api_key"`
	}
	cfg := struct {
		ListenAddr string    `yaml:"listen_addr"`
		Webhooks   []webhook `yaml:"webhooks"`
		Token      string    `yaml:"bearer_token"`
	}{"127.0.0.1:7101", []webhook{{"http://hook", "hunter2", "k-123"}, {"https://bob:pw-456@hooks.example/x?token=q-789", "", ""}}, "t0ken"}
	srv, _ := newTestServer(t, Options{Config: cfg})
	resp, body := do(t, "GET", srv.URL+"/api/v1/status/config", "")
	var out struct{ YAML string }
	json.Unmarshal(decode(t, body).Data, &out)
	if resp.StatusCode != 200 || !strings.Contains(out.YAML, "listen_addr: 127.0.0.1:7101") || !strings.Contains(out.YAML, "url: http://hook") {
		t.Fatalf("config: %d %s", resp.StatusCode, body)
	}
	for _, secret := range []string{"hunter2", "k-123", "t0ken", "pw-456", "q-789"} {
		if strings.Contains(out.YAML, secret) {
			t.Errorf("config shows secret %q:\n%s", secret, out.YAML)
		}
	}
	if !strings.Contains(out.YAML, "https://bob:secret@hooks.example/x?secret") {
		t.Errorf("URL credentials not redacted in place:\n%s", out.YAML)
	}
	if strings.Count(out.YAML, "<secret>") != 3 {
		t.Errorf("want 3 redactions:\n%s", out.YAML)
	}
}

// fakeStorage records appends and serves fixed series.
type fakeStorage struct {
	mu      sync.Mutex
	batches [][]model.TimeSeries
	series  []model.Labels
}

func (f *fakeStorage) Append(b []model.TimeSeries) (model.AppendResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, slices.Clone(b))
	n := 0
	for _, s := range b {
		n += len(s.Samples)
	}
	return model.AppendResult{Accepted: n}, nil
}

type labelsOnly model.Labels

func (l labelsOnly) Labels() model.Labels { return model.Labels(l) }
func (l labelsOnly) Iterator(model.SampleIterator) model.SampleIterator {
	return model.NewSliceIterator(nil)
}

func (f *fakeStorage) Select(_ context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet {
	var out []model.Series
	for _, ls := range f.series {
		ok := true
		for _, m := range ms {
			ok = ok && m.Matches(ls.Get(m.Name))
		}
		if ok {
			out = append(out, labelsOnly(ls))
		}
	}
	return model.ListSeriesSet(out)
}

func TestTSDBStatus(t *testing.T) {
	st := &fakeStorage{}
	for _, c := range []string{"DE", "FR", "ES"} {
		for _, tb := range []string{"a", "b"} {
			st.series = append(st.series, model.FromStrings("__name__", "lag", "country", c, "table", tb))
		}
	}
	st.series = append(st.series, model.FromStrings("__name__", "up", "job", "x"))
	srv, _ := newTestServer(t, Options{Storage: func() Storage { return st }})
	resp, body := do(t, "GET", srv.URL+"/api/v1/status/tsdb?limit=2", "")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var got tsdbStatus
	json.Unmarshal(decode(t, body).Data, &got)
	if got.HeadStats.NumSeries != 7 {
		t.Errorf("numSeries = %d", got.HeadStats.NumSeries)
	}
	if want := []NameCount{{"lag", 6}, {"up", 1}}; !slices.Equal(got.SeriesCountByMetricName, want) {
		t.Errorf("by metric = %v, want %v", got.SeriesCountByMetricName, want)
	}
	if want := []NameCount{{"country", 3}, {"__name__", 2}}; !slices.Equal(got.LabelValueCountByLabelName, want) {
		t.Errorf("by values = %v, want %v", got.LabelValueCountByLabelName, want)
	}
	if want := []NameCount{{`__name__="lag"`, 6}, {`table="a"`, 3}}; !slices.Equal(got.SeriesCountByLabelValuePair, want) {
		t.Errorf("pairs = %v, want %v", got.SeriesCountByLabelValuePair, want)
	}
	if resp, _ := do(t, "GET", srv.URL+"/api/v1/status/tsdb?limit=0", ""); resp.StatusCode != 400 {
		t.Errorf("limit=0: %d", resp.StatusCode)
	}
	// Before storage opens: a retryable 503.
	srv2, _ := newTestServer(t, Options{})
	if resp, _ := do(t, "GET", srv2.URL+"/api/v1/status/tsdb", ""); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("no storage: %d", resp.StatusCode)
	}
	// The index's own statistics win when cmd hands them over.
	srv3, _ := newTestServer(t, Options{Cardinality: func(n int) Cardinality { return Cardinality{NumSeries: 99} }})
	_, body = do(t, "GET", srv3.URL+"/api/v1/status/tsdb", "")
	if !strings.Contains(body, `"numSeries":99`) {
		t.Errorf("cardinality func not used: %s", body)
	}
}

func key(ss ...string) string { return model.FromStrings(ss...).String() }

func TestSelfScrape(t *testing.T) {
	defer goleak.VerifyNone(t)
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "stratus_ingest_samples_accepted_total", Help: "h"}, []string{"format"})
	c.WithLabelValues("remote_write").Add(5)
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "req_seconds", Help: "h", Buckets: []float64{0.1, 1}})
	h.Observe(0.5)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "stratus_tsdb_head_series", Help: "h"})
	g.Set(42)
	reg.MustRegister(c, h, g)
	// While storage is not open, the loop appends nothing.
	closed := &fakeStorage{}
	u := New(Options{Gatherer: reg, ScrapeInterval: time.Hour, Storage: func() Storage { return nil }})
	u.Close()
	if len(closed.batches) != 0 {
		t.Fatal("appended while storage was closed")
	}
	// The loop scrapes once at start, then every ScrapeInterval.
	st := &fakeStorage{}
	u = New(Options{Gatherer: reg, Instance: "127.0.0.1:7101", ScrapeInterval: time.Hour,
		Now: func() time.Time { return time.UnixMilli(1000) }, Storage: func() Storage { return st }})
	u.Close()
	if len(st.batches) != 1 {
		t.Fatalf("%d batches, want 1", len(st.batches))
	}
	got := map[string]float64{}
	for _, s := range st.batches[0] {
		if s.Labels.Get("job") != "stratus" || s.Labels.Get("instance") != "127.0.0.1:7101" || s.Samples[0].T != 1000 {
			t.Errorf("series %v %v", s.Labels, s.Samples)
		}
		got[s.Labels.String()] = s.Samples[0].V
	}
	for k, v := range map[string]float64{
		key("__name__", "stratus_ingest_samples_accepted_total", "format", "remote_write", "instance", "127.0.0.1:7101", "job", "stratus"): 5,
		key("__name__", "stratus_tsdb_head_series", "instance", "127.0.0.1:7101", "job", "stratus"):                                        42,
		key("__name__", "req_seconds_bucket", "instance", "127.0.0.1:7101", "job", "stratus", "le", "0.1"):                                 0,
		key("__name__", "req_seconds_bucket", "instance", "127.0.0.1:7101", "job", "stratus", "le", "1"):                                   1,
		key("__name__", "req_seconds_bucket", "instance", "127.0.0.1:7101", "job", "stratus", "le", "+Inf"):                                1,
		key("__name__", "req_seconds_sum", "instance", "127.0.0.1:7101", "job", "stratus"):                                                 0.5,
		key("__name__", "req_seconds_count", "instance", "127.0.0.1:7101", "job", "stratus"):                                               1,
	} {
		if gv, ok := got[k]; !ok || math.Abs(gv-v) > 1e-9 {
			t.Errorf("%s = %v (present %v), want %v; got %v", k, gv, ok, v, got)
		}
	}
}
