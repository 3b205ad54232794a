package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestInflux(t *testing.T) {
	nowS := fmt.Sprint(testNowMs / 1000)
	nowNs := fmt.Sprint(testNowMs * 1e6)
	tests := []struct {
		name, path, query, body string
		wantCode                int
		wantBody                string
		wantSaved               string
	}{
		{
			name:     "fields, value field, tags, types and ns timestamps",
			body:     "cpu,host=a,region=eu usage_idle=99.5,value=3i,up=true,down=F,big=7u " + nowNs + "\n# comment\n\nlag value=1.5\n",
			wantCode: 204,
			wantSaved: `{__name__="cpu_usage_idle", host="a", region="eu"} 0=99.5
{__name__="cpu", host="a", region="eu"} 0=3
{__name__="cpu_up", host="a", region="eu"} 0=1
{__name__="cpu_down", host="a", region="eu"} 0=0
{__name__="cpu_big", host="a", region="eu"} 0=7
{__name__="lag"} 0=1.5
`,
		},
		{
			name:      "escapes",
			body:      `my\ meas,tag\,k=v\ 1\=x f\=1=2 ` + nowNs,
			wantCode:  204,
			wantSaved: "{__name__=\"my meas_f=1\", tag,k=\"v 1=x\"} 0=2\n",
		},
		{
			name:      "precision s on the v2 path",
			path:      "/api/v2/write",
			query:     "?precision=s&bucket=b&org=o",
			body:      "m v=1 " + nowS,
			wantCode:  204,
			wantSaved: "{__name__=\"m_v\"} 0=1\n",
		},
		{
			name:      "string field rejected, numeric fields of the line kept",
			body:      "svc,host=a msg=\"hello, world\",latency=12 " + nowNs,
			wantCode:  400,
			wantBody:  `line 1: field \"msg\" is a string; only numeric and boolean fields can be stored`,
			wantSaved: "{__name__=\"svc_latency\", host=\"a\"} 0=12\n",
		},
		{
			name:      "bad lines named, good lines stored",
			body:      "good v=1 " + nowNs + "\nbad v=abc\nnofields\ntags,a= v=1\nm v=1 12x\ngood2 v=2 " + nowNs,
			wantCode:  400,
			wantBody:  `line 2: field \"v\": invalid number \"abc\"`,
			wantSaved: "{__name__=\"good_v\"} 0=1\n{__name__=\"good2_v\"} 0=2\n",
		},
		{
			name:     "bad precision",
			query:    "?precision=weeks",
			body:     "m v=1",
			wantCode: 400,
			wantBody: `precision \"weeks\" is not one of`,
		},
		{
			name:     "duplicate tags",
			body:     "m,a=1,a=2 v=1",
			wantCode: 400,
			wantBody: "duplicate label name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			path := tt.path
			if path == "" {
				path = "/write"
			}
			rec := env.do(t, path+tt.query, []byte(tt.body))
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %s\nwant it to contain %s", rec.Body, tt.wantBody)
			}
			if rec.Code != 204 {
				var e influxError
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" {
					t.Errorf("body is not an Influx error: %s", rec.Body)
				}
			}
			if got := dump(env.app.series()); got != tt.wantSaved {
				t.Errorf("stored:\n%s\nwant:\n%s", got, tt.wantSaved)
			}
		})
	}
}
