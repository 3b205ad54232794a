package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/stratus-metrics/stratus/internal/auth"
)

// withBasicAuth makes the browser send credentials with every request, as
// it does once a user has answered the basic-auth prompt.
func withBasicAuth(user, pass string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		hdr := network.Headers{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: hdr})
		return chromedp.Void{}, err
	}
}

// TestUISecuredInBrowser runs the real binary with tokens and two tenants
// and checks, in Chromium, that the UI works with basic auth, shows the
// audit trail with its chain check, and the caller's access and limits.
func TestUISecuredInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "stratus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`auth:
  enabled: true
  tokens:
    - {name: ops, token_sha256: %s, roles: [read, write, admin]}
tenants:
  defaults: {max_series: 100000, query_concurrency: 8}
`, auth.HashToken(e2eAdminToken))), 0o600)
	addr := freeAddr(t)
	startStratus(t, addr, filepath.Join(dir, "data"), "--config", cfg)
	base := "http://" + addr

	// A change to audit: a dashboard saved through the API.
	req := `{"title":"Cut-over","panels":[{"title":"Lag","type":"timeseries","queries":[{"expr":"up"}]}]}`
	if code, body := authedDo(t, "PUT", base+"/api/v1/dashboards/cutover", req); code != 200 && code != 201 {
		t.Fatalf("put dashboard: %d %s", code, body)
	}

	if err := chromedp.Do(ctx, withBasicAuth("ops", e2eAdminToken), chromedp.Navigate(base+"/audit")); err != nil {
		t.Fatal(err)
	}
	poll[bool](t, ctx, "audit rows", `document.querySelectorAll(".audit-row").length >= 2`)
	if got := eval[string](t, ctx, `document.querySelector("#audit-verify").innerText`); !strings.Contains(got, "Chain intact") {
		t.Errorf("verification banner: %q", got)
	}
	rows := eval[string](t, ctx, `document.querySelector("#audit-list").innerText`)
	for _, want := range []string{"PUT /api/v1/dashboards/cutover", "config.load", "ops", "system"} {
		if !strings.Contains(rows, want) {
			t.Errorf("audit page lacks %q:\n%s", want, rows)
		}
	}
	// Details show the dashboard as it was saved.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector(".audit-row .btn").click()`)); err != nil {
		t.Fatal(err)
	}
	poll[bool](t, ctx, "audit details", `[...document.querySelectorAll(".audit-detail")].some((d) => !d.hidden && d.innerText.includes("Cut-over"))`)
	dir2 := screenshotDir(t)
	shot(t, ctx, dir2, "audit")

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/status")); err != nil {
		t.Fatal(err)
	}
	poll[bool](t, ctx, "access section", `document.querySelector(".tenants-table") !== null`)
	access := eval[string](t, ctx, `document.querySelector("#access").innerText`)
	for _, want := range []string{"tokens (1)", "ops, tenant default", "100000"} {
		if !strings.Contains(access, want) {
			t.Errorf("status access section lacks %q:\n%s", want, access)
		}
	}
	shot(t, ctx, dir2, "status-access")
}

func authedDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	p := &secureProc{client: &http.Client{Timeout: 30 * time.Second}}
	return p.do(t, method, url, e2eAdminToken, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
}
