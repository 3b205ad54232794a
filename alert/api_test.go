package alert

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
)

func do(t *testing.T, h http.Handler, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
	}
	return rec.Code, out
}

func TestAPI(t *testing.T) {
	h, c := newHook(t), newClock()
	n := newTestNotifier(t, h, t.TempDir(), c)
	e := newTestEnv(t, stateRules+"  - record: job:lag:max\n    expr: max by (job) (lag)\n", func(o *Options) { o.Notifier = n; o.Now = c.Now })
	e.clock = c
	e.q.set("lag > 5", sample(10, "instance", "a"))
	e.q.set("sticky > 5", sample(7, "instance", "b"))
	e.evalAt(t0)
	e.evalAt(t0.Add(time.Minute))
	e.q.set("sticky > 5")
	e.evalAt(t0.Add(2 * time.Minute)) // Sticky is kept firing
	r := mux.NewRouter()
	e.m.Register(r)

	code, out := do(t, r, "GET", "/api/v1/alerts", "")
	if code != 200 || out["status"] != "success" {
		t.Fatalf("alerts: %d %v", code, out)
	}
	alerts := out["data"].(map[string]any)["alerts"].([]any)
	if len(alerts) != 2 {
		t.Fatalf("alerts = %v", alerts)
	}
	for _, a := range alerts {
		a := a.(map[string]any)
		ls := a["labels"].(map[string]any)
		switch ls["alertname"] {
		case "Lag":
			if a["state"] != "firing" || a["value"] != "1e+01" || a["activeAt"] != "2026-03-01T12:00:00Z" {
				t.Errorf("Lag = %v", a)
			}
		case "Sticky":
			if a["keepFiringSince"] != "2026-03-01T12:02:00Z" || a["value"] != "7e+00" {
				t.Errorf("Sticky = %v", a)
			}
		}
	}

	code, out = do(t, r, "GET", "/api/v1/rules", "")
	groups := out["data"].(map[string]any)["groups"].([]any)
	if code != 200 || len(groups) != 1 {
		t.Fatalf("rules: %d %v", code, out)
	}
	g := groups[0].(map[string]any)
	if g["name"] != "g" || g["interval"].(float64) != 60 || !strings.HasSuffix(g["file"].(string), "rules.yml") {
		t.Errorf("group = %v", g)
	}
	rules := g["rules"].([]any)
	if len(rules) != 4 {
		t.Fatalf("rules = %v", rules)
	}
	lag := rules[0].(map[string]any)
	for k, want := range map[string]any{"state": "firing", "name": "Lag", "query": "lag > 5", "duration": 120.0,
		"keepFiringFor": 0.0, "health": "ok", "type": "alerting"} {
		if lag[k] != want {
			t.Errorf("Lag rule %s = %v, want %v", k, lag[k], want)
		}
	}
	if lag["labels"].(map[string]any)["severity"] != "page" || len(lag["alerts"].([]any)) != 1 {
		t.Errorf("Lag rule = %v", lag)
	}
	rec := rules[3].(map[string]any)
	if rec["type"] != "recording" || rec["name"] != "job:lag:max" || rec["query"] != "max by (job) (lag)" {
		t.Errorf("recording rule = %v", rec)
	}
	_, out = do(t, r, "GET", "/api/v1/rules?type=record", "")
	if rs := out["data"].(map[string]any)["groups"].([]any)[0].(map[string]any)["rules"].([]any); len(rs) != 1 {
		t.Errorf("type=record gave %d rules", len(rs))
	}
	if code, _ := do(t, r, "GET", "/api/v1/rules?type=bogus", ""); code != 400 {
		t.Errorf("type=bogus: %d", code)
	}

	// Silences.
	code, out = do(t, r, "POST", "/api/v1/silences",
		`{"matchers":[{"name":"alertname","value":"Lag","isRegex":false}],"endsAt":"2026-03-01T14:00:00Z","createdBy":"alice","comment":"migration window"}`)
	if code != 200 {
		t.Fatalf("create silence: %d %v", code, out)
	}
	id := out["data"].(map[string]any)["silenceID"].(string)
	code, out = do(t, r, "POST", "/api/v1/silences", `{"matchers":[],"endsAt":"2026-03-01T14:00:00Z"}`)
	if code != 400 || !strings.Contains(out["error"].(string), "no matchers") {
		t.Errorf("bad silence: %d %v", code, out)
	}
	_, out = do(t, r, "GET", "/api/v1/silences", "")
	ss := out["data"].([]any)
	if len(ss) != 1 || ss[0].(map[string]any)["status"].(map[string]any)["state"] != "active" || ss[0].(map[string]any)["createdBy"] != "alice" {
		t.Errorf("silences = %v", ss)
	}
	if code, _ := do(t, r, "DELETE", "/api/v1/silence/"+id, ""); code != 200 {
		t.Errorf("expire: %d", code)
	}
	if code, _ := do(t, r, "DELETE", "/api/v1/silence/nope", ""); code != 404 {
		t.Errorf("expire unknown: %d", code)
	}

	// Notifications.
	step(n, c, t0.Add(3*time.Minute))
	code, out = do(t, r, "GET", "/api/v1/notifications", "")
	ds := out["data"].([]any)
	if code != 200 || len(ds) == 0 || ds[0].(map[string]any)["status"] != "delivered" {
		t.Errorf("notifications = %v", out)
	}
}

// TestRestartDoesNotRepage runs rules and notifier together across a
// simulated restart of both: the firing alert pages once.
func TestRestartDoesNotRepage(t *testing.T) {
	h, c := newHook(t), newClock()
	dir := t.TempDir()
	n := newTestNotifier(t, h, filepath.Join(dir, "n"), c)
	e := newTestEnv(t, stateRules, func(o *Options) { o.Notifier = n; o.Now = c.Now })
	e.clock = c
	e.q.set("lag > 5", sample(10, "instance", "a"))
	for i := 0; i <= 3; i++ {
		ts := t0.Add(time.Duration(i) * time.Minute)
		e.evalAt(ts)
		step(n, c, ts)
	}
	if got := len(h.requests()); got != 1 {
		t.Fatalf("pages before restart = %d", got)
	}
	n.Close()
	n2 := newTestNotifier(t, h, filepath.Join(dir, "n"), c)
	e.m = e.newManager(func(o *Options) { o.Notifier = n2; o.Now = c.Now })
	for i := 4; i <= 30; i++ {
		ts := t0.Add(time.Duration(i) * time.Minute)
		e.evalAt(ts)
		step(n2, c, ts)
	}
	if got := len(h.requests()); got != 1 {
		t.Errorf("pages after restart = %d, want 1", got)
	}
	// Resolution is still sent.
	e.q.set("lag > 5")
	for i := 31; i <= 40; i++ {
		ts := t0.Add(time.Duration(i) * time.Minute)
		e.evalAt(ts)
		step(n2, c, ts)
	}
	reqs := h.requests()
	if len(reqs) != 2 || reqs[1].msg["status"] != "resolved" {
		t.Errorf("after resolution: %d requests", len(reqs))
	}
}
