package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stratus-metrics/stratus/internal/audit"
	"github.com/stratus-metrics/stratus/internal/auth"
	"github.com/stratus-metrics/stratus/internal/tenant"
	"github.com/stratus-metrics/stratus/tsdb"
	"github.com/stratus-metrics/stratus/ui"
)

// parseServeFlags builds the Config: defaults, then --config, then the
// flags the user set explicitly (so a flag always wins over the file).
//
// extra, when not nil, registers more flags (stratus demo's) before parsing.
func parseServeFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (Config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if extra != nil {
		extra(fs)
	}
	fs.SetOutput(stderr)
	configFile := fs.String("config", "", "YAML configuration file (optional; flags override it)")
	listen := fs.String("listen-addr", cfg.ListenAddr, "address the HTTP server listens on")
	dataDir := fs.String("data-dir", cfg.DataDir, "directory for the write-ahead log and checkpoints")
	logLevel := fs.String("log-level", cfg.LogLevel, "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", cfg.LogFormat, "log format: text or json")
	retention := fs.Duration("retention", cfg.Storage.Retention, "how long samples are kept")
	var rules stringList
	fs.Var(&rules, "rules", "rule file glob (repeatable; added to rule_files)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", name, fs.Args())
		return cfg, errUsage
	}
	if *configFile != "" {
		if err := loadConfigFile(&cfg, *configFile); err != nil {
			return cfg, err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen-addr":
			cfg.ListenAddr = *listen
		case "data-dir":
			cfg.DataDir = *dataDir
		case "log-level":
			cfg.LogLevel = *logLevel
		case "log-format":
			cfg.LogFormat = *logFormat
		case "retention":
			cfg.Storage.Retention = *retention
		}
	})
	cfg.RuleFiles = append(cfg.RuleFiles, rules...)
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration: %w", err)
	}
	return cfg, nil
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags("stratus serve", args, stderr, nil)
	if err != nil {
		return err
	}
	logger := newLogger(&cfg, stderr)
	return serve(ctx, cfg, logger, stdout, serveExtras{})
}

// serveExtras lets a command built on serve (stratus demo) add routes that
// answer before storage opens, and act once the server is ready.
type serveExtras struct {
	routes func(*mux.Router)
	ready  func(addr string)
	// dashboardRange is ui.Options.BuiltinRange: the range the built-in
	// dashboards open with, when not their own.
	dashboardRange string
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// server is the running process: its components and HTTP router.
type server struct {
	cfg     Config
	logger  *slog.Logger
	reg     *prometheus.Registry
	router  *mux.Router
	db      *tsdb.DB
	ui      *ui.UI
	audit   *audit.Log
	tenants *tenantSets // nil until storage is open
	// dashboardRange is serveExtras.dashboardRange, for every UI built.
	dashboardRange string
	ready          atomic.Bool
}

// serve runs Stratus until ctx is cancelled, then shuts down gracefully:
// stop accepting requests, finish in-flight ones, close storage.
func serve(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer, extras serveExtras) error {
	s := &server{cfg: cfg, logger: logger, reg: prometheus.NewRegistry(), router: mux.NewRouter(), dashboardRange: extras.dashboardRange}
	defer applyRuntimeConfig(cfg.Runtime, logger)()
	bi := readBuildInfo()
	s.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "stratus_build_info",
			Help:        "Build information of this Stratus binary; the value is 1.",
			ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion},
		}, func() float64 { return 1 }),
	)
	g, err := s.openGate()
	if err != nil {
		return err
	}
	defer s.audit.Close()
	if extras.routes != nil {
		extras.routes(s.router) // before routes() adds its catch-all
	}
	s.routes()

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	scheme := "http"
	if cfg.TLS.enabled() {
		certs, err := newCertReloader(cfg.TLS, func(err error) {
			logger.Error("tls key pair reload failed; the previous one stays in service", "err", err)
		})
		if err != nil {
			ln.Close()
			return err
		}
		ln, scheme = tls.NewListener(ln, certs.serverTLS()), "https"
	}
	httpSrv := &http.Server{
		Handler:           g,
		ReadHeaderTimeout: cfg.Server.ReadHeaderTimeout,
		ReadTimeout:       cfg.Server.ReadTimeout,
		IdleTimeout:       cfg.Server.IdleTimeout,
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	logger.Info("stratus listening", "addr", ln.Addr().String(), "scheme", scheme, "auth", authMode(&cfg), "data_dir", cfg.DataDir, "version", bi.Version)

	// Storage opens after the listener so that /-/healthy answers during
	// WAL replay; /-/ready turns 200 only once it is open.
	db, err := tsdb.Open(cfg.DataDir, cfg.Storage, s.reg, logger.With("component", "tsdb"))
	if err != nil {
		httpSrv.Close()
		s.ui.Close()
		return fmt.Errorf("open storage: %w", err)
	}
	tctx, stopTenants := context.WithCancel(context.Background())
	defer stopTenants()
	if err := s.start(tctx, db); err != nil {
		httpSrv.Close()
		s.ui.Close()
		db.Close()
		return err
	}
	sets := s.tenants
	fmt.Fprintf(stdout, "Stratus is ready at %s://%s/\n", scheme, ln.Addr())
	if extras.ready != nil {
		extras.ready(ln.Addr().String())
	}

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-serveErr:
		s.ui.Close()
		sets.close()
		db.Close()
		return fmt.Errorf("http server: %w", err)
	}
	s.ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("http shutdown incomplete", "err", err)
	}
	s.ui.Close() // its self-scrape appends to db
	stopTenants()
	sets.close()
	if err := db.Close(); err != nil {
		return fmt.Errorf("close storage: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// start serves from db: it builds the default tenant's components (the
// only ones of a single-tenant server; a multi-tenant server builds the
// others on their first request) and turns ready.
func (s *server) start(ctx context.Context, db *tsdb.DB) error {
	s.db = db
	sets := &tenantSets{max: s.cfg.Tenants.MaxTenants, sets: map[string]*tenantSet{},
		build: func(id string) (*tenantSet, error) { return s.buildTenant(ctx, id) }}
	if _, err := sets.get(tenant.Default); err != nil {
		return err
	}
	s.tenants = sets
	if s.cfg.multiTenant() {
		s.reg.MustRegister(tenantCollector{sets: sets})
	}
	s.ready.Store(true)
	return nil
}

// openGate opens the audit log, records the configuration this process
// starts with, and builds the access-control middleware.
func (s *server) openGate() (*gate, error) {
	log, broken, err := audit.Open(filepath.Join(s.cfg.DataDir, "audit"))
	if err != nil {
		return nil, err
	}
	if broken != 0 {
		s.logger.Error("audit log chain is broken: an entry was modified or removed", "first_bad_seq", broken)
	}
	s.audit = log
	g := &gate{cfg: &s.cfg, audit: log, logger: s.logger.With("component", "auth"), next: s.router,
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_http_denied_total",
			Help: "Requests refused by the access gate, by HTTP status (401 no or bad credentials, 403 role or tenant, 400 bad tenant id).",
		}, []string{"code"})}
	s.reg.MustRegister(g.denied)
	if s.cfg.Auth.Enabled {
		if g.authn, err = auth.New(s.cfg.Auth); err != nil {
			log.Close()
			return nil, err
		}
	}
	if err := recordConfig(log, &s.cfg); err != nil {
		log.Close()
		return nil, err
	}
	return g, nil
}

// routes registers the process-level endpoints; each component registers
// its own API routes on the same router.
func (s *server) routes() {
	r := s.router
	r.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Stratus is Healthy.")
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "Stratus is not ready: storage is opening.", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Stratus is Ready.")
	}).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	r.HandleFunc("/debug/pprof/", pprof.Index)
	r.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	r.HandleFunc("/debug/pprof/profile", pprof.Profile)
	r.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	r.HandleFunc("/debug/pprof/trace", pprof.Trace)
	r.PathPrefix("/debug/pprof/").HandlerFunc(pprof.Index)

	// The web UI's pages and assets answer during WAL replay too.
	s.ui = ui.New(ui.Options{DataDir: s.cfg.DataDir, Config: s.cfg, Gatherer: s.reg, Instance: s.cfg.ListenAddr, Logger: s.logger.With("component", "ui"),
		BuiltinRange: s.dashboardRange,
		Cardinality: cardinalityFrom(func() *tsdb.DB {
			if !s.ready.Load() {
				return nil
			}
			return s.db
		}),
		Storage: func() ui.Storage {
			if !s.ready.Load() {
				return nil
			}
			return s.db
		}})
	if s.cfg.multiTenant() {
		s.ui.RegisterPages(r) // each tenant's set serves its own dashboards
	} else {
		s.ui.Register(r)
	}
	aa := auditAPI{log: s.audit}
	r.HandleFunc("/api/v1/audit", aa.list).Methods(http.MethodGet)
	r.HandleFunc("/api/v1/audit/verify", aa.verify).Methods(http.MethodGet)

	// Everything else waits for storage: during WAL replay clients get a
	// retryable 503 rather than a 404. Then it goes to the caller's
	// tenant's components.
	r.PathPrefix("/").HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !s.ready.Load() {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "Stratus is starting: storage is opening.", http.StatusServiceUnavailable)
			return
		}
		if req.URL.Path == "/api/v1/status/tenants" {
			s.tenantsAPI(w, req)
			return
		}
		set, err := s.tenants.get(callerFrom(req.Context()).tenant)
		if errors.Is(err, errTooManyTenants) {
			deny(w, req, http.StatusTooManyRequests, err.Error())
			return
		}
		if err != nil {
			s.logger.Error("tenant start failed", "err", err)
			deny(w, req, http.StatusServiceUnavailable, err.Error())
			return
		}
		set.router.ServeHTTP(w, req)
	})
}
