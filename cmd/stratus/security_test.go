package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/stratus-metrics/stratus/internal/auth"
	"github.com/stratus-metrics/stratus/internal/tenant"
)

func TestTokenCommandPrintsAHashThatMatches(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := tokenCmd([]string{"grafana", "read", "admin"}, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	m := regexp.MustCompile(`token \(shown once; give it to the client\): (\S+)[\s\S]*token_sha256: ([0-9a-f]{64})\n\s+roles: \[read, admin\]`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output:\n%s", out.String())
	}
	if auth.HashToken(m[1]) != m[2] {
		t.Errorf("printed hash %s is not the token's %s", m[2], auth.HashToken(m[1]))
	}
	if err := tokenCmd([]string{"x", "root"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `unknown role "root"`) {
		t.Errorf("unknown role: %v", err)
	}
}

func TestSecurityConfigValidation(t *testing.T) {
	cfg := defaultConfig()
	cfg.Auth = auth.Config{Enabled: true}
	cfg.Tenants.Overrides = map[string]tenantOverride{"bad/id": {}, "neg": {Limits: tenant.Limits{MaxSeries: -1}}, tenant.Default: {RuleFiles: []string{"x"}}}
	cfg.TLS = tlsConfig{CertFile: "only-cert.pem"}
	cfg.Server.ReadHeaderTimeout = 0
	cfg.Server.MaxHeaderBytes = 10
	cfg.Egress.Allow = []string{"10.0.0.0/99"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"enabled with no tokens", `tenant id "bad/id"`, "max_series -1", "top-level rule_files", "cert_file and key_file", "read_header_timeout", "max_header_bytes 10", "10.0.0.0/99"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	// Overrides replace only the limits they set.
	tc := tenantsConfig{Defaults: tenant.Limits{MaxSeries: 100, QueryConcurrency: 4}, Overrides: map[string]tenantOverride{"a": {Limits: tenant.Limits{MaxSeries: 5}}}}
	if l := tc.limits("a"); l.MaxSeries != 5 || l.QueryConcurrency != 4 {
		t.Errorf("limits(a) = %+v", l)
	}
	if l := tc.limits("b"); l.MaxSeries != 100 {
		t.Errorf("limits(b) = %+v", l)
	}
}
