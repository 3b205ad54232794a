package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stratus-metrics/stratus/ingest"
	"github.com/stratus-metrics/stratus/internal/auth"
	"github.com/stratus-metrics/stratus/internal/egress"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/tsdb"
)

// Config is the whole configuration of `stratus serve`: embedded defaults,
// then the YAML file given with --config, then flags set on the command line.
type Config struct {
	ListenAddr string `yaml:"listen_addr"`
	DataDir    string `yaml:"data_dir"`
	LogLevel   string `yaml:"log_level"`  // debug, info, warn, error
	LogFormat  string `yaml:"log_format"` // text or json

	Storage tsdb.Options  `yaml:"storage"`
	Ingest  ingest.Config `yaml:"ingest"`
	Query   query.Config  `yaml:"query"`

	// RuleFiles are globs of Prometheus rule-group files (also --rules).
	RuleFiles []string `yaml:"rule_files"`
	// RulePacks names built-in rule packs to load: migration, runtime.
	RulePacks []string `yaml:"rule_packs"`
	// EvaluationInterval applies to rule groups that set no interval.
	EvaluationInterval time.Duration `yaml:"evaluation_interval"`
	// ExternalURL is how users reach this Stratus, for links in alerts.
	ExternalURL string `yaml:"external_url"`
	// Alerting is Alertmanager's configuration schema: route, receivers,
	// inhibit_rules; plus alertmanagers, real Alertmanagers to push to.
	Alerting alertingSection `yaml:"alerting"`

	// Auth turns on authentication with tokens and roles (security.go).
	Auth auth.Config `yaml:"auth"`
	// Tenants holds per-tenant limits and rule files.
	Tenants tenantsConfig `yaml:"tenants"`
	// TLS serves HTTPS with a key pair reloaded when it changes.
	TLS tlsConfig `yaml:"tls"`
	// Server holds the HTTP server's timeouts and header limit.
	Server serverConfig `yaml:"server"`
	// Egress restricts where webhooks and Alertmanager pushes may go.
	Egress egress.Config `yaml:"egress"`
	// Runtime holds the Go runtime's memory settings (runtime.go).
	Runtime runtimeConfig `yaml:"runtime"`
}

// defaultConfig returns the embedded defaults.
func defaultConfig() Config {
	return Config{
		ListenAddr: "127.0.0.1:7101",
		DataDir:    "./data",
		LogLevel:   "info",
		LogFormat:  "text",
		Storage:    tsdb.DefaultOptions(),
		Ingest:     ingest.DefaultConfig(),
		Query:      query.DefaultConfig(),

		EvaluationInterval: time.Minute,
		Tenants:            tenantsConfig{MaxTenants: 1000},
		Server:             defaultServerConfig(),
		Runtime:            defaultRuntimeConfig(),
	}
}

// loadConfigFile overlays the YAML file at path on cfg. Unknown keys are an
// error, so a typo does not silently fall back to a default.
func loadConfigFile(cfg *Config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("parse config file %s: %w", path, err)
	}
	return nil
}

// Validate reports every invalid setting at once.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("listen_addr %q: %w", c.ListenAddr, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log_format %q: must be text or json", c.LogFormat))
	}
	if err := c.Storage.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("storage: %w", err))
	}
	if c.EvaluationInterval <= 0 {
		errs = append(errs, fmt.Errorf("evaluation_interval %v: must be positive", c.EvaluationInterval))
	}
	if err := c.Ingest.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("ingest: %w", err))
	}
	if err := c.Query.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("query: %w", err))
	}
	if err := c.validateSecurity(); err != nil {
		errs = append(errs, err)
	}
	if _, err := egress.Parse(c.Egress.Allow); err != nil {
		errs = append(errs, err)
	}
	if err := c.Alerting.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Runtime.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("log_level %q: must be debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	level, _ := parseLogLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
