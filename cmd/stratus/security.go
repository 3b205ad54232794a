package main

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/stratus-metrics/stratus/internal/audit"
	"github.com/stratus-metrics/stratus/internal/auth"
	"github.com/stratus-metrics/stratus/internal/tenant"
)

// tenantsConfig is the `tenants:` section: limits for every tenant, and
// per tenant overrides and rule files.
type tenantsConfig struct {
	// Defaults apply to every tenant, the default one included.
	Defaults tenant.Limits `yaml:"defaults"`
	// Overrides replace, per tenant id, the default limits they set (a
	// zero field keeps the default) and add the tenant's rule files.
	Overrides map[string]tenantOverride `yaml:"overrides"`
	// MaxTenants caps how many tenants the server serves at once (each
	// has its own handlers, alert manager and dashboards); a request for
	// one more is refused. Default 1000.
	MaxTenants int `yaml:"max_tenants"`
}

// tenantOverride is one tenant's entry under tenants.overrides.
type tenantOverride struct {
	tenant.Limits `yaml:",inline"`
	// RuleFiles are globs of the tenant's rule files. The default tenant's
	// rules are the server's rule_files and rule_packs.
	RuleFiles []string `yaml:"rule_files"`
}

// limits returns the effective limits of tenant id.
func (c tenantsConfig) limits(id string) tenant.Limits {
	l := c.Defaults
	o, ok := c.Overrides[id]
	if !ok {
		return l
	}
	override(&l.MaxSeries, o.MaxSeries)
	override(&l.IngestRate, o.IngestRate)
	override(&l.IngestBurst, o.IngestBurst)
	override(&l.MaxBodyBytes, o.MaxBodyBytes)
	override(&l.QueryMaxSamples, o.QueryMaxSamples)
	override(&l.QueryConcurrency, o.QueryConcurrency)
	return l
}

// override sets *dst to v unless v is zero (not set in the override).
func override[T comparable](dst *T, v T) {
	var zero T
	if v != zero {
		*dst = v
	}
}

func (c tenantsConfig) validate() error {
	var errs []error
	if err := c.Defaults.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("tenants: defaults: %w", err))
	}
	if c.MaxTenants < 0 {
		errs = append(errs, fmt.Errorf("tenants: max_tenants %d: must not be negative", c.MaxTenants))
	}
	for id, o := range c.Overrides {
		if err := tenant.ValidID(id); err != nil {
			errs = append(errs, fmt.Errorf("tenants: overrides: %w", err))
		}
		if err := o.Limits.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("tenants: overrides: %s: %w", id, err))
		}
		if id == tenant.Default && len(o.RuleFiles) > 0 {
			errs = append(errs, fmt.Errorf("tenants: overrides: %s: rule_files: the default tenant's rules are the top-level rule_files", id))
		}
	}
	return errors.Join(errs...)
}

// tlsConfig is the `tls:` section: serve HTTPS with this key pair.
type tlsConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

func (c tlsConfig) enabled() bool { return c.CertFile != "" || c.KeyFile != "" }

func (c tlsConfig) validate() error {
	if !c.enabled() {
		return nil
	}
	if c.CertFile == "" || c.KeyFile == "" {
		return errors.New("tls: cert_file and key_file must both be set")
	}
	if _, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
		return fmt.Errorf("tls: load key pair: %w", err)
	}
	return nil
}

// serverConfig is the `server:` section: the HTTP server's limits, which
// protect it from slow and oversized clients.
type serverConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers: a client that
	// trickles them (slowloris) is cut off.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes keep-alive connections idle this long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes caps the request line and headers.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
}

func defaultServerConfig() serverConfig {
	return serverConfig{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

func (c serverConfig) validate() error {
	var errs []error
	if c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.IdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("server: read_header_timeout (%v), read_timeout (%v) and idle_timeout (%v) must be positive", c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout))
	}
	if c.MaxHeaderBytes < 4096 {
		errs = append(errs, fmt.Errorf("server: max_header_bytes %d: must be at least 4096", c.MaxHeaderBytes))
	}
	return errors.Join(errs...)
}

// validateSecurity checks the auth, tenants, tls and server sections.
func (c *Config) validateSecurity() error {
	return errors.Join(
		c.Auth.Validate(func(id string) error { return tenant.ValidID(id) }),
		c.Tenants.validate(),
		c.TLS.validate(),
		c.Server.validate(),
	)
}

// multiTenant reports whether requests are split by tenant: with
// authentication on, or with a trusted X-Scope-OrgID header.
func (c *Config) multiTenant() bool { return c.Auth.Enabled || c.Auth.TrustTenantHeader }

// certReloader serves the key pair of the tls section, reloading it when
// either file changes on disk (checked at most once a second), so that a
// renewed certificate is picked up without a restart. A pair that fails to
// load keeps the previous one in service.
type certReloader struct {
	certFile, keyFile string
	onError           func(error)

	mu      sync.Mutex // guards the fields below
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

func newCertReloader(c tlsConfig, onError func(error)) (*certReloader, error) {
	r := &certReloader{certFile: c.CertFile, keyFile: c.KeyFile, onError: onError}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) newest() (time.Time, error) {
	var t time.Time
	for _, p := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return t, err
		}
		if fi.ModTime().After(t) {
			t = fi.ModTime()
		}
	}
	return t, nil
}

func (r *certReloader) load() error {
	mt, err := r.newest()
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load key pair: %w", err)
	}
	r.mu.Lock()
	r.cert, r.modTime, r.checked = &cert, mt, time.Now()
	r.mu.Unlock()
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	stale := time.Since(r.checked) >= time.Second
	if stale {
		r.checked = time.Now()
	}
	cert, mt := r.cert, r.modTime
	r.mu.Unlock()
	if stale {
		if t, err := r.newest(); err == nil && t.After(mt) {
			if err := r.load(); err != nil && r.onError != nil {
				r.onError(err)
			} else if err == nil {
				r.mu.Lock()
				cert = r.cert
				r.mu.Unlock()
			}
		}
	}
	return cert, nil
}

// serverTLS returns the server's TLS configuration.
func (r *certReloader) serverTLS() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.getCertificate}
}

// authEnabled is a small helper for log lines.
func authMode(c *Config) string {
	switch {
	case c.Auth.Enabled:
		return fmt.Sprintf("tokens (%d)", len(c.Auth.Tokens))
	case c.Auth.TrustTenantHeader:
		return "off, tenants from " + tenant.HeaderOrgID
	}
	return "off"
}

// tokenCmd is `stratus token NAME [ROLE...]`: it makes a random token
// and prints it once, with the auth.tokens entry that holds only its hash,
// so the secret itself never has to be written into a config file.
func tokenCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: stratus token NAME [write|read|admin ...]   (default roles: read)")
		return errUsage
	}
	roles := []auth.Role{auth.RoleRead}
	if len(args) > 1 {
		roles = nil
		for _, r := range args[1:] {
			roles = append(roles, auth.Role(r))
		}
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("make token: %w", err)
	}
	secret := "st_" + base64.RawURLEncoding.EncodeToString(raw[:])
	entry := auth.Token{Name: args[0], TokenSHA256: auth.HashToken(secret), Roles: roles}
	if err := (auth.Config{Tokens: []auth.Token{entry}}).Validate(nil); err != nil {
		return err
	}
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	fmt.Fprintf(stdout, "token (shown once; give it to the client): %s\n\nauth:\n  tokens:\n    - name: %s\n      token_sha256: %s\n      roles: [%s]\n",
		secret, entry.Name, entry.TokenSHA256, strings.Join(names, ", "))
	return nil
}

// recordConfig appends a config.load entry to the audit log: who may do
// what (token names, roles, tenants; never secrets), the tenants' limits,
// TLS and egress, with the previous start's summary as before, so a change
// of tokens or limits between two starts shows as one entry.
func recordConfig(log *audit.Log, c *Config) error {
	type tokenSummary struct {
		Name   string      `json:"name"`
		Roles  []auth.Role `json:"roles"`
		Tenant string      `json:"tenant,omitempty"`
	}
	sum := struct {
		AuthEnabled       bool                      `json:"auth_enabled"`
		TrustTenantHeader bool                      `json:"trust_tenant_header"`
		Tokens            []tokenSummary            `json:"tokens"`
		TenantDefaults    tenant.Limits             `json:"tenant_defaults"`
		TenantOverrides   map[string]tenantOverride `json:"tenant_overrides,omitempty"`
		TLS               bool                      `json:"tls"`
		EgressAllow       []string                  `json:"egress_allow,omitempty"`
		RuleFiles         []string                  `json:"rule_files,omitempty"`
		RulePacks         []string                  `json:"rule_packs,omitempty"`
	}{
		AuthEnabled: c.Auth.Enabled, TrustTenantHeader: c.Auth.TrustTenantHeader, Tokens: []tokenSummary{},
		TenantDefaults: c.Tenants.Defaults, TenantOverrides: c.Tenants.Overrides, TLS: c.TLS.enabled(),
		EgressAllow: c.Egress.Allow, RuleFiles: c.RuleFiles, RulePacks: c.RulePacks,
	}
	for _, t := range c.Auth.Tokens {
		sum.Tokens = append(sum.Tokens, tokenSummary{Name: t.Name, Roles: t.Roles, Tenant: t.Tenant})
	}
	after, err := json.Marshal(sum)
	if err != nil {
		return fmt.Errorf("summarise configuration for the audit log: %w", err)
	}
	before := ""
	prev, err := log.Entries(audit.Query{Action: configLoadAction})
	if err != nil {
		return err
	}
	if len(prev) > 0 {
		before = prev[len(prev)-1].After
	}
	_, err = log.Append(audit.Entry{Actor: "system", Tenant: tenant.Default, Action: configLoadAction, Before: before, After: string(after)})
	return err
}

const configLoadAction = "config.load"
