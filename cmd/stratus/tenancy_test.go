package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/tenant"
)

// call sends a request as the named test token (none when who is "") and
// returns status and body.
func call(t *testing.T, ts *httptest.Server, who, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+secretOf(who))
	}
	if method == http.MethodPut || (method == http.MethodPost && strings.HasPrefix(path, "/api/v1/silences")) {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func multiTenantConfig(c *Config) {
	withAuth(c)
	c.Tenants.Overrides = map[string]tenantOverride{}
}

// TestTenantIsolation pushes data, dashboards and silences as two tenants
// and reads every read endpoint as each: neither may see, list, count or
// overwrite the other's.
func TestTenantIsolation(t *testing.T) {
	_, ts := newTestServer(t, multiTenantConfig)
	now := time.Now().UnixMilli()
	push := func(who, text string) {
		t.Helper()
		if code, body := call(t, ts, who, "POST", "/api/v1/import/prometheus", text); code != 204 && code != 200 {
			t.Fatalf("push as %s: %d %s", who, code, body)
		}
	}
	push("a-push", fmt.Sprintf("iso_metric{job=\"a-secret\"} 1 %d\na_only_metric 5 %d\n", now, now))
	push("b-push", fmt.Sprintf("iso_metric{job=\"b-secret\"} 2 %d\nb_only_metric{x=\"y\"} 3 %d\n", now, now))
	push("pusher", fmt.Sprintf("iso_metric{job=\"default-secret\"} 9 %d\n", now))
	// Tenant a tries to overwrite b's series by naming b in the label: the
	// sample lands in a's own series of that name (so a sees "b-secret"
	// from here on, as its own), never in b's.
	// The value has a dot so that no random hex ID (a silence's, say) can contain it.
	call(t, ts, "a-push", "POST", "/api/v1/import/prometheus", fmt.Sprintf("iso_metric{job=\"b-secret\",__tenant__=\"team-b\"} 666.125 %d\n", now+1))

	if code, body := call(t, ts, "a-admin", "PUT", "/api/v1/dashboards/a-dash", `{"title":"A dash","panels":[{"title":"p","type":"timeseries","queries":[{"expr":"iso_metric"}]}]}`); code != 200 && code != 201 {
		t.Fatalf("a dashboard: %d %s", code, body)
	}
	if code, body := call(t, ts, "b-admin", "PUT", "/api/v1/dashboards/b-dash", `{"title":"B dash","panels":[{"title":"p","type":"timeseries","queries":[{"expr":"iso_metric"}]}]}`); code != 200 && code != 201 {
		t.Fatalf("b dashboard: %d %s", code, body)
	}
	silence := fmt.Sprintf(`{"matchers":[{"name":"job","value":"b-secret"}],"startsAt":%q,"endsAt":%q,"createdBy":"b","comment":"b-silence"}`,
		time.Now().Format(time.RFC3339), time.Now().Add(time.Hour).Format(time.RFC3339))
	if code, body := call(t, ts, "b-admin", "POST", "/api/v1/silences", silence); code != 200 {
		t.Fatalf("b silence: %d %s", code, body)
	}

	sel := url.QueryEscape(`{__name__=~".+"}`)
	start, end := fmt.Sprint(now/1000-60), fmt.Sprint(now/1000+60)
	reads := []string{
		"/api/v1/query?query=iso_metric",
		"/api/v1/query?query=" + url.QueryEscape(`count({__name__=~".+"})`),
		"/api/v1/query?query=" + url.QueryEscape(`{__tenant__=~".+"}`),
		"/api/v1/query_range?query=iso_metric&start=" + start + "&end=" + end + "&step=15",
		"/api/v1/series?match[]=" + sel,
		"/api/v1/labels",
		"/api/v1/label/__name__/values",
		"/api/v1/label/job/values",
		"/api/v1/label/__tenant__/values",
		"/api/v1/export?match[]=" + sel,
		"/api/v1/graph?format=json&q=name,iso_metric,:eq&s=e-10m&e=now%2B1m",
		"/api/v1/tags",
		"/api/v1/tags/job",
		"/api/v1/status/tsdb",
		"/api/v1/rules",
		"/api/v1/alerts",
		"/api/v1/silences",
		"/api/v1/notifications",
		"/api/v1/dashboards",
		"/api/v1/status/tenants",
		"/api/v1/metadata",
	}
	for _, tc := range []struct {
		reader, admin string
		own           []string // must show on some endpoint
		others        []string // must show on none
	}{
		{"a-read", "a-admin", []string{"a-secret", "a_only_metric", "a-dash"}, []string{"b_only_metric", "team-b", "b-dash", "b-silence", "default-secret", `"2"`}},
		{"b-read", "b-admin", []string{"b-secret", "b_only_metric", "b-dash", "b-silence"}, []string{"a-secret", "a_only_metric", "team-a", "a-dash", "default-secret", "666.125"}},
	} {
		seen := map[string]bool{}
		for _, path := range reads {
			code, body := call(t, ts, tc.reader, "GET", path, "")
			if code != 200 {
				t.Errorf("%s GET %s: %d %s", tc.reader, path, code, body)
				continue
			}
			for _, o := range tc.others {
				if strings.Contains(body, o) {
					t.Errorf("%s GET %s shows %q of another tenant: %.300s", tc.reader, path, o, body)
				}
			}
			if strings.Contains(body, tenant.Label) {
				t.Errorf("%s GET %s shows the internal label %s: %.300s", tc.reader, path, tenant.Label, body)
			}
			for _, o := range tc.own {
				if strings.Contains(body, o) {
					seen[o] = true
				}
			}
		}
		for _, o := range tc.own {
			if !seen[o] {
				t.Errorf("%s never saw its own %q", tc.reader, o)
			}
		}
		// The audit trail shows each tenant's admin only its own entries.
		code, body := call(t, ts, tc.admin, "GET", "/api/v1/audit", "")
		if code != 200 || strings.Contains(body, "team-"+map[string]string{"a-admin": "b", "b-admin": "a"}[tc.admin]) {
			t.Errorf("%s audit: %d %.400s", tc.admin, code, body)
		}
	}

	// b's series kept its value: a's label trick did not overwrite it.
	_, body := call(t, ts, "b-read", "GET", "/api/v1/query?query="+url.QueryEscape(`iso_metric{job="b-secret"}`), "")
	var res struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Data.Result) != 1 || res.Data.Result[0].Value[1] != "2" {
		t.Errorf("b's series after a's overwrite attempt: %s", body)
	}
	// The default tenant (an unbound token, no header) sees neither.
	_, body = call(t, ts, "reader", "GET", "/api/v1/series?match[]="+sel, "")
	if strings.Contains(body, "a-secret") || strings.Contains(body, "b-secret") || !strings.Contains(body, "default-secret") {
		t.Errorf("default tenant series: %s", body)
	}
	// Other tenants may not read the server's configuration or metrics.
	if code, _ := call(t, ts, "a-admin", "GET", "/api/v1/status/config", ""); code != 403 {
		t.Errorf("a-admin reading the server config: %d, want 403", code)
	}
}

// TestTenantLimits checks that each limit answers 429 naming itself, for
// the tenant over it only.
func TestTenantLimits(t *testing.T) {
	s, ts := newTestServer(t, func(c *Config) {
		withAuth(c)
		c.Tenants.Overrides = map[string]tenantOverride{
			"team-a": {Limits: tenant.Limits{MaxSeries: 3, QueryMaxSamples: 2}},
			"team-b": {Limits: tenant.Limits{IngestRate: 100, IngestBurst: 100, QueryConcurrency: 1, MaxBodyBytes: 2048}},
		}
	})
	now := time.Now().UnixMilli()
	lines := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "%s{i=\"%d\"} 1 %d\n", prefix, i, now)
		}
		return b.String()
	}
	code, body := call(t, ts, "a-push", "POST", "/api/v1/import/prometheus", lines("m", 5))
	if code != 429 || !strings.Contains(body, "max_series 3") || !strings.Contains(body, `tenant "team-a"`) {
		t.Errorf("a over max_series: %d %s", code, body)
	}
	// a's query size: its 3 series hold 3 samples, over its limit of 2.
	code, body = call(t, ts, "a-read", "GET", "/api/v1/query?query="+url.QueryEscape("count_over_time(m[1h])"), "")
	if code != 422 || !strings.Contains(body, "sample") {
		t.Errorf("a over query_max_samples: %d %s", code, body)
	}
	// b is not limited by a's quota.
	if code, body := call(t, ts, "b-push", "POST", "/api/v1/import/prometheus", lines("m", 5)); code != 204 && code != 200 {
		t.Errorf("b: %d %s", code, body)
	}
	// b's rate: 100 samples/s with a burst of 100; 5 are spent, 60 more
	// pass, the next 60 do not.
	if code, body := call(t, ts, "b-push", "POST", "/api/v1/import/prometheus", lines("r", 60)); code != 204 && code != 200 {
		t.Errorf("b within its rate: %d %s", code, body)
	}
	code, body = call(t, ts, "b-push", "POST", "/api/v1/import/prometheus", lines("r2", 60))
	if code != 429 || !strings.Contains(body, "100 samples/s") {
		t.Errorf("b over its rate: %d %s", code, body)
	}
	// b's request size.
	code, body = call(t, ts, "b-push", "POST", "/api/v1/import/prometheus", strings.Repeat("# padding line\n", 200))
	if code != 413 || !strings.Contains(body, "2048") {
		t.Errorf("b over max_body_bytes: %d %s", code, body)
	}
	// b's query concurrency: hold its only slot, and a query is refused.
	set, err := s.tenants.get("team-b")
	if err != nil {
		t.Fatal(err)
	}
	if !set.scope.AcquireQuery() {
		t.Fatal("slot taken")
	}
	code, body = call(t, ts, "b-read", "GET", "/api/v1/query?query=up", "")
	set.scope.ReleaseQuery()
	if code != 429 || !strings.Contains(body, "query_concurrency") {
		t.Errorf("b over query_concurrency: %d %s", code, body)
	}
	if code, _ := call(t, ts, "b-read", "GET", "/api/v1/query?query=up", ""); code != 200 {
		t.Errorf("b after the slot is free: %d", code)
	}
	// Limits and usage show on the status endpoint and as metrics.
	_, body = call(t, ts, "ops", "GET", "/api/v1/status/tenants", "")
	if !strings.Contains(body, `"tenant":"team-a"`) || !strings.Contains(body, `"max_series":3`) {
		t.Errorf("status/tenants: %s", body)
	}
	_, body = call(t, ts, "ops", "GET", "/metrics", "")
	if !strings.Contains(body, `stratus_tenant_limit{limit="max_series",tenant="team-a"} 3`) || !strings.Contains(body, `stratus_tenant_series{tenant="team-a"} 3`) {
		t.Errorf("metrics lack tenant limits/usage")
	}
}

// TestTenantRules gives team-a its own rule file: its alert fires on a's
// data, shows in a's API only, and its ALERTS series is a's.
func TestTenantRules(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "a.yml")
	os.WriteFile(rules, []byte(`groups:
  - name: team-a
    interval: 1s
    rules:
      - alert: TeamAMetricHigh
        expr: a_only_metric > 0
        labels: {severity: warning}
        annotations: {summary: "a_only_metric is {{ $value }}"}
`), 0o600)
	_, ts := newTestServer(t, func(c *Config) {
		withAuth(c)
		c.Tenants.Overrides = map[string]tenantOverride{"team-a": {RuleFiles: []string{rules}}}
	})
	now := time.Now().UnixMilli()
	for _, who := range []string{"a-push", "b-push"} {
		call(t, ts, who, "POST", "/api/v1/import/prometheus", fmt.Sprintf("a_only_metric 5 %d\n", now))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := call(t, ts, "a-read", "GET", "/api/v1/alerts", "")
		if strings.Contains(body, "TeamAMetricHigh") && strings.Contains(body, `"state":"firing"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("team-a's alert did not fire: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, path := range []string{"/api/v1/alerts", "/api/v1/rules", "/api/v1/query?query=ALERTS"} {
		if _, body := call(t, ts, "b-read", "GET", path, ""); strings.Contains(body, "TeamAMetricHigh") {
			t.Errorf("team-b sees team-a's rule at %s: %s", path, body)
		}
		if _, body := call(t, ts, "reader", "GET", path, ""); strings.Contains(body, "TeamAMetricHigh") {
			t.Errorf("the default tenant sees team-a's rule at %s: %s", path, body)
		}
	}
	if _, body := call(t, ts, "a-read", "GET", "/api/v1/query?query=ALERTS", ""); !strings.Contains(body, "TeamAMetricHigh") {
		t.Errorf("team-a's ALERTS series missing: %s", body)
	}
}

// TestMaxTenants: a tenant beyond max_tenants is refused with 429 naming
// the limit, and the tenants already served keep working.
func TestMaxTenants(t *testing.T) {
	_, ts := newTestServer(t, func(c *Config) {
		withAuth(c)
		c.Tenants.MaxTenants = 2 // the default tenant and one more
	})
	if code, body := call(t, ts, "a-read", "GET", "/api/v1/labels", ""); code != 200 {
		t.Fatalf("team-a: %d %s", code, body)
	}
	code, body := call(t, ts, "b-read", "GET", "/api/v1/labels", "")
	if code != 429 || !strings.Contains(body, "max_tenants") {
		t.Errorf("team-b over max_tenants: %d %s", code, body)
	}
	if code, _ := call(t, ts, "a-read", "GET", "/api/v1/labels", ""); code != 200 {
		t.Errorf("team-a after the refusal: %d", code)
	}
}
