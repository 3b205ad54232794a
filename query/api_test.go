package query

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/stratus-metrics/stratus/model"
)

func newTestAPI(t *testing.T) *httptest.Server {
	t.Helper()
	q := newMemQuerier()
	for i := range 10 {
		ts := int64(i) * 15_000
		q.Add(model.FromStrings(model.MetricName, "up", "job", "api", "instance", "a:1"), model.Sample{T: ts, V: 1})
		q.Add(model.FromStrings(model.MetricName, "up", "job", "db", "instance", "b:2"), model.Sample{T: ts, V: 0})
		q.Add(model.FromStrings(model.MetricName, "http_requests_total", "job", "api", "code", "200"), model.Sample{T: ts, V: float64(i * 10)})
	}
	opts := APIOptions{BuildInfo: BuildInfo{Version: "1.2.3", Revision: "abc", Branch: "main", GoVersion: "go1.26"}}
	opts.Engine = DefaultEngineOptions()
	opts.Engine.Now = func() time.Time { return time.Unix(120, 0) }
	r := mux.NewRouter()
	NewAPI(q, opts).Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func TestAPI(t *testing.T) {
	srv := newTestAPI(t)
	cases := []struct {
		name   string
		method string
		path   string
		form   url.Values
		code   int
		body   string
	}{
		{"grafana 1+1", "GET", "/api/v1/query?query=1%2B1&time=100", nil, 200,
			`{"status":"success","data":{"resultType":"scalar","result":[100,"2"]}}`},
		{"post form", "POST", "/api/v1/query", url.Values{"query": {"1+1"}, "time": {"100.5"}}, 200,
			`{"status":"success","data":{"resultType":"scalar","result":[100.500,"2"]}}`},
		{"vector", "GET", "/api/v1/query?query=up&time=1970-01-01T00:02:00Z", nil, 200,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[120,"1"]},{"metric":{"__name__":"up","instance":"b:2","job":"db"},"value":[120,"0"]}]}}`},
		{"default time is now", "GET", "/api/v1/query?query=time()", nil, 200,
			`{"status":"success","data":{"resultType":"scalar","result":[120,"120"]}}`},
		{"string", "GET", "/api/v1/query?query=%22a%3Cb%22&time=1", nil, 200,
			`{"status":"success","data":{"resultType":"string","result":[1,"a\u003cb"]}}`},
		{"special floats", "GET", "/api/v1/query?query=vector(1/0)%20or%20label_replace(vector(-1/0),%22a%22,%22b%22,%22%22,%22%22)%20or%20label_replace(vector(0/0),%22a%22,%22c%22,%22%22,%22%22)&time=1", nil, 200,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"+Inf"]},{"metric":{"a":"b"},"value":[1,"-Inf"]},{"metric":{"a":"c"},"value":[1,"NaN"]}]}}`},
		{"matrix", "GET", "/api/v1/query_range?query=sum(rate(http_requests_total[1m]))&start=60&end=120&step=30s", nil, 200,
			`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[60,"0.6666666666666666"],[90,"0.6666666666666666"],[120,"0.6666666666666666"]]}]}}`},
		{"range step float", "GET", "/api/v1/query_range?query=up{job=%22api%22}&start=0.5&end=30.5&step=15", nil, 200,
			`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"a:1","job":"api"},"values":[[0.500,"1"],[15.500,"1"],[30.500,"1"]]}]}}`},
		{"parse error", "GET", "/api/v1/query?query=sum(", nil, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}`},
		{"bad time", "GET", "/api/v1/query?query=up&time=yesterday", nil, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"}`},
		{"too many points", "GET", "/api/v1/query_range?query=up&start=0&end=11001&step=1", nil, 400,
			`{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}`},
		{"zero step", "GET", "/api/v1/query_range?query=up&start=0&end=10&step=0", nil, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"}`},
		{"range of matrix", "GET", "/api/v1/query_range?query=up[1m]&start=0&end=10&step=1", nil, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": invalid expression type \"range vector\" for range query, must be Scalar or instant Vector"}`},
		{"execution error", "GET", "/api/v1/query?query=up%20%2B%20on()%20up&time=120", nil, 422, `"errorType":"execution"`},
		{"buildinfo", "GET", "/api/v1/status/buildinfo", nil, 200,
			`{"status":"success","data":{"version":"1.2.3","revision":"abc","branch":"main","buildUser":"","buildDate":"","goVersion":"go1.26"}}`},
		{"labels", "GET", "/api/v1/labels", nil, 200,
			`{"status":"success","data":["__name__","code","instance","job"]}`},
		{"labels match", "POST", "/api/v1/labels", url.Values{"match[]": {"up"}}, 200,
			`{"status":"success","data":["__name__","instance","job"]}`},
		{"label values", "GET", "/api/v1/label/job/values", nil, 200,
			`{"status":"success","data":["api","db"]}`},
		{"label values none", "GET", "/api/v1/label/nope/values", nil, 200,
			`{"status":"success","data":[]}`},
		{"series", "GET", "/api/v1/series?match[]=up&match[]=up{job=%22api%22}&start=0&end=200", nil, 200,
			`{"status":"success","data":[{"__name__":"up","instance":"a:1","job":"api"},{"__name__":"up","instance":"b:2","job":"db"}]}`},
		{"series without match", "GET", "/api/v1/series", nil, 400,
			`{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}`},
		{"series limit", "GET", "/api/v1/series?match[]=up&limit=1", nil, 200,
			`{"status":"success","data":[{"__name__":"up","instance":"a:1","job":"api"}],"warnings":["results truncated due to limit"]}`},
		{"series limit not reached", "GET", "/api/v1/series?match[]=up&limit=2", nil, 200,
			`{"status":"success","data":[{"__name__":"up","instance":"a:1","job":"api"},{"__name__":"up","instance":"b:2","job":"db"}]}`},
		{"labels limit", "GET", "/api/v1/labels?limit=2", nil, 200,
			`{"status":"success","data":["__name__","code"],"warnings":["results truncated due to limit"]}`},
		{"label values limit", "GET", "/api/v1/label/job/values?limit=1", nil, 200,
			`{"status":"success","data":["api"],"warnings":["results truncated due to limit"]}`},
		{"query limit", "GET", "/api/v1/query?query=sort_desc(up)&time=120&limit=1", nil, 200,
			`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[120,"1"]}]},"warnings":["results truncated due to limit"]}`},
		{"query_range limit", "GET", "/api/v1/query_range?query=up&start=90&end=120&step=30&limit=1", nil, 200,
			`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"a:1","job":"api"},"values":[[90,"1"],[120,"1"]]}]},"warnings":["results truncated due to limit"]}`},
		{"bad limit", "GET", "/api/v1/labels?limit=-1", nil, 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": limit must be non-negative"}`},
		{"metadata", "GET", "/api/v1/metadata", nil, 200, `{"status":"success","data":{}}`},
		{"exemplars", "GET", "/api/v1/query_exemplars?query=up", nil, 200, `{"status":"success","data":[]}`},
		{"format", "GET", "/api/v1/format_query?query=sum(rate(x[5m]))by(job)", nil, 200,
			`{"status":"success","data":"sum by (job) (rate(x[5m]))"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if c.method == "POST" {
				resp, err = http.PostForm(srv.URL+c.path, c.form)
			} else {
				resp, err = http.Get(srv.URL + c.path)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.code {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, c.code, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			if strings.HasPrefix(c.body, "{") {
				if string(body) != c.body {
					t.Errorf("body\n got %s\nwant %s", body, c.body)
				}
			} else if !strings.Contains(string(body), c.body) {
				t.Errorf("body %s does not contain %s", body, c.body)
			}
		})
	}
}
