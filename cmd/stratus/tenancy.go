package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-metrics/stratus/alert"
	"github.com/stratus-metrics/stratus/ingest"
	"github.com/stratus-metrics/stratus/internal/tenant"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/graphapi"
	"github.com/stratus-metrics/stratus/ui"
)

// tenantSet is everything that serves one tenant: ingest, query, graph,
// alerting and dashboards, built over the tenant's Scope of the store. A
// single-tenant server has one set, for the default tenant, built over the
// store itself; the components never know which.
type tenantSet struct {
	id       string
	scope    *tenant.Scope // nil on a single-tenant server
	router   *mux.Router
	ui       *ui.UI // the tenant's dashboards and status; nil on a single-tenant server
	alerting *alerting
}

// tenantSets builds tenant sets on first use and keeps them.
type tenantSets struct {
	build func(id string) (*tenantSet, error)
	max   int

	mu   sync.RWMutex // guards sets; every request reads it, a new tenant writes it
	sets map[string]*tenantSet
}

// errTooManyTenants is returned by get for a tenant over max_tenants.
var errTooManyTenants = errors.New("too many tenants")

// get returns tenant id's set, building it on first use.
func (t *tenantSets) get(id string) (*tenantSet, error) {
	t.mu.RLock()
	s, ok := t.sets[id]
	t.mu.RUnlock()
	if ok {
		return s, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.sets[id]; ok {
		return s, nil
	}
	if len(t.sets) >= t.max {
		return nil, fmt.Errorf("%w: tenant %q refused: the server already serves its maximum of %d tenants (tenants.max_tenants)", errTooManyTenants, id, t.max)
	}
	s, err := t.build(id)
	if err != nil {
		return nil, fmt.Errorf("start tenant %q: %w", id, err)
	}
	t.sets[id] = s
	return s, nil
}

// all returns the sets built so far, by id.
func (t *tenantSets) all() []*tenantSet {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*tenantSet, 0, len(t.sets))
	for _, s := range t.sets {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// close stops every set's alerting and UI.
func (t *tenantSets) close() {
	for _, s := range t.all() {
		if s.alerting != nil {
			s.alerting.close()
		}
		if s.ui != nil {
			s.ui.Close()
		}
	}
}

// buildTenant wires the components of tenant id.
func (s *server) buildTenant(ctx context.Context, id string) (*tenantSet, error) {
	cfg := s.cfg // a copy: the tenant's limits and rules go into it
	set := &tenantSet{id: id, router: mux.NewRouter()}
	var (
		app    alertAppender = s.db
		q      query.Querier = s.db
		reg                  = prometheus.Registerer(s.reg)
		logger               = s.logger
	)
	if s.cfg.multiTenant() {
		limits := cfg.Tenants.limits(id)
		set.scope = tenant.NewScope(s.db, id, limits)
		app, q = set.scope, set.scope
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"tenant": id}, s.reg)
		logger = s.logger.With("tenant", id)
		if limits.MaxBodyBytes > 0 {
			cfg.Ingest.MaxBodyBytes = limits.MaxBodyBytes
		}
		if limits.QueryMaxSamples > 0 {
			cfg.Query.MaxSamples = limits.QueryMaxSamples
		}
		if id != tenant.Default {
			cfg.DataDir = filepath.Join(s.cfg.DataDir, "tenants", id)
			cfg.RuleFiles = cfg.Tenants.Overrides[id].RuleFiles
			cfg.RulePacks = nil
		}
		set.router.Use(set.queryGate)
	}
	r := set.router
	ingest.NewHandler(app, cfg.Ingest, reg, logger.With("component", "ingest")).Register(r)
	query.NewExportHandler(q).Register(r)
	bi := readBuildInfo()
	qapi := query.NewAPI(q, cfg.Query.APIOptions(logger.With("component", "query"), query.BuildInfo{Version: bi.Version, Revision: bi.Revision, BuildDate: bi.BuildDate, GoVersion: bi.GoVersion}))
	qapi.Register(r)
	graphapi.New(q, qapi.Engine(), graphapi.Options{}).Register(r)
	al, err := startAlerting(&cfg, app, qapi.Engine(), reg, logger)
	if err != nil {
		return nil, err
	}
	set.alerting = al
	al.manager.Register(r)
	r.HandleFunc("/-/reload", al.reloadHandler).Methods(http.MethodPost, http.MethodPut)
	al.reloadOnSIGHUP(ctx)
	if s.cfg.multiTenant() {
		opts := ui.Options{DataDir: cfg.DataDir, Logger: logger.With("component", "ui"),
			Storage: func() ui.Storage { return set.scope }, BuiltinRange: s.dashboardRange}
		if id == tenant.Default {
			opts.Config = s.cfg
		}
		set.ui = ui.New(opts)
		set.ui.RegisterAPI(r)
		go s.recountLoop(ctx, set.scope)
	}
	logger.Debug("tenant started", "tenant", id)
	return set, nil
}

// alertAppender is what a tenant's components write to: the store or the
// tenant's scope of it.
type alertAppender interface {
	ingest.Appender
	alert.Appender
}

// queryPaths are the routes that evaluate queries, which count against a
// tenant's query_concurrency.
var queryPaths = map[string]bool{
	"/api/v1/query": true, "/api/v1/query_range": true, "/api/v1/series": true,
	"/api/v1/export": true, "/api/v1/graph": true,
}

// queryGate answers 429 when the tenant already runs its maximum of
// concurrent queries.
func (t *tenantSet) queryGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !queryPaths[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		if !t.scope.AcquireQuery() {
			w.Header().Set("Retry-After", "1")
			deny(w, r, http.StatusTooManyRequests, fmt.Sprintf("tenant %q already runs its maximum of %d concurrent queries (query_concurrency); retry later", t.id, t.scope.Limits().QueryConcurrency))
			return
		}
		defer t.scope.ReleaseQuery()
		next.ServeHTTP(w, r)
	})
}

// recountLoop recounts a tenant's series every minute: retention removes
// series without telling the scope.
func (s *server) recountLoop(ctx context.Context, sc *tenant.Scope) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sc.Recount()
		}
	}
}

// tenantCollector exports each tenant's limits and usage, so that they can
// be charted and alerted on: stratus_tenant_series and
// stratus_tenant_limit{limit=...}.
type tenantCollector struct{ sets *tenantSets }

var (
	tenantSeriesDesc = prometheus.NewDesc("stratus_tenant_series", "Series a tenant holds in the store.", []string{"tenant"}, nil)
	tenantLimitDesc  = prometheus.NewDesc("stratus_tenant_limit", "A tenant's configured limit; 0 means unlimited.", []string{"tenant", "limit"}, nil)
)

func (c tenantCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- tenantSeriesDesc
	ch <- tenantLimitDesc
}

func (c tenantCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.sets.all() {
		if s.scope == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(tenantSeriesDesc, prometheus.GaugeValue, float64(s.scope.Series()), s.id)
		l := s.scope.Limits()
		for name, v := range map[string]float64{
			"max_series": float64(l.MaxSeries), "ingest_rate": l.IngestRate, "ingest_burst": float64(l.IngestBurst),
			"max_body_bytes": float64(l.MaxBodyBytes), "query_max_samples": float64(l.QueryMaxSamples),
			"query_concurrency": float64(l.QueryConcurrency),
		} {
			ch <- prometheus.MustNewConstMetric(tenantLimitDesc, prometheus.GaugeValue, v, s.id, name)
		}
	}
}

// tenantsAPI serves GET /api/v1/status/tenants: the caller's tenant (all
// tenants for the default tenant's operators) with limits and usage, for
// the status page.
func (s *server) tenantsAPI(w http.ResponseWriter, r *http.Request) {
	c := callerFrom(r.Context())
	type row struct {
		Tenant string        `json:"tenant"`
		Series int64         `json:"series"`
		Limits tenant.Limits `json:"limits"`
	}
	rows := []row{}
	for _, set := range s.tenants.all() {
		if set.scope == nil || (c.tenant != tenant.Default && set.id != c.tenant) {
			continue
		}
		set.scope.Recount() // exact on demand; series can also come from self-scrape and retention
		rows = append(rows, row{Tenant: set.id, Series: set.scope.Series(), Limits: set.scope.Limits()})
	}
	writeAPIData(w, map[string]any{"multi_tenant": s.cfg.multiTenant(), "auth": authMode(&s.cfg), "caller": c.name, "tenant": c.tenant, "tenants": rows})
}
