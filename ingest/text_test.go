package ingest

import (
	"strings"
	"testing"
)

func TestTextImport(t *testing.T) {
	tests := []struct {
		name, query, ctype, body string
		wantCode                 int
		wantBody                 string
		wantSaved                string
	}{
		{
			name: "text with histogram, summary, timestamps and comments",
			body: `# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds histogram
rpc_seconds_bucket{le="0.1"} 3
rpc_seconds_bucket{le="+Inf"} 5 1772366399000
rpc_seconds_sum 1.5
rpc_seconds_count 5

# a comment
lag{country="DE"} NaN
`,
			wantCode: 204,
			wantSaved: `{__name__="rpc_seconds_bucket", le="0.1"} 0=3
{__name__="rpc_seconds_bucket", le="+Inf"} -1000=5
{__name__="rpc_seconds_sum"} 0=1.5
{__name__="rpc_seconds_count"} 0=5
{__name__="lag", country="DE"} 0=NaN
`,
		},
		{
			name:      "extra labels override",
			query:     "?extra_label=job=import&extra_label=country=FR",
			body:      "lag{country=\"DE\"} 1\n",
			wantCode:  204,
			wantSaved: "{__name__=\"lag\", country=\"FR\", job=\"import\"} 0=1\n",
		},
		{
			name:      "bad line reported by number, good lines kept",
			body:      "a 1\nb{x=\"1\" 2\nc 3\r\nd{x=\"1\",x=\"2\"} 4\n",
			wantCode:  400,
			wantBody:  "line 2: ",
			wantSaved: "{__name__=\"a\"} 0=1\n{__name__=\"c\"} 0=3\n",
		},
		{
			name:     "duplicate labels on line 4",
			body:     "a 1\n\n\nd{x=\"1\",x=\"2\"} 4\n",
			wantCode: 400,
			wantBody: "line 4: {__name__=\"d\", x=\"1\", x=\"2\"}: duplicate label name: \"x\"",
		},
		{
			name:      "openmetrics with seconds timestamps",
			ctype:     "application/openmetrics-text; version=1.0.0",
			body:      "# TYPE jobs counter\njobs_total 3 1772366399.5\n# EOF\n",
			wantCode:  204,
			wantSaved: "{__name__=\"jobs_total\"} -500=3\n",
		},
		{
			name:     "bad extra label",
			query:    "?extra_label=novalue",
			body:     "a 1\n",
			wantCode: 400,
			wantBody: "extra_label \"novalue\" is not of the form name=value",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t, nil)
			var headers []string
			if tt.ctype != "" {
				headers = []string{"Content-Type", tt.ctype}
			}
			rec := env.do(t, "/api/v1/import/prometheus"+tt.query, []byte(tt.body), headers...)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d: %s", rec.Code, tt.wantCode, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %s\nwant it to contain %s", rec.Body, tt.wantBody)
			}
			if tt.wantSaved != "" || tt.wantCode == 204 {
				if got := dump(env.app.series()); got != tt.wantSaved {
					t.Errorf("stored:\n%s\nwant:\n%s", got, tt.wantSaved)
				}
			}
		})
	}
}
