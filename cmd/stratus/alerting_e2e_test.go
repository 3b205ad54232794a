package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// e2eHook is an Alertmanager webhook receiver on 127.0.0.1 that
// records every payload it gets.
type e2eHook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []map[string]any
}

func newE2EHook(t *testing.T) *e2eHook {
	s := &e2eHook{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body is not JSON: %v: %s", err, b)
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, m)
		s.mu.Unlock()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// byAlertname returns the payloads whose group is the named alert.
func (s *e2eHook) byAlertname(name string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, m := range s.msgs {
		if gl, _ := m["groupLabels"].(map[string]any); gl["alertname"] == name {
			out = append(out, m)
		}
	}
	return out
}

func (s *e2eHook) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// waitFor polls cond every 100ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

const e2eRules = `groups:
  - name: e2e
    rules:
      - alert: E2ELagHigh
        expr: e2e_lag_seconds > 100
        for: 2s
        labels:
          severity: page
        annotations:
          summary: 'lag of {{ $labels.db }} is {{ $value }}s'
      - alert: E2ENoisy
        expr: e2e_noise > 0
        for: 1s
`

// TestAlertingEndToEnd runs the real binary with a rule file and an
// Alertmanager-style webhook receiver, and checks what on-call would see:
// one page when the alert fires, none for a silenced alert, none again
// after a restart, one resolution when it clears; and the rules, alerts,
// reload and metrics endpoints along the way.
func TestAlertingEndToEnd(t *testing.T) {
	sink := newE2EHook(t)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesPath, []byte(e2eRules), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "stratus.yml")
	cfg := fmt.Sprintf(`evaluation_interval: 1s
rule_files: [%q]
external_url: http://stratus.test
alerting:
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 0s
    group_interval: 1s
    repeat_interval: 1h
  receivers:
    - name: hook
      webhook_configs:
        - url: %s/hook
          send_resolved: true
`, rulesPath, sink.srv.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir, addr := filepath.Join(dir, "data"), freeAddr(t)
	base := "http://" + addr
	p := startStratus(t, addr, dataDir, "--config", cfgPath)

	// The silence exists before its alert fires, so it is never notified.
	now := time.Now().UTC()
	silence := fmt.Sprintf(`{"matchers":[{"name":"alertname","value":"E2ENoisy","isRegex":false}],"startsAt":%q,"endsAt":%q,"createdBy":"e2e","comment":"known noise"}`,
		now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	resp, err := http.Post(base+"/api/v1/silences", "application/json", strings.NewReader(silence))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"silenceID"`) {
		t.Fatalf("create silence: %d %s", resp.StatusCode, b)
	}

	// A pusher keeps both series current, across the restart, with the
	// lag value the test sets.
	var lag atomic.Uint64
	lag.Store(math.Float64bits(150))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := &http.Client{Timeout: 2 * time.Second}
		for ctx.Err() == nil {
			ts := time.Now().UnixMilli()
			remoteWrite(client, addr, []prompb.TimeSeries{
				{Labels: []prompb.Label{{Name: "__name__", Value: "e2e_lag_seconds"}, {Name: "db", Value: "orders"}},
					Samples: []prompb.Sample{{Timestamp: ts, Value: math.Float64frombits(lag.Load())}}},
				{Labels: []prompb.Label{{Name: "__name__", Value: "e2e_noise"}},
					Samples: []prompb.Sample{{Timestamp: ts, Value: 1}}},
			})
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	// It fires and pages once.
	waitFor(t, 20*time.Second, "the firing notification", func() bool { return len(sink.byAlertname("E2ELagHigh")) > 0 })
	msg := sink.byAlertname("E2ELagHigh")[0]
	checkPayload(t, msg, "firing")
	a := msg["alerts"].([]any)[0].(map[string]any)
	if got := a["labels"].(map[string]any); got["alertname"] != "E2ELagHigh" || got["db"] != "orders" || got["severity"] != "page" {
		t.Errorf("alert labels %v", got)
	}
	if got := a["annotations"].(map[string]any)["summary"]; got != "lag of orders is 150s" {
		t.Errorf("summary %q", got)
	}
	if !strings.HasPrefix(a["generatorURL"].(string), "http://stratus.test/graph?g0.expr=") {
		t.Errorf("generatorURL %q", a["generatorURL"])
	}

	// The API shows both alerts firing: a silence mutes notifications,
	// not the alert.
	var alerts struct {
		Status string
		Data   struct {
			Alerts []struct {
				Labels   map[string]string `json:"labels"`
				State    string            `json:"state"`
				ActiveAt time.Time         `json:"activeAt"`
				Value    string            `json:"value"`
			} `json:"alerts"`
		} `json:"data"`
	}
	waitFor(t, 10*time.Second, "both alerts firing in /api/v1/alerts", func() bool {
		getJSON(t, base+"/api/v1/alerts", &alerts)
		firing := 0
		for _, a := range alerts.Data.Alerts {
			if a.State == "firing" {
				firing++
			}
		}
		return firing == 2
	})
	for _, a := range alerts.Data.Alerts {
		if a.Labels["alertname"] == "E2ELagHigh" && (a.Value != "1.5e+02" || a.ActiveAt.IsZero()) {
			t.Errorf("E2ELagHigh in /api/v1/alerts: %+v", a)
		}
	}
	checkRulesAPI(t, base, rulesPath)

	// An invalid rule file is refused by file and line; the old rules run on.
	bad := strings.Replace(e2eRules, "expr: e2e_noise > 0", "expr: e2e_noise >", 1)
	if err := os.WriteFile(rulesPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), rulesPath+":12:") || !strings.Contains(string(b), "E2ENoisy") {
		t.Errorf("reload of an invalid file: %d %s", resp.StatusCode, b)
	}
	checkRulesAPI(t, base, rulesPath)
	if err := os.WriteFile(rulesPath, []byte(e2eRules), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Post(base+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("reload of the fixed file: %d", resp.StatusCode)
	}

	// Several group intervals later: still one page, nothing for the
	// silenced alert.
	time.Sleep(3 * time.Second)
	if n := len(sink.byAlertname("E2ELagHigh")); n != 1 {
		t.Errorf("E2ELagHigh notified %d times, want 1", n)
	}
	if n := len(sink.byAlertname("E2ENoisy")); n != 0 {
		t.Errorf("silenced E2ENoisy notified %d times", n)
	}
	metrics := scrape(t, base)
	for _, want := range []string{
		`stratus_notifications_total{receiver="hook",status="delivered"} 1`,
		`stratus_alerts{state="firing"} 2`,
		`stratus_notifications_queue_length 0`,
		`stratus_notification_latency_seconds_count{receiver="hook"} 1`,
		`stratus_rule_evaluations_total{rule_group="` + rulesPath + `;e2e"}`,
		`stratus_rule_group_last_duration_seconds{rule_group="` + rulesPath + `;e2e"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if regexp.MustCompile(`stratus_rule_evaluation_failures_total\{[^}]*\} [1-9]`).MatchString(metrics) {
		t.Errorf("rule evaluations failed:\n%s", metrics)
	}

	// Restart: the alert comes back firing and on-call is not paged again.
	p.stop(t)
	p = startStratus(t, addr, dataDir, "--config", cfgPath)
	getJSON(t, base+"/api/v1/alerts", &alerts)
	restored := false
	for _, a := range alerts.Data.Alerts {
		restored = restored || (a.Labels["alertname"] == "E2ELagHigh" && a.State == "firing")
	}
	if !restored {
		t.Errorf("E2ELagHigh not firing right after the restart: %+v", alerts.Data.Alerts)
	}
	time.Sleep(5 * time.Second)
	if n := len(sink.byAlertname("E2ELagHigh")); n != 1 {
		t.Fatalf("E2ELagHigh notified %d times across the restart, want 1", n)
	}

	// The lag recovers: one resolved notification.
	lag.Store(math.Float64bits(10))
	waitFor(t, 20*time.Second, "the resolved notification", func() bool { return len(sink.byAlertname("E2ELagHigh")) >= 2 })
	msg = sink.byAlertname("E2ELagHigh")[1]
	checkPayload(t, msg, "resolved")
	a = msg["alerts"].([]any)[0].(map[string]any)
	startsAt, _ := time.Parse(time.RFC3339, a["startsAt"].(string))
	endsAt, _ := time.Parse(time.RFC3339, a["endsAt"].(string))
	if a["status"] != "resolved" || !endsAt.After(startsAt) {
		t.Errorf("resolved alert: status %v, startsAt %v, endsAt %v", a["status"], startsAt, endsAt)
	}
	if first := sink.byAlertname("E2ELagHigh")[0]["alerts"].([]any)[0].(map[string]any); first["fingerprint"] != a["fingerprint"] {
		t.Errorf("fingerprint changed between firing (%v) and resolved (%v)", first["fingerprint"], a["fingerprint"])
	}
	time.Sleep(2 * time.Second)
	if n, total := len(sink.byAlertname("E2ELagHigh")), sink.count(); n != 2 || total != 2 {
		t.Errorf("notifications: %d for E2ELagHigh, %d in total; want 2 and 2", n, total)
	}
	p.stop(t)
}

// checkPayload checks the Alertmanager webhook payload's shape (version 4).
func checkPayload(t *testing.T, m map[string]any, status string) {
	t.Helper()
	if m["version"] != "4" || m["status"] != status || m["receiver"] != "hook" {
		t.Errorf("payload version %v, status %v, receiver %v; want 4, %s, hook", m["version"], m["status"], m["receiver"], status)
	}
	if gk, _ := m["groupKey"].(string); gk != `{}:{alertname="E2ELagHigh"}` {
		t.Errorf("groupKey %q", gk)
	}
	if m["externalURL"] != "http://stratus.test" {
		t.Errorf("externalURL %v", m["externalURL"])
	}
	for _, k := range []string{"groupLabels", "commonLabels", "commonAnnotations", "truncatedAlerts"} {
		if _, ok := m[k]; !ok {
			t.Errorf("payload lacks %s", k)
		}
	}
	as, _ := m["alerts"].([]any)
	if len(as) != 1 {
		t.Fatalf("payload has %d alerts, want 1: %v", len(as), m)
	}
	a := as[0].(map[string]any)
	if a["status"] != status {
		t.Errorf("alert status %v, want %s", a["status"], status)
	}
	for _, k := range []string{"labels", "annotations", "startsAt", "endsAt", "generatorURL"} {
		if _, ok := a[k]; !ok {
			t.Errorf("alert lacks %s", k)
		}
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(a["startsAt"])); err != nil {
		t.Errorf("startsAt: %v", err)
	}
	if fp, _ := a["fingerprint"].(string); !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(fp) {
		t.Errorf("fingerprint %q", fp)
	}
}

// checkRulesAPI checks /api/v1/rules's shape and that the e2e group runs.
func checkRulesAPI(t *testing.T, base, rulesPath string) {
	t.Helper()
	var rules struct {
		Status string `json:"status"`
		Data   struct {
			Groups []struct {
				Name     string  `json:"name"`
				File     string  `json:"file"`
				Interval float64 `json:"interval"`
				Rules    []struct {
					Name     string  `json:"name"`
					Type     string  `json:"type"`
					State    string  `json:"state"`
					Health   string  `json:"health"`
					Query    string  `json:"query"`
					Duration float64 `json:"duration"`
					Alerts   []any   `json:"alerts"`
				} `json:"rules"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		} `json:"data"`
	}
	getJSON(t, base+"/api/v1/rules", &rules)
	if rules.Status != "success" || len(rules.Data.Groups) != 1 {
		t.Fatalf("/api/v1/rules: %+v", rules)
	}
	g := rules.Data.Groups[0]
	if g.Name != "e2e" || g.File != rulesPath || g.Interval != 1 || g.LastEvaluation.IsZero() || len(g.Rules) != 2 {
		t.Errorf("group %+v", g)
	}
	r := g.Rules[0]
	if r.Name != "E2ELagHigh" || r.Type != "alerting" || r.State != "firing" || r.Health != "ok" ||
		r.Query != "e2e_lag_seconds > 100" || r.Duration != 2 || len(r.Alerts) != 1 {
		t.Errorf("rule %+v", r)
	}
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	io.Copy(&buf, resp.Body)
	return buf.String()
}
