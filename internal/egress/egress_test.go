package egress

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPolicy(t *testing.T) {
	p, err := Parse([]string{"hooks.example.com", "*.corp.example", "10.1.0.0/16", "127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{
		"hooks.example.com": true, "HOOKS.example.com.": true, "a.corp.example": true,
		"corp.example": false, "evil.example.com": false,
	} {
		if got := p.hostAllowed(host); got != want {
			t.Errorf("hostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
	if _, err := Parse([]string{"10.0.0.0/33", ""}); err == nil {
		t.Error("bad entries accepted")
	}
}

func TestClientRefusesTargetsOutsideTheList(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()

	// Only 127.0.0.2 allowed: the receiver on 127.0.0.1 is refused.
	c, err := Client(Config{Allow: []string{"127.0.0.2/32"}}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(srv.URL)
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("get %s = %v, want an egress denial naming the address", srv.URL, err)
	}
	// localhost resolves to loopback, which is not in the list either.
	if _, err := c.Get(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)); !errors.Is(err, ErrDenied) {
		t.Fatalf("localhost: %v, want denied", err)
	}

	for _, allow := range [][]string{nil, {"127.0.0.0/8"}, {"127.0.0.1"}, {"localhost"}} {
		c, _ := Client(Config{Allow: allow}, 5*time.Second)
		url := srv.URL
		if len(allow) == 1 && allow[0] == "localhost" {
			url = strings.Replace(url, "127.0.0.1", "localhost", 1)
		}
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("allow %v: %v", allow, err)
		}
		resp.Body.Close()
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
	}))
	defer srv.Close()
	c, _ := Client(Config{}, 5*time.Second)
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want the 302 itself", resp.StatusCode)
	}
}
