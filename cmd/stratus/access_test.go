package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-metrics/stratus/internal/auth"
	"github.com/stratus-metrics/stratus/internal/tenant"
	"github.com/stratus-metrics/stratus/tsdb"
)

// Test tokens; every secret is at least 16 characters as the config asks.
var testTokens = []auth.Token{
	{Name: "pusher", Token: "secret-pusher-0001", Roles: []auth.Role{auth.RoleWrite}},
	{Name: "reader", Token: "secret-reader-0001", Roles: []auth.Role{auth.RoleRead}},
	{Name: "admin", Token: "secret-admin-00001", Roles: []auth.Role{auth.RoleAdmin}},
	{Name: "ops", TokenSHA256: auth.HashToken("secret-ops-0000001"), Roles: []auth.Role{auth.RoleWrite, auth.RoleRead, auth.RoleAdmin}},
	{Name: "a-push", Token: "secret-a-push-0001", Roles: []auth.Role{auth.RoleWrite}, Tenant: "team-a"},
	{Name: "a-read", Token: "secret-a-read-0001", Roles: []auth.Role{auth.RoleRead}, Tenant: "team-a"},
	{Name: "a-admin", Token: "secret-a-admin-001", Roles: []auth.Role{auth.RoleRead, auth.RoleAdmin}, Tenant: "team-a"},
	{Name: "b-push", Token: "secret-b-push-0001", Roles: []auth.Role{auth.RoleWrite}, Tenant: "team-b"},
	{Name: "b-read", Token: "secret-b-read-0001", Roles: []auth.Role{auth.RoleRead}, Tenant: "team-b"},
	{Name: "b-admin", Token: "secret-b-admin-001", Roles: []auth.Role{auth.RoleRead, auth.RoleAdmin}, Tenant: "team-b"},
}

// secretOf returns a test token's secret by name.
func secretOf(name string) string {
	for _, tk := range testTokens {
		if tk.Name == name {
			if tk.Token != "" {
				return tk.Token
			}
			return "secret-ops-0000001"
		}
	}
	panic("no test token " + name)
}

// newTestServer builds the whole server in process, as serve does, behind
// a real HTTP listener on loopback.
func newTestServer(t testing.TB, tweak func(*Config)) (*server, *httptest.Server) {
	t.Helper()
	cfg := defaultConfig()
	cfg.DataDir = t.TempDir()
	if tweak != nil {
		tweak(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s := &server{cfg: cfg, logger: slog.New(slog.DiscardHandler), reg: prometheus.NewRegistry(), router: mux.NewRouter()}
	g, err := s.openGate()
	if err != nil {
		t.Fatal(err)
	}
	s.routes()
	db, err := tsdb.Open("", tsdb.DefaultOptions(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.start(ctx, db); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g)
	t.Cleanup(func() {
		ts.Close()
		cancel()
		s.ui.Close()
		s.tenants.close()
		db.Close()
		s.audit.Close()
	})
	return s, ts
}

func withAuth(c *Config) {
	c.Auth = auth.Config{Enabled: true, Tokens: testTokens}
}

// routeList walks the server's routers: the process's own and the default
// tenant's, returning "METHOD template" strings.
func routeList(t *testing.T, s *server) []string {
	t.Helper()
	set, err := s.tenants.get(tenant.Default)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range []*mux.Router{s.router, set.router} {
		r.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
			tpl, err := rt.GetPathTemplate()
			if err != nil {
				tpl, _ = rt.GetPathRegexp()
			}
			if tpl == "/" || tpl == "" {
				return nil // the catch-all that dispatches to the tenant router
			}
			methods, err := rt.GetMethods()
			if err != nil {
				methods = []string{"GET"}
			}
			for _, m := range methods {
				seen[m+" "+tpl] = true
			}
			return nil
		})
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wantRoles is the role every route needs, written independently of
// requiredRole: a route missing here fails TestAuthorizationMatrix, so a
// new route cannot ship without a decision. "" is public.
var wantRoles = map[string]auth.Role{
	"GET /-/healthy": "", "HEAD /-/healthy": "", "GET /-/ready": "", "HEAD /-/ready": "",

	"POST /api/v1/write": auth.RoleWrite, "POST /api/v1/publish": auth.RoleWrite,
	"POST /api/v1/import/prometheus": auth.RoleWrite, "POST /write": auth.RoleWrite,
	"POST /api/v2/write": auth.RoleWrite, "POST /v1/metrics": auth.RoleWrite,

	"GET /": auth.RoleRead, "GET /explore": auth.RoleRead, "GET /dashboards": auth.RoleRead,
	"GET /dashboards/{id}": auth.RoleRead, "GET /dashboards/{id}/edit": auth.RoleRead,
	"GET /alerts": auth.RoleRead, "GET /status": auth.RoleRead, "GET /ui/": auth.RoleRead,
	"GET /audit": auth.RoleRead, "HEAD /audit": auth.RoleRead,
	"HEAD /": auth.RoleRead, "HEAD /explore": auth.RoleRead, "HEAD /dashboards": auth.RoleRead,
	"HEAD /dashboards/{id}": auth.RoleRead, "HEAD /dashboards/{id}/edit": auth.RoleRead,
	"HEAD /alerts": auth.RoleRead, "HEAD /status": auth.RoleRead, "HEAD /ui/": auth.RoleRead,
	"GET /metrics":      auth.RoleRead,
	"GET /api/v1/query": auth.RoleRead, "POST /api/v1/query": auth.RoleRead,
	"GET /api/v1/query_range": auth.RoleRead, "POST /api/v1/query_range": auth.RoleRead,
	"GET /api/v1/series": auth.RoleRead, "POST /api/v1/series": auth.RoleRead,
	"GET /api/v1/labels": auth.RoleRead, "POST /api/v1/labels": auth.RoleRead,
	"GET /api/v1/label/{name}/values": auth.RoleRead, "POST /api/v1/label/{name}/values": auth.RoleRead,
	"GET /api/v1/metadata": auth.RoleRead, "POST /api/v1/metadata": auth.RoleRead,
	"GET /api/v1/query_exemplars": auth.RoleRead, "POST /api/v1/query_exemplars": auth.RoleRead,
	"GET /api/v1/format_query": auth.RoleRead, "POST /api/v1/format_query": auth.RoleRead,
	"GET /api/v1/status/buildinfo": auth.RoleRead, "POST /api/v1/status/buildinfo": auth.RoleRead,
	"GET /api/v1/status/tsdb": auth.RoleRead, "POST /api/v1/status/tsdb": auth.RoleRead,
	"GET /api/v1/status/tenants": auth.RoleRead,
	"GET /api/v1/export":         auth.RoleRead, "POST /api/v1/export": auth.RoleRead,
	"GET /api/v1/graph": auth.RoleRead, "GET /api/v1/tags": auth.RoleRead, "GET /api/v1/tags/{key}": auth.RoleRead,
	"GET /api/v1/rules": auth.RoleRead, "POST /api/v1/rules": auth.RoleRead,
	"GET /api/v1/alerts": auth.RoleRead, "POST /api/v1/alerts": auth.RoleRead,
	"GET /api/v1/silences": auth.RoleRead, "GET /api/v1/notifications": auth.RoleRead,
	"GET /api/v1/dashboards": auth.RoleRead, "GET /api/v1/dashboards/{id}": auth.RoleRead,

	"POST /api/v1/silences": auth.RoleAdmin, "DELETE /api/v1/silence/{id}": auth.RoleAdmin,
	"PUT /api/v1/dashboards/{id}": auth.RoleAdmin, "DELETE /api/v1/dashboards/{id}": auth.RoleAdmin,
	"POST /-/reload": auth.RoleAdmin, "PUT /-/reload": auth.RoleAdmin,
	"GET /api/v1/status/config": auth.RoleAdmin, "POST /api/v1/status/config": auth.RoleAdmin,
	"GET /api/v1/audit": auth.RoleAdmin, "GET /api/v1/audit/verify": auth.RoleAdmin,
	"GET /debug/pprof/": auth.RoleAdmin, "GET /debug/pprof/cmdline": auth.RoleAdmin,
	"GET /debug/pprof/profile": auth.RoleAdmin, "GET /debug/pprof/symbol": auth.RoleAdmin,
	"GET /debug/pprof/trace": auth.RoleAdmin,
}

// concrete turns a route template into a path to request.
func concrete(tpl string) string {
	r := strings.NewReplacer("{id}", "authz-test", "{name}", "job", "{key}", "name")
	p := r.Replace(tpl)
	switch p {
	case "/debug/pprof/profile", "/debug/pprof/trace":
		p += "?seconds=1"
	case "/ui/":
		p += "js/app.js"
	}
	return p
}

// TestAuthorizationMatrix sends every route, with every method it takes,
// without credentials and with a token of each role, over HTTP to the
// whole server, and checks 401 / 403 / admitted.
func TestAuthorizationMatrix(t *testing.T) {
	s, ts := newTestServer(t, withAuth)
	routes := append(routeList(t, s), "GET /api/v1/status/tenants", "GET /", "HEAD /")
	for _, rt := range routes {
		if _, ok := wantRoles[rt]; !ok {
			t.Errorf("route %q has no entry in wantRoles: decide which role it needs", rt)
		}
	}
	for rt, want := range wantRoles {
		method, tpl, _ := strings.Cut(rt, " ")
		if got, public := requiredRole(method, strings.Split(concrete(tpl), "?")[0]); got != want && !(public && want == "") {
			t.Errorf("requiredRole(%s) = %q, want %q", rt, got, want)
		}
		for _, who := range []string{"", "pusher", "reader", "admin"} {
			req, _ := http.NewRequest(method, ts.URL+concrete(tpl), strings.NewReader(""))
			if who != "" {
				req.Header.Set("Authorization", "Bearer "+secretOf(who))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s as %q: %v", rt, who, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			allowed := want == "" || (who == "pusher" && want == auth.RoleWrite) ||
				(who == "reader" && want == auth.RoleRead) || (who == "admin" && want == auth.RoleAdmin)
			switch {
			case allowed && (resp.StatusCode == 401 || resp.StatusCode == 403):
				t.Errorf("%s as %q: %d, want admitted", rt, who, resp.StatusCode)
			case !allowed && who == "" && resp.StatusCode != 401:
				t.Errorf("%s without credentials: %d, want 401", rt, resp.StatusCode)
			case !allowed && who != "" && resp.StatusCode != 403:
				t.Errorf("%s as %q: %d, want 403", rt, who, resp.StatusCode)
			}
			if resp.StatusCode == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", rt)
			}
		}
	}
}

// TestTenantHeaderRules covers the tenant dimension of the matrix: a bound
// token may not act for another tenant, an unbound one may name any, and
// malformed tenant ids are refused.
func TestTenantHeaderRules(t *testing.T) {
	_, ts := newTestServer(t, withAuth)
	for _, tc := range []struct {
		who, header string
		want        int
	}{
		{"a-read", "", 200},
		{"a-read", "team-a", 200},
		{"a-read", "team-b", 403},
		{"reader", "team-b", 200},
		{"reader", "../etc", 400},
		{"reader", strings.Repeat("x", 65), 400},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/labels", nil)
		req.Header.Set("Authorization", "Bearer "+secretOf(tc.who))
		if tc.header != "" {
			req.Header.Set(tenant.HeaderOrgID, tc.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s with %s=%q: %d %s, want %d", tc.who, tenant.HeaderOrgID, tc.header, resp.StatusCode, body, tc.want)
		}
	}
	// Basic auth with the token as password works like the bearer token;
	// a wrong user name does not.
	for user, want := range map[string]int{"a-read": 200, "b-read": 401} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/labels", nil)
		req.SetBasicAuth(user, secretOf("a-read"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("basic auth as %s: %d, want %d", user, resp.StatusCode, want)
		}
	}
	// Refusals are counted by status.
	req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+secretOf("reader"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`stratus_http_denied_total{code="400"} 2`, `stratus_http_denied_total{code="401"} 1`, `stratus_http_denied_total{code="403"} 1`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
