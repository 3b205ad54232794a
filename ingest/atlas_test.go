package ingest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestAtlasPublish(t *testing.T) {
	ts := fmt.Sprint(testNowMs)
	tests := []struct {
		name      string
		body      string
		gzip      bool
		wantCode  int
		wantBody  string
		wantSaved string
	}{
		{
			name:      "all accepted, common tags merged, name to __name__",
			body:      `{"tags":{"nf.app":"billing","nf.node":"i-1"},"metrics":[{"tags":{"name":"replication.lag","country":"DE"},"timestamp":` + ts + `,"value":42.5},{"tags":{"name":"rows","nf.node":"i-2"},"timestamp":` + ts + `,"value":"NaN"}]}`,
			wantCode:  200,
			wantSaved: "{__name__=\"replication.lag\", country=\"DE\", nf.app=\"billing\", nf.node=\"i-1\"} 0=42.5\n{__name__=\"rows\", nf.app=\"billing\", nf.node=\"i-2\"} 0=NaN\n",
		},
		{
			name:      "gzip",
			body:      `{"metrics":[{"tags":{"name":"cpu"},"timestamp":` + ts + `,"value":1}]}`,
			gzip:      true,
			wantCode:  200,
			wantSaved: "{__name__=\"cpu\"} 0=1\n",
		},
		{
			name:      "partial: bad key, missing name and bad value beside a good metric",
			body:      `{"metrics":[{"tags":{"name":"ok"},"timestamp":` + ts + `,"value":1},{"tags":{"name":"x1","a":"b"},"timestamp":` + ts + `,"value":1},{"tags":{"app":"a"},"timestamp":` + ts + `,"value":1},{"tags":{"name":"v"},"timestamp":` + ts + `,"value":{}}]}`,
			wantCode:  202,
			wantBody:  `{"type":"partial","errorCount":3,"message":["metrics[1]: {__name__=\"x1\", a=\"b\"}: key too short: \"a\" (1 \u003c 2)"`,
			wantSaved: "{__name__=\"ok\"} 0=1\n",
		},
		{
			name:     "nothing accepted: invalid characters",
			body:     `{"metrics":[{"tags":{"name":"has space"},"timestamp":` + ts + `,"value":1}]}`,
			wantCode: 400,
			wantBody: `"type":"error","errorCount":1,"message":["metrics[0]: {__name__=\"has space\"}: invalid characters in value: name = \"has space\" (only [-._A-Za-z0-9^~] are allowed)"]`,
		},
		{
			name:     "too many user tags",
			body:     `{"metrics":[{"tags":{"name":"n1","t1":"v","t2":"v","t3":"v","t4":"v","t5":"v","t6":"v","t7":"v","t8":"v","t9":"v","ta":"v","tb":"v","tc":"v","td":"v","te":"v","tf":"v","tg":"v","th":"v","ti":"v","tj":"v","tk":"v","nf.app":"ok"},"timestamp":` + ts + `,"value":1}]}`,
			wantCode: 400,
			wantBody: "too many user tags: 21 \\u003e 20",
		},
		{
			name:     "value too long",
			body:     `{"metrics":[{"tags":{"name":"n1","tag":"` + strings.Repeat("v", 121) + `"},"timestamp":` + ts + `,"value":1}]}`,
			wantCode: 400,
			wantBody: "value too long: tag =",
		},
		{
			name:     "timestamp far in the past",
			body:     `{"metrics":[{"tags":{"name":"old"},"timestamp":1000,"value":1}]}`,
			wantCode: 400,
			wantBody: "older than the accepted window of 24h0m0s",
		},
		{
			name:     "malformed JSON",
			body:     `{"metrics":[`,
			wantCode: 400,
			wantBody: "decode publish payload: cannot parse JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			body := []byte(tt.body)
			var headers []string
			if tt.gzip {
				body = gzipBytes(body)
				headers = []string{"Content-Encoding", "gzip"}
			}
			rec := env.do(t, "/api/v1/publish", body, headers...)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %s\nwant it to contain %s", rec.Body, tt.wantBody)
			}
			if rec.Code != 200 && !json.Valid(rec.Body.Bytes()) {
				t.Errorf("body is not JSON: %s", rec.Body)
			}
			if got := dump(env.app.series()); got != tt.wantSaved {
				t.Errorf("stored:\n%s\nwant:\n%s", got, tt.wantSaved)
			}
		})
	}
}

func TestAtlasGzipBomb(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.MaxDecompressedBytes = 5000 })
	rec := env.do(t, "/api/v1/publish", gzipBytes(make([]byte, 1<<20)), "Content-Encoding", "gzip")
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "exceeds 5000 bytes") {
		t.Errorf("gzip bomb: code = %d: %s", rec.Code, rec.Body)
	}
}

func TestAtlasSeriesLimit(t *testing.T) {
	env := newTestEnv(t, nil)
	env.app.reject = rejectSeriesLimit("new")
	rec := env.do(t, "/api/v1/publish", []byte(`{"metrics":[{"tags":{"name":"new"},"timestamp":`+fmt.Sprint(testNowMs)+`,"value":1}]}`))
	if rec.Code != 429 || !strings.Contains(rec.Body.String(), "series limit reached") {
		t.Errorf("code = %d: %s", rec.Code, rec.Body)
	}
}
