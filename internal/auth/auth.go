// Package auth authenticates HTTP requests with bearer tokens, or the same
// tokens sent as basic-auth passwords for clients that only speak basic
// auth (Prometheus remote write, Grafana, a browser). A token has a name,
// roles (write: push data; read: query and UI; admin: rules, silences,
// dashboards, configuration, audit) and optionally a tenant it is bound to.
//
// Tokens are kept only as SHA-256 hashes: the configuration may hold the
// hash (token_sha256, the recommended form, printed by `stratus token`) or
// the token itself, which is hashed when the configuration is loaded and
// then forgotten. A presented token is hashed and compared with every
// configured hash in constant time, so neither the comparison nor the
// position of the matching token shows in the response time. No token or
// Authorization header is ever logged or echoed in an error.
//
// Which role a route needs, and which tenant a request acts for, is
// decided by cmd/, which knows the routes; this package answers only who
// is calling.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Role is what a token may do.
type Role string

// The roles. Admin does not imply read or write: a token gets each role it
// needs, so an audit shows exactly what a token could do.
const (
	RoleWrite Role = "write"
	RoleRead  Role = "read"
	RoleAdmin Role = "admin"
)

// Token configures one credential.
type Token struct {
	// Name identifies the token in logs and the audit trail, and is the
	// basic-auth user name.
	Name string `yaml:"name"`
	// Token is the secret in clear; prefer TokenSHA256. Exactly one of the
	// two is set.
	Token string `yaml:"token"`
	// TokenSHA256 is the hex SHA-256 of the secret.
	TokenSHA256 string `yaml:"token_sha256"`
	Roles       []Role `yaml:"roles"`
	// Tenant binds the token to one tenant; empty lets the request name
	// its tenant with X-Scope-OrgID (a gateway's or an operator's token).
	Tenant string `yaml:"tenant"`
}

// Config is the auth section of the configuration.
type Config struct {
	// Enabled turns authentication on; off, every request is anonymous
	// and may do anything (the local quick start).
	Enabled bool    `yaml:"enabled"`
	Tokens  []Token `yaml:"tokens"`
	// TrustTenantHeader, with authentication off, takes each request's
	// tenant from X-Scope-OrgID: for a Stratus behind a gateway that
	// authenticates and sets the header. With authentication on the header
	// is honoured for tokens bound to no tenant.
	TrustTenantHeader bool `yaml:"trust_tenant_header"`
}

// Validate reports every malformed token at once, naming it by its name or
// position, never by its secret.
func (c Config) Validate(validTenant func(string) error) error {
	var errs []error
	if c.Enabled && len(c.Tokens) == 0 {
		errs = append(errs, errors.New("auth: enabled with no tokens: nobody could call the server"))
	}
	seen := map[string]bool{}
	for i, t := range c.Tokens {
		where := fmt.Sprintf("auth: tokens[%d] (%q)", i, t.Name)
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("auth: tokens[%d]: name is required", i))
		} else if seen[t.Name] {
			errs = append(errs, fmt.Errorf("%s: duplicate name", where))
		}
		seen[t.Name] = true
		switch {
		case t.Token == "" && t.TokenSHA256 == "":
			errs = append(errs, fmt.Errorf("%s: one of token or token_sha256 is required", where))
		case t.Token != "" && t.TokenSHA256 != "":
			errs = append(errs, fmt.Errorf("%s: set token or token_sha256, not both", where))
		case t.Token != "" && len(t.Token) < 16:
			errs = append(errs, fmt.Errorf("%s: token is %d characters; use at least 16 (stratus token makes one)", where, len(t.Token)))
		case t.TokenSHA256 != "":
			if b, err := hex.DecodeString(t.TokenSHA256); err != nil || len(b) != sha256.Size {
				errs = append(errs, fmt.Errorf("%s: token_sha256 must be 64 hex digits", where))
			}
		}
		if len(t.Roles) == 0 {
			errs = append(errs, fmt.Errorf("%s: roles must list at least one of write, read, admin", where))
		}
		for _, r := range t.Roles {
			if r != RoleWrite && r != RoleRead && r != RoleAdmin {
				errs = append(errs, fmt.Errorf("%s: unknown role %q (write, read, admin)", where, r))
			}
		}
		if t.Tenant != "" && validTenant != nil {
			if err := validTenant(t.Tenant); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Principal is an authenticated caller.
type Principal struct {
	Name   string
	Roles  []Role
	Tenant string // bound tenant; "" when the token is bound to none
}

// Has reports whether p holds role.
func (p *Principal) Has(role Role) bool { return slices.Contains(p.Roles, role) }

// Errors of Authenticate. Their texts are safe to send to the client.
var (
	ErrNoCredentials  = errors.New("no credentials: send Authorization: Bearer <token> or basic auth with the token as password")
	ErrBadCredentials = errors.New("invalid credentials")
)

type entry struct {
	name   string
	hash   [sha256.Size]byte
	roles  []Role
	tenant string
}

// Authenticator checks credentials against the configured tokens. It is
// immutable and safe for concurrent use.
type Authenticator struct {
	entries []entry
}

// New hashes the configured tokens. cfg must have passed Validate.
func New(cfg Config) (*Authenticator, error) {
	a := &Authenticator{}
	for i, t := range cfg.Tokens {
		e := entry{name: t.Name, roles: slices.Clone(t.Roles), tenant: t.Tenant}
		if t.Token != "" {
			e.hash = sha256.Sum256([]byte(t.Token))
		} else if b, err := hex.DecodeString(t.TokenSHA256); err == nil && len(b) == sha256.Size {
			copy(e.hash[:], b)
		} else {
			return nil, fmt.Errorf("auth: tokens[%d] (%q): token_sha256 must be 64 hex digits", i, t.Name)
		}
		a.entries = append(a.entries, e)
	}
	return a, nil
}

// HashToken returns the hex SHA-256 of a token, the form token_sha256
// takes.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Authenticate returns who sent r, or ErrNoCredentials / ErrBadCredentials.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, ErrNoCredentials
	}
	c, err := ParseAuthorization(h)
	if err != nil {
		return nil, err
	}
	return a.check(c)
}

// check finds the token matching c. Every entry is compared, whatever
// matched first, so timing does not reveal which one matched.
func (a *Authenticator) check(c Credentials) (*Principal, error) {
	sum := sha256.Sum256([]byte(c.Secret))
	found := -1
	for i := range a.entries {
		e := &a.entries[i]
		ok := subtle.ConstantTimeCompare(sum[:], e.hash[:])
		if c.Basic {
			ok &= subtle.ConstantTimeCompare([]byte(c.User), []byte(e.name))
		}
		if ok == 1 && found < 0 {
			found = i
		}
	}
	if found < 0 {
		return nil, ErrBadCredentials
	}
	e := a.entries[found]
	return &Principal{Name: e.name, Roles: e.roles, Tenant: e.tenant}, nil
}

// Credentials are what an Authorization header carries.
type Credentials struct {
	Basic  bool   // basic auth: User and Secret (the password)
	User   string // basic-auth user name
	Secret string // bearer token, or basic-auth password
}

// ParseAuthorization reads a "Bearer <token>" or "Basic <base64 user:pass>"
// header value. Scheme names are case-insensitive (RFC 9110). Errors never
// contain the header's secret.
func ParseAuthorization(h string) (Credentials, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return Credentials{}, errors.New("malformed Authorization header: want \"Bearer <token>\" or \"Basic <credentials>\"")
	}
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if rest == "" || strings.ContainsAny(rest, " \t") {
			return Credentials{}, errors.New("malformed bearer token")
		}
		return Credentials{Secret: rest}, nil
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return Credentials{}, errors.New("malformed basic credentials: not base64")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return Credentials{}, errors.New("malformed basic credentials: no ':' between user and password")
		}
		return Credentials{Basic: true, User: user, Secret: pass}, nil
	}
	// The scheme is not echoed: a client that forgot "Bearer " would see
	// its token in the answer.
	return Credentials{}, errors.New("unsupported Authorization scheme: use Bearer or Basic")
}
