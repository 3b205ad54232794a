package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-metrics/stratus/internal/audit"
	"github.com/stratus-metrics/stratus/internal/auth"
	"github.com/stratus-metrics/stratus/internal/tenant"
)

// Access control: every request passes the gate, which
//
//  1. lets /-/healthy and /-/ready through (load balancers and the
//     quick start need them without credentials);
//  2. with authentication on, finds the caller (401 without valid
//     credentials) and checks the role the route needs (403);
//  3. decides the tenant: the token's, else X-Scope-OrgID where trusted,
//     else the default tenant; a token bound to a tenant may not act for
//     another (403);
//  4. records changes and admin calls in the audit log, with before and
//     after where the route has a readable resource.
//
// The role of a route is decided here, from its method and path, with
// "admin" for anything not listed, so that a route added later is closed
// until someone decides otherwise. TestAuthorizationMatrix walks every
// registered route to keep this table honest.

// ingestPaths take pushed data: the write role.
var ingestPaths = map[string]bool{
	"/api/v1/write": true, "/api/v1/publish": true, "/api/v1/import/prometheus": true,
	"/write": true, "/api/v2/write": true, "/v1/metrics": true,
}

// readPostPaths are reads that also accept POST (form-encoded queries).
var readPostPaths = map[string]bool{
	"/api/v1/query": true, "/api/v1/query_range": true, "/api/v1/series": true,
	"/api/v1/labels": true, "/api/v1/query_exemplars": true, "/api/v1/format_query": true,
	"/api/v1/export": true, "/api/v1/rules": true, "/api/v1/alerts": true,
	"/api/v1/status/tsdb": true, "/api/v1/metadata": true, "/api/v1/status/buildinfo": true,
}

// adminPrefixes need admin whatever the method.
var adminPrefixes = []string{"/debug/pprof", "/api/v1/status/config", "/api/v1/audit", "/-/reload", "/api/v1/admin/"}

// publicPaths need no credentials.
var publicPaths = map[string]bool{"/-/healthy": true, "/-/ready": true}

// requiredRole returns the role a request needs; public reports a route
// open to anyone.
func requiredRole(method, path string) (role auth.Role, public bool) {
	if publicPaths[path] {
		return "", true
	}
	for _, p := range adminPrefixes {
		if strings.HasPrefix(path, p) {
			return auth.RoleAdmin, false
		}
	}
	if ingestPaths[path] && method == http.MethodPost {
		return auth.RoleWrite, false
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		return auth.RoleRead, false
	case http.MethodPost:
		if readPostPaths[path] || (strings.HasPrefix(path, "/api/v1/label/") && strings.HasSuffix(path, "/values")) {
			return auth.RoleRead, false
		}
	}
	return auth.RoleAdmin, false
}

// caller is who a request acts as, kept in its context.
type caller struct {
	name   string // token name; "anonymous" with auth off
	tenant string
	remote string
}

type callerKey struct{}

func callerFrom(ctx context.Context) caller {
	if c, ok := ctx.Value(callerKey{}).(caller); ok {
		return c
	}
	return caller{name: "anonymous", tenant: tenant.Default}
}

// gate is the access-control middleware in front of the whole router.
type gate struct {
	cfg    *Config
	authn  *auth.Authenticator // nil with auth off
	audit  *audit.Log
	logger *slog.Logger
	// next is the whole router; snapshots for before and after are read
	// through it too, with the caller's context, so they see what the
	// caller sees.
	next http.Handler
	// denied counts refusals by status (stratus_http_denied_total), so
	// that credential guessing or a misconfigured client shows on a graph.
	denied *prometheus.CounterVec
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	role, public := requiredRole(r.Method, r.URL.Path)
	if public {
		g.next.ServeHTTP(w, r)
		return
	}
	c := caller{name: "anonymous", tenant: tenant.Default, remote: remoteAddr(r)}
	bound := ""
	if g.authn != nil {
		p, err := g.authn.Authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Basic realm="Stratus", charset="UTF-8"`)
			g.deny(w, r, http.StatusUnauthorized, err.Error())
			return
		}
		c.name, bound = p.Name, p.Tenant
		if bound != "" {
			c.tenant = bound
		}
		if !p.Has(role) {
			msg := fmt.Sprintf("token %q lacks the %s role that %s %s needs", p.Name, role, r.Method, r.URL.Path)
			if role == auth.RoleAdmin {
				g.record(c, r, http.StatusForbidden, "", "")
			}
			g.deny(w, r, http.StatusForbidden, msg)
			return
		}
	}
	if g.cfg.multiTenant() {
		id, status, msg := g.tenantOf(r, bound, g.authn != nil)
		if status != 0 {
			g.deny(w, r, status, msg)
			return
		}
		c.tenant = id
		if status, msg := tenantOnlyRoute(r.URL.Path, id); status != 0 {
			g.deny(w, r, status, msg)
			return
		}
	}
	r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
	if !audited(role, r.Method, r.URL.Path) {
		g.next.ServeHTTP(w, r)
		return
	}
	before := g.snapshot(r)
	var body []byte
	if r.Body != nil && r.Method != http.MethodGet {
		// Bodies of admin calls are small (a dashboard, a silence); read
		// up to the audit's field size and hand the same bytes on.
		body, _ = io.ReadAll(io.LimitReader(r.Body, audit.MaxField+1))
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	g.next.ServeHTTP(sw, r)
	after := string(body)
	if snap := g.snapshot(r); snap != "" || r.Method == http.MethodDelete {
		after = snap
	}
	g.record(c, r, sw.status, before, after)
}

// tenantOf returns the request's tenant, or a status and message refusing
// it.
func (g *gate) tenantOf(r *http.Request, bound string, authOn bool) (string, int, string) {
	hdr := r.Header.Get(tenant.HeaderOrgID)
	switch {
	case bound != "":
		if hdr != "" && hdr != bound {
			return "", http.StatusForbidden, fmt.Sprintf("this token is bound to tenant %q; it cannot act for %s %q", bound, tenant.HeaderOrgID, hdr)
		}
		return bound, 0, ""
	case hdr == "":
		return tenant.Default, 0, ""
	case authOn || g.cfg.Auth.TrustTenantHeader:
		if err := tenant.ValidID(hdr); err != nil {
			return "", http.StatusBadRequest, fmt.Sprintf("%s: %v", tenant.HeaderOrgID, err)
		}
		return hdr, 0, ""
	}
	return tenant.Default, 0, ""
}

// tenantOnlyRoute refuses routes that show the whole server to tenants
// other than the default one: the configuration (which names every
// tenant) and the process's own internals.
func tenantOnlyRoute(path, id string) (int, string) {
	if id == tenant.Default {
		return 0, ""
	}
	for _, p := range []string{"/api/v1/status/config", "/debug/pprof", "/metrics"} {
		if strings.HasPrefix(path, p) {
			return http.StatusForbidden, fmt.Sprintf("%s shows the whole server; only the default tenant's operators may read it", p)
		}
	}
	return 0, ""
}

// audited reports whether a call goes into the audit log: every admin
// call (every change other than a data push needs admin), except reading
// the audit log itself, which would otherwise grow with every look at it.
func audited(role auth.Role, method, path string) bool {
	if role != auth.RoleAdmin {
		return false
	}
	return !(method == http.MethodGet && strings.HasPrefix(path, "/api/v1/audit"))
}

// snapshotPath is the readable resource behind a change, for before and
// after: a dashboard, or the rules a reload replaces.
func snapshotPath(method, path string) string {
	switch {
	case method == http.MethodGet || method == http.MethodHead:
		return ""
	case strings.HasPrefix(path, "/api/v1/dashboards/"):
		return path
	case path == "/-/reload":
		return "/api/v1/rules"
	}
	return ""
}

// snapshot reads the resource behind r as the caller would see it.
func (g *gate) snapshot(r *http.Request) string {
	p := snapshotPath(r.Method, r.URL.Path)
	if p == "" {
		return ""
	}
	req := httptest.NewRequestWithContext(r.Context(), http.MethodGet, p, nil)
	rec := httptest.NewRecorder()
	g.next.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return ""
	}
	return rec.Body.String()
}

func (g *gate) record(c caller, r *http.Request, status int, before, after string) {
	if g.audit == nil {
		return
	}
	if _, err := g.audit.Append(audit.Entry{
		Actor: c.name, Tenant: c.tenant, Remote: remoteAddr(r),
		Action: r.Method + " " + r.URL.Path, Status: status, Before: before, After: after,
	}); err != nil {
		g.logger.Error("audit log append failed", "action", r.Method+" "+r.URL.Path, "err", err)
	}
}

// deny answers a refused request and counts it.
func (g *gate) deny(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if g.denied != nil {
		g.denied.WithLabelValues(strconv.Itoa(status)).Inc()
	}
	deny(w, r, status, msg)
}

// deny answers a refused request: JSON for API paths, text otherwise.
func deny(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		typ := map[int]string{401: "unauthorized", 403: "forbidden", 400: "bad_data", 429: "too_many_requests"}[status]
		json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": msg})
		return
	}
	http.Error(w, msg, status)
}

func remoteAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// statusWriter records the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// auditAPI serves GET /api/v1/audit (entries, newest last; ?after=seq,
// ?limit=n) and GET /api/v1/audit/verify (the chain check). An admin of
// the default tenant sees every entry; other tenants' admins see their
// own tenant's.
type auditAPI struct{ log *audit.Log }

func (a auditAPI) list(w http.ResponseWriter, r *http.Request) {
	q := audit.Query{}
	if c := callerFrom(r.Context()); c.tenant != tenant.Default {
		q.Tenant = c.tenant
	}
	for name, dst := range map[string]*int64{"after": &q.After} {
		if v := r.FormValue(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				deny(w, r, http.StatusBadRequest, fmt.Sprintf("invalid parameter %q: %q is not a non-negative integer", name, v))
				return
			}
			*dst = n
		}
	}
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			deny(w, r, http.StatusBadRequest, fmt.Sprintf("invalid parameter \"limit\": %q is not a positive integer", v))
			return
		}
		q.Limit = n
	}
	es, err := a.log.Entries(q)
	if err != nil {
		deny(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	if es == nil {
		es = []audit.Entry{}
	}
	writeAPIData(w, es)
}

func (a auditAPI) verify(w http.ResponseWriter, r *http.Request) {
	res, err := a.log.Verify()
	if err != nil {
		deny(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	writeAPIData(w, res)
}

func writeAPIData(w http.ResponseWriter, data any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": data})
}
