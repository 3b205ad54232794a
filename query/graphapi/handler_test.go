package graphapi_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/graphapi"
	"github.com/stratus-metrics/stratus/query/querytest"
)

var now = time.Date(2024, 1, 1, 3, 0, 0, 0, time.UTC)

func server(t *testing.T) *httptest.Server {
	var ss []model.TimeSeries
	for _, app := range []string{"api", "billing"} {
		for _, code := range []string{"200", "500"} {
			ts := model.TimeSeries{Labels: model.FromStrings("__name__", "http_requests", "nf.app", app, "status", code)}
			for t := now.Add(-3 * time.Hour); !t.After(now); t = t.Add(10 * time.Second) {
				ts.Samples = append(ts.Samples, model.Sample{T: t.UnixMilli(), V: float64(len(app) + len(code))})
			}
			ss = append(ss, ts)
		}
	}
	q := querytest.NewMemQuerier(ss...)
	r := mux.NewRouter()
	graphapi.New(q, query.NewEngine(q, query.DefaultEngineOptions()), graphapi.Options{Now: func() time.Time { return now }}).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, params url.Values) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

const expr = "name,http_requests,:eq,(,nf.app,),:by"

func TestGraphPNG(t *testing.T) {
	srv := server(t)
	sizes := map[int][2]int{}
	for _, w := range []int{400, 500} {
		code, ctype, body := get(t, srv, "/api/v1/graph", url.Values{"q": {expr}, "w": {itoa(w)}, "h": {"200"}, "theme": {"dark"}, "title": {"Requests"}})
		if code != 200 || ctype != "image/png" {
			t.Fatalf("w=%d: status %d %s: %s", w, code, ctype, body)
		}
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		sizes[w] = [2]int{img.Bounds().Dx(), img.Bounds().Dy()}
	}
	// The plot canvas is exactly w x h; axes and legend add the same
	// margins whatever w is.
	if d := sizes[500][0] - sizes[400][0]; d != 100 || sizes[400][1] != sizes[500][1] || sizes[400][1] < 200 {
		t.Errorf("image sizes %v: want widths 100 apart and equal heights >= 200", sizes)
	}
}

func TestGraphJSON(t *testing.T) {
	srv := server(t)
	code, ctype, body := get(t, srv, "/api/v1/graph", url.Values{"q": {expr + ",$nf.app,:legend"}, "format": {"json"}, "s": {"e-1h"}, "e": {"now"}, "step": {"5m"}})
	if code != 200 || ctype != "application/json" {
		t.Fatalf("status %d %s: %s", code, ctype, body)
	}
	var got struct {
		Start   int64               `json:"start"`
		Step    int64               `json:"step"`
		Legend  []string            `json:"legend"`
		Metrics []map[string]string `json:"metrics"`
		Values  [][]any             `json:"values"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Step != 300_000 || got.Start != now.Add(-time.Hour).UnixMilli() || len(got.Values) != 13 {
		t.Errorf("start %d step %d rows %d: want %d, 300000, 13", got.Start, got.Step, len(got.Values), now.Add(-time.Hour).UnixMilli())
	}
	if !slices.Equal(got.Legend, []string{"api", "billing"}) || got.Metrics[1]["nf.app"] != "billing" || got.Metrics[1]["name"] != "http_requests" {
		t.Errorf("legend %v metrics %v", got.Legend, got.Metrics)
	}
	// api: 3+3 + 3+3 per sample, averaged per step = 12.
	if v, _ := got.Values[5][0].(float64); v != 12 {
		t.Errorf("values[5] = %v, want [12 ...]", got.Values[5])
	}
}

func TestGraphCSVAndSVG(t *testing.T) {
	srv := server(t)
	code, ctype, body := get(t, srv, "/api/v1/graph", url.Values{"q": {expr}, "format": {"csv"}, "s": {"2024-01-01T02:00"}, "e": {"s+10m"}, "step": {"1m"}})
	if code != 200 || !strings.HasPrefix(ctype, "text/csv") {
		t.Fatalf("status %d %s: %s", code, ctype, body)
	}
	rows := strings.Split(strings.TrimSpace(string(body)), "\n")
	if rows[0] != `"timestamp","(nf.app=api)","(nf.app=billing)"` || len(rows) != 12 || rows[1] != "2024-01-01T02:00:00Z,12,20" {
		t.Errorf("csv:\n%s", body)
	}
	code, ctype, body = get(t, srv, "/api/v1/graph", url.Values{"q": {expr + ",:stack"}, "format": {"svg"}, "no_legend": {"1"}, "palette": {"classic"}})
	if code != 200 || ctype != "image/svg+xml" || !bytes.Contains(body, []byte("<svg")) {
		t.Errorf("svg: status %d %s", code, ctype)
	}
}

func TestGraphFormatsAndOptions(t *testing.T) {
	srv := server(t)
	base := url.Values{"q": {expr}, "s": {"2024-01-01T02:00"}, "e": {"s+10m"}, "step": {"1m"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	// std.json is the json format; txt is the csv table with tabs.
	_, _, js := get(t, srv, "/api/v1/graph", with("format", "json"))
	code, ctype, std := get(t, srv, "/api/v1/graph", with("format", "std.json"))
	if code != 200 || ctype != "application/json" || !bytes.Equal(js, std) {
		t.Errorf("std.json: %d %s, same as json: %v", code, ctype, bytes.Equal(js, std))
	}
	code, ctype, txt := get(t, srv, "/api/v1/graph", with("format", "txt"))
	if rows := strings.Split(string(txt), "\n"); code != 200 || ctype != "text/plain; charset=utf-8" ||
		rows[0] != "\"timestamp\"\t\"(nf.app=api)\"\t\"(nf.app=billing)\"" || rows[1] != "2024-01-01T02:00:00Z\t12\t20" {
		t.Errorf("txt: %d %s\n%s", code, ctype, txt)
	}
	// Each option changes the picture; the SVG shows how.
	svg := func(kv ...string) string {
		t.Helper()
		code, _, b := get(t, srv, "/api/v1/graph", with(append([]string{"format", "svg"}, kv...)...))
		if code != 200 {
			t.Fatalf("%v: %d %s", kv, code, b)
		}
		return string(b)
	}
	plain := svg()
	if !strings.Contains(plain, "Max") || strings.Contains(svg("no_legend_stats", "1"), ">Max<") {
		t.Error("legend stats: shown by default, hidden with no_legend_stats=1")
	}
	if !strings.Contains(svg("stack", "1"), `class="series stack"`) || strings.Contains(plain, `class="series stack"`) {
		t.Error("stack=1 does not stack the lines")
	}
	if s := svg("l", "0", "u", "100", "ylabel", "requests/s"); !strings.Contains(s, ">100<") || !strings.Contains(s, "requests/s") {
		t.Error("l=0&u=100&ylabel: axis not from 0 to 100 with its label")
	}
	if s := svg("scale", "log", "l", "1", "u", "1000"); !strings.Contains(s, ">1.0k<") && !strings.Contains(s, ">1k<") {
		t.Error("scale=log&l=1&u=1000: no 1k tick")
	}
	for _, kv := range [][]string{{"u", "50"}, {"scale", "log"}, {"l.1", "1"}, {"ylabel.0", "x"}} {
		if svg(kv...) == plain {
			t.Errorf("%v changes nothing", kv)
		}
	}
}

func TestGraphErrors(t *testing.T) {
	srv := server(t)
	for _, c := range []struct {
		params url.Values
		status int
		want   string
	}{
		{url.Values{"q": {"name,x,:eq,nf.app,:by"}}, 400, ":by expects a list of keys, got string \"nf.app\" (token 4, offset 18)"},
		{url.Values{"q": {"name,x,:eq,:nope"}}, 400, ":nope is not a known word (token 3, offset 11)"},
		{url.Values{}, 400, "missing parameter \"q\""},
		{url.Values{"q": {expr}, "format": {"gif"}}, 400, "invalid parameter \"format\""},
		{url.Values{"q": {expr}, "s": {"yesterday"}}, 400, "invalid parameter \"s\""},
		{url.Values{"q": {expr}, "s": {"now"}, "e": {"now-1h"}}, 400, "is not after start"},
		{url.Values{"q": {expr}, "w": {"9999"}}, 400, "invalid parameter \"w\""},
		{url.Values{"q": {expr}, "step": {"1ms"}, "s": {"e-1w"}}, 400, "exceed the limit"},
		{url.Values{"q": {"name,a,:eq,(,k,),:by,name,b,:eq,(,j,),:by,:add"}}, 400, ":add expects both sides grouped"},
		{url.Values{"q": {expr}, "l": {"low"}}, 400, `invalid parameter "l": "low" is not a finite number`},
		{url.Values{"q": {expr}, "u.1": {"NaN"}}, 400, `invalid parameter "u.1"`},
		{url.Values{"q": {expr}, "l": {"5"}, "u": {"5"}}, 400, `invalid parameters "l" and "u": lower bound 5 is not below upper bound 5`},
		{url.Values{"q": {expr}, "scale": {"pow2"}}, 400, `invalid parameter "scale": "pow2" is not linear or log`},
		{url.Values{"q": {expr}, "scale.2": {"log"}, "l.2": {"0"}}, 400, `invalid parameter "l.2": a logarithmic axis needs a positive lower bound`},
		{url.Values{"q": {expr}, "stack": {"yes"}}, 400, `invalid parameter "stack": "yes" is not 1, true, 0 or false`},
		{url.Values{"q": {expr}, "no_legend": {"2"}}, 400, `invalid parameter "no_legend"`},
	} {
		code, ctype, body := get(t, srv, "/api/v1/graph", c.params)
		var e struct{ Error string }
		_ = json.Unmarshal(body, &e)
		if code != c.status || ctype != "application/json" || !strings.Contains(e.Error, c.want) {
			t.Errorf("%v: got %d %s %s, want %d containing %q", c.params, code, ctype, body, c.status, c.want)
		}
	}
}

func TestTags(t *testing.T) {
	srv := server(t)
	for _, c := range []struct {
		path   string
		params url.Values
		want   []string
	}{
		{"/api/v1/tags", nil, []string{"name", "nf.app", "status"}},
		{"/api/v1/tags/nf.app", nil, []string{"api", "billing"}},
		{"/api/v1/tags/name", nil, []string{"http_requests"}},
		{"/api/v1/tags/status", url.Values{"q": {"nf.app,api,:eq"}}, []string{"200", "500"}},
		{"/api/v1/tags/nf.app", url.Values{"q": {"nf.app,bill,:starts"}}, []string{"billing"}},
		{"/api/v1/tags/nope", nil, []string{}},
	} {
		code, _, body := get(t, srv, c.path, c.params)
		var got []string
		if err := json.Unmarshal(body, &got); code != 200 || err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s?%s: got %d %s, want %v", c.path, c.params.Encode(), code, body, c.want)
		}
	}
	code, _, body := get(t, srv, "/api/v1/tags", url.Values{"q": {"nf.app,:eq"}})
	if code != 400 || !strings.Contains(string(body), ":eq needs 2 items") {
		t.Errorf("bad q: got %d %s", code, body)
	}
}

func TestParseTime(t *testing.T) {
	end := now
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"now", now},
		{"now-1h", now.Add(-time.Hour)},
		{"e-3h", end.Add(-3 * time.Hour)},
		{"e-PT30M", end.Add(-30 * time.Minute)},
		{"1704067200000", time.UnixMilli(1704067200000)},
		{"1704067200", time.Unix(1704067200, 0)},
		{"2024-01-01T01:02:03Z", time.Date(2024, 1, 1, 1, 2, 3, 0, time.UTC)},
		{"2024-01-01T01:02", time.Date(2024, 1, 1, 1, 2, 0, 0, time.UTC)},
		{"2024-01-01", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := graphapi.ParseTime(c.in, now, time.UTC, map[string]time.Time{"e": end})
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "e-", "x-1h", "now-1q", "s-1h", "+-1h", "now--1h", "now-1099511627775y"} {
		if _, err := graphapi.ParseTime(bad, now, time.UTC, map[string]time.Time{"e": end}); err == nil {
			t.Errorf("ParseTime(%q): want an error", bad)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
