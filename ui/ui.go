package ui

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-metrics/stratus/model"
)

// Storage is what the UI needs from the time-series store: appending its
// own metrics (self-scrape) and listing series for the cardinality
// explorer. *tsdb.DB satisfies it. Implementations must be safe for
// concurrent use.
type Storage interface {
	Appender
	// Select returns the series matching all matchers with samples in
	// [mint, maxt]; the UI reads only their labels.
	Select(ctx context.Context, mint, maxt int64, ms ...*model.Matcher) model.SeriesSet
}

// Options configures the UI. Every field is optional.
type Options struct {
	// DataDir holds user dashboards in DataDir/dashboards; "" keeps them
	// in memory only (tests).
	DataDir string
	// Storage returns the store once it is open and nil before (during
	// WAL replay) and after shutdown. Called on every use; it must be
	// cheap and safe for concurrent use.
	Storage func() Storage
	// Cardinality, when set, answers /api/v1/status/tsdb from the index's
	// own statistics; otherwise the UI counts the series' labels itself.
	Cardinality func(topN int) Cardinality
	// Config is the effective configuration, served as YAML by
	// /api/v1/status/config with secret-looking keys redacted.
	Config any
	// Gatherer is the registry the self-scrape loop reads every
	// ScrapeInterval; nil disables self-scrape.
	Gatherer prometheus.Gatherer
	// ScrapeInterval defaults to 10s.
	ScrapeInterval time.Duration
	// Instance is the instance label of self-scraped series (the listen
	// address); job is always "stratus".
	Instance string
	Logger   *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// BuiltinRange, when set, is the relative range ("15m") the built-in
	// dashboards open with instead of their own. `stratus demo` sets it:
	// its data is minutes old, and in the built-ins' 6h a first minute of
	// it is a sliver at the right edge.
	BuiltinRange string
}

// UI serves the web app and its API routes. Create it with New, mount it
// with Register and stop its self-scrape loop with Close.
type UI struct {
	opts       Options
	logger     *slog.Logger
	dashboards *dashboardStore
	assets     *assetSet

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New builds the UI and starts its self-scrape loop (when Gatherer and
// Storage are set). Close stops the loop.
func New(opts Options) *UI {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ScrapeInterval <= 0 {
		opts.ScrapeInterval = 10 * time.Second
	}
	if opts.Storage == nil {
		opts.Storage = func() Storage { return nil }
	}
	u := &UI{
		opts:       opts,
		logger:     opts.Logger,
		dashboards: newDashboardStore(opts.DataDir, opts.Now, opts.BuiltinRange),
		assets:     loadAssets(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel = cancel
	if opts.Gatherer != nil {
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			u.selfScrape(ctx)
		}()
	}
	return u
}

// Close stops the self-scrape loop and waits for it, so that no append
// reaches storage after Close returns. Call it before closing storage.
func (u *UI) Close() {
	u.cancel()
	u.wg.Wait()
}

// pagePaths are the app's pages; each answers with the app shell and the
// browser-side router renders the page.
var pagePaths = []string{"/", "/explore", "/dashboards", "/dashboards/{id}", "/dashboards/{id}/edit", "/alerts", "/status", "/audit"}

// Register mounts the UI's routes on r: RegisterPages and RegisterAPI.
// They do not need storage, so register them on the top-level router,
// before any catch-all.
func (u *UI) Register(r *mux.Router) {
	u.RegisterPages(r)
	u.RegisterAPI(r)
}

// RegisterPages mounts the app shell and its assets, which hold no data.
func (u *UI) RegisterPages(r *mux.Router) {
	for _, p := range pagePaths {
		r.Handle(p, secure(http.HandlerFunc(u.serveShell))).Methods(http.MethodGet, http.MethodHead)
	}
	r.PathPrefix(staticPrefix).Handler(secure(http.HandlerFunc(u.serveAsset))).Methods(http.MethodGet, http.MethodHead)
}

// RegisterAPI mounts the UI's data routes: dashboards and status. A
// multi-tenant server builds one UI per tenant (its own DataDir and
// Storage) and mounts only this part of it on the tenant's router.
func (u *UI) RegisterAPI(r *mux.Router) {
	d := u.dashboards
	r.Handle("/api/v1/dashboards", secure(http.HandlerFunc(d.list))).Methods(http.MethodGet)
	r.Handle("/api/v1/dashboards/{id}", secure(http.HandlerFunc(d.get))).Methods(http.MethodGet)
	r.Handle("/api/v1/dashboards/{id}", secure(http.HandlerFunc(d.put))).Methods(http.MethodPut)
	r.Handle("/api/v1/dashboards/{id}", secure(http.HandlerFunc(d.delete))).Methods(http.MethodDelete)
	r.Handle("/api/v1/status/config", secure(http.HandlerFunc(u.serveConfig))).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/api/v1/status/tsdb", secure(http.HandlerFunc(u.serveTSDBStatus))).Methods(http.MethodGet, http.MethodPost)
}

// ContentSecurityPolicy is sent with every UI response. Scripts, styles,
// fonts and data come only from this origin; there are no inline scripts
// or style attributes, no eval, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secure adds the security headers every UI response carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// Prometheus API envelope, so the UI's endpoints read like the others.

type apiErrorBody struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func writeData(w http.ResponseWriter, code int, data any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}{"success", data})
}

func writeErr(w http.ResponseWriter, code int, typ string, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(apiErrorBody{Status: "error", ErrorType: typ, Error: err.Error()})
}
