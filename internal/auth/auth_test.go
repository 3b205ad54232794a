package auth

import (
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	writerSecret = "w-0123456789abcdef"
	adminSecret  = "a-0123456789abcdef"
)

func testAuth(t *testing.T) *Authenticator {
	t.Helper()
	cfg := Config{Enabled: true, Tokens: []Token{
		{Name: "pusher", Token: writerSecret, Roles: []Role{RoleWrite}, Tenant: "billing"},
		{Name: "ops", TokenSHA256: HashToken(adminSecret), Roles: []Role{RoleRead, RoleAdmin}},
	}}
	if err := cfg.Validate(nil); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestAuthenticate(t *testing.T) {
	a := testAuth(t)
	for _, tc := range []struct {
		header   string
		wantName string
		wantErr  error
	}{
		{"Bearer " + writerSecret, "pusher", nil},
		{"bearer " + adminSecret, "ops", nil},
		{basic("pusher", writerSecret), "pusher", nil},
		{basic("ops", adminSecret), "ops", nil},
		{"", "", ErrNoCredentials},
		{"Bearer nope-0123456789abcdef", "", ErrBadCredentials},
		// The right secret under another token's name is refused.
		{basic("ops", writerSecret), "", ErrBadCredentials},
		{basic("", writerSecret), "", ErrBadCredentials},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		p, err := a.Authenticate(r)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("%.12q: err = %v, want %v", tc.header, err, tc.wantErr)
			}
			continue
		}
		if err != nil || p.Name != tc.wantName {
			t.Errorf("%.12q: got %+v, %v; want %s", tc.header, p, err, tc.wantName)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+writerSecret)
	p, _ := a.Authenticate(r)
	if !p.Has(RoleWrite) || p.Has(RoleRead) || p.Has(RoleAdmin) || p.Tenant != "billing" {
		t.Errorf("pusher principal = %+v", p)
	}
}

func TestParseAuthorizationErrorsDoNotEchoSecrets(t *testing.T) {
	for _, h := range []string{
		"Token s3cr3t-value-here",
		"s3cr3t-value-here",
		"Basic s3cr3t-value-here!!",
		"Basic " + base64.StdEncoding.EncodeToString([]byte("s3cr3t-value-here")),
		"Bearer s3cr3t-value-here extra",
	} {
		_, err := ParseAuthorization(h)
		if err == nil {
			t.Errorf("%q parsed", h)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q echoes the secret", err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := Config{Enabled: true, Tokens: []Token{
		{Name: "", Token: writerSecret, Roles: []Role{RoleRead}},
		{Name: "short", Token: "abc", Roles: []Role{RoleRead}},
		{Name: "both", Token: writerSecret, TokenSHA256: HashToken(writerSecret), Roles: []Role{RoleRead}},
		{Name: "badhash", TokenSHA256: "xyz", Roles: []Role{RoleRead}},
		{Name: "norole", Token: writerSecret},
		{Name: "badrole", Token: writerSecret, Roles: []Role{"root"}},
		{Name: "badrole", Token: writerSecret, Roles: []Role{RoleRead}},
	}}
	err := cfg.Validate(nil)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"name is required", "at least 16", "not both", "64 hex digits", "at least one of", `unknown role "root"`, "duplicate name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), writerSecret) {
		t.Errorf("error echoes a secret: %v", err)
	}
	if err := (Config{Enabled: true}).Validate(nil); err == nil {
		t.Error("enabled with no tokens accepted")
	}
}

// FuzzParseAuthorization checks that no header crashes the parser and
// that what it accepts is well-formed.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc", basic("u", "p"), "Basic", "Basic =", "bearer  x ", "Negotiate abc", "", " ", "Basic " + base64.StdEncoding.EncodeToString([]byte(":"))} {
		f.Add(s)
	}
	a := testAuthFuzz()
	f.Fuzz(func(t *testing.T, h string) {
		c, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if !c.Basic && (c.Secret == "" || strings.ContainsAny(c.Secret, " \t")) {
			t.Fatalf("bearer %q accepted with secret %q", h, c.Secret)
		}
		if _, err := a.check(c); err != nil && !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("check: %v", err)
		}
	})
}

func testAuthFuzz() *Authenticator {
	a, _ := New(Config{Enabled: true, Tokens: []Token{{Name: "u", Token: writerSecret, Roles: []Role{RoleRead}}}})
	return a
}
