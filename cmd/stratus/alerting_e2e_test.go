package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
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

// flakyHook is a webhook receiver on a fixed loopback address that can
// answer 503, refuse connections (stopped) or accept. It records every
// attempt, so that the test can tell what arrived from what was tried.
type flakyHook struct {
	t    *testing.T
	addr string

	mu       sync.Mutex
	srv      *http.Server // nil while stopped
	code     int          // the answer while running
	attempts []hookAttempt
}

// hookAttempt is one request the receiver got.
type hookAttempt struct {
	key    string // Idempotency-Key
	group  string // groupLabels.alertname
	status string // payload status: firing or resolved
	code   int    // what the receiver answered
	body   string
}

func newFlakyHook(t *testing.T) *flakyHook {
	h := &flakyHook{t: t, addr: freeAddr(t)}
	t.Cleanup(h.stop)
	return h
}

func (h *flakyHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m struct {
		Status      string            `json:"status"`
		GroupLabels map[string]string `json:"groupLabels"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		h.t.Errorf("webhook body is not JSON: %v: %s", err, b)
	}
	h.mu.Lock()
	code := h.code
	h.attempts = append(h.attempts, hookAttempt{key: r.Header.Get("Idempotency-Key"), group: m.GroupLabels["alertname"], status: m.Status, code: code, body: string(b)})
	h.mu.Unlock()
	w.WriteHeader(code)
}

// start listens on the receiver's address, answering code.
func (h *flakyHook) start(code int) {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.code = code
	if h.srv != nil {
		return
	}
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if ln, err = net.Listen("tcp", h.addr); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		h.t.Fatalf("listen again on %s: %v", h.addr, err)
	}
	h.srv = &http.Server{Handler: h}
	go h.srv.Serve(ln)
}

// stop closes the listener and every connection: attempts are refused.
func (h *flakyHook) stop() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// tried reports whether some attempt carried the group in that status.
func (h *flakyHook) tried(group, status string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.attempts {
		if a.group == group && a.status == status {
			return true
		}
	}
	return false
}

// delivered returns the attempts answered 2xx.
func (h *flakyHook) delivered() []hookAttempt {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookAttempt
	for _, a := range h.attempts {
		if a.code/100 == 2 {
			out = append(out, a)
		}
	}
	return out
}

// keysOf returns the distinct idempotency keys of the attempts of group in
// status, delivered or not.
func (h *flakyHook) keysOf(group, status string) map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	keys := map[string]int{}
	for _, a := range h.attempts {
		if a.group == group && a.status == status {
			keys[a.key]++
		}
	}
	return keys
}

const deliveryRules = `groups:
  - name: delivery
    rules:
      - alert: DeliveryA
        expr: delivery_a > 100
        for: 1s
      - alert: DeliveryB
        expr: delivery_b > 100
        for: 1s
      - alert: DeliveryD
        expr: delivery_d > 100
        for: 1s
`

// TestAlertingDeliveryAcrossFailure: the webhook receiver is down while
// alerts fire and resolve, and Stratus is killed and restarted in the
// middle; once the receiver is back, every notification arrives, and a
// receiver that drops repeated Idempotency-Keys sees each exactly once.
//
//   - DeliveryA fires while the receiver answers 503, is still undelivered
//     when Stratus is killed (SIGKILL), is delivered after the restart once
//     the receiver is back, and resolves afterwards.
//   - DeliveryB fires and resolves while the receiver answers 503: its
//     firing notification is superseded by the resolution, which carries
//     the same alert and arrives after the restart (as in Alertmanager, an
//     undelivered group notification gives way to the group's newer state).
//   - DeliveryD fires after the restart while the receiver refuses
//     connections, and resolves once it is back.
func TestAlertingDeliveryAcrossFailure(t *testing.T) {
	hook := newFlakyHook(t)
	hook.start(http.StatusServiceUnavailable)

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesPath, []byte(deliveryRules), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "stratus.yml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`evaluation_interval: 1s
rule_files: [%q]
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
        - url: http://%s/hook
          send_resolved: true
`, rulesPath, hook.addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir, addr := filepath.Join(dir, "data"), freeAddr(t)
	p := startStratus(t, addr, dataDir, "--config", cfgPath)

	var a, b, d atomic.Uint64
	a.Store(math.Float64bits(150))
	b.Store(math.Float64bits(150))
	d.Store(math.Float64bits(0))
	pushSeries(t, addr, func(ts int64) []prompb.TimeSeries {
		return []prompb.TimeSeries{
			gauge(ts, math.Float64frombits(a.Load()), "__name__", "delivery_a"),
			gauge(ts, math.Float64frombits(b.Load()), "__name__", "delivery_b"),
			gauge(ts, math.Float64frombits(d.Load()), "__name__", "delivery_d"),
		}
	})

	// The receiver answers 503: A and B are tried, not delivered; then B
	// resolves and its resolution is tried too.
	waitFor(t, 30*time.Second, "attempts of A and B firing", func() bool {
		return hook.tried("DeliveryA", "firing") && hook.tried("DeliveryB", "firing")
	})
	b.Store(math.Float64bits(10))
	waitFor(t, 30*time.Second, "an attempt of B resolved", func() bool { return hook.tried("DeliveryB", "resolved") })
	if got := hook.delivered(); len(got) != 0 {
		t.Fatalf("delivered while the receiver answered 503: %+v", got)
	}

	// Stratus crashes; the receiver goes away entirely; Stratus comes back
	// and D fires while the receiver refuses connections.
	p.kill()
	hook.stop()
	p = startStratus(t, addr, dataDir, "--config", cfgPath)
	d.Store(math.Float64bits(150))
	type deliveryEntry struct {
		GroupKey    string `json:"groupKey"`
		Status      string `json:"status"`
		AlertStatus string `json:"alertStatus"`
		Attempts    int    `json:"attempts"`
		LastError   string `json:"lastError"`
	}
	var log struct {
		Data []deliveryEntry `json:"data"`
	}
	find := func(group, alertStatus string) []deliveryEntry {
		var out []deliveryEntry
		for _, e := range log.Data {
			if e.GroupKey == `{}:{alertname="`+group+`"}` && e.AlertStatus == alertStatus {
				out = append(out, e)
			}
		}
		return out
	}
	waitFor(t, 30*time.Second, "D's notification retried while the receiver refuses connections", func() bool {
		getJSON(t, "http://"+addr+"/api/v1/notifications", &log)
		for _, e := range find("DeliveryD", "firing") {
			if e.Status == "retrying" && e.Attempts >= 1 && strings.Contains(e.LastError, "connection refused") {
				return true
			}
		}
		return false
	})
	// The outbox carried A's firing and B's resolution over the crash;
	// B's firing notification was superseded, never delivered.
	for _, want := range []struct{ group, status string }{{"DeliveryA", "firing"}, {"DeliveryB", "resolved"}} {
		es := find(want.group, want.status)
		if len(es) != 1 || (es[0].Status != "retrying" && es[0].Status != "pending" && es[0].Status != "sending") {
			t.Errorf("delivery log after the restart: %s %s: %+v, want one undelivered", want.group, want.status, es)
		}
	}
	if es := find("DeliveryB", "firing"); len(es) != 1 || es[0].Status != "superseded" {
		t.Errorf("delivery log after the restart: DeliveryB firing: %+v, want one superseded", es)
	}

	// The receiver is back: everything pending arrives.
	hook.start(http.StatusOK)
	waitFor(t, 60*time.Second, "A firing, B resolved and D firing delivered", func() bool {
		got := map[string]bool{}
		for _, at := range hook.delivered() {
			got[at.group+" "+at.status] = true
		}
		return got["DeliveryA firing"] && got["DeliveryB resolved"] && got["DeliveryD firing"]
	})
	a.Store(math.Float64bits(10))
	d.Store(math.Float64bits(10))
	waitFor(t, 30*time.Second, "A and D resolved delivered", func() bool {
		got := map[string]bool{}
		for _, at := range hook.delivered() {
			got[at.group+" "+at.status] = true
		}
		return got["DeliveryA resolved"] && got["DeliveryD resolved"]
	})
	time.Sleep(3 * time.Second) // several group intervals: nothing more may come

	// What a receiver that drops repeated Idempotency-Keys keeps: each
	// notification once, and nothing else.
	kept := map[string]hookAttempt{}
	var order []string
	for _, at := range hook.delivered() {
		if prev, dup := kept[at.key]; dup {
			if prev.body != at.body {
				t.Errorf("two payloads under one Idempotency-Key %s:\n%s\n%s", at.key, prev.body, at.body)
			}
			continue
		}
		kept[at.key] = at
		order = append(order, at.group+" "+at.status)
	}
	want := map[string]bool{"DeliveryA firing": true, "DeliveryA resolved": true, "DeliveryB resolved": true, "DeliveryD firing": true, "DeliveryD resolved": true}
	seen := map[string]bool{}
	for _, o := range order {
		if !want[o] || seen[o] {
			t.Errorf("unexpected or repeated notification %q; delivered in order: %v", o, order)
		}
		seen[o] = true
	}
	if len(seen) != len(want) {
		t.Errorf("delivered %v, want each of %v", order, want)
	}
	delivered := len(hook.delivered())
	hook.mu.Lock()
	attempts := len(hook.attempts)
	hook.mu.Unlock()
	t.Logf("%d attempts, %d delivered (%d distinct Idempotency-Keys): %v", attempts, delivered, len(kept), order)
	// Each group's notifications arrived in order: a resolution never
	// before the firing it resolves.
	pos := map[string]int{}
	for i, o := range order {
		pos[o] = i
	}
	for _, g := range []string{"DeliveryA", "DeliveryD"} {
		if pos[g+" firing"] > pos[g+" resolved"] {
			t.Errorf("%s resolved arrived before %s firing: %v", g, g, order)
		}
	}
	// Retries, before and after the crash, kept the notification's key.
	if keys := hook.keysOf("DeliveryA", "firing"); len(keys) != 1 {
		t.Errorf("DeliveryA firing was tried under %d Idempotency-Keys, want 1: %v", len(keys), keys)
	} else {
		for _, n := range keys {
			if n < 2 {
				t.Errorf("DeliveryA firing tried %d times, want retries", n)
			}
		}
	}
	// The resolution carries the alert B fired with.
	var bRes struct {
		Alerts []struct {
			Status   string    `json:"status"`
			StartsAt time.Time `json:"startsAt"`
			EndsAt   time.Time `json:"endsAt"`
			Labels   map[string]string
		} `json:"alerts"`
	}
	for _, at := range kept {
		if at.group == "DeliveryB" {
			json.Unmarshal([]byte(at.body), &bRes)
		}
	}
	if len(bRes.Alerts) != 1 || bRes.Alerts[0].Status != "resolved" || !bRes.Alerts[0].EndsAt.After(bRes.Alerts[0].StartsAt) {
		t.Errorf("DeliveryB's resolution: %+v", bRes)
	}
	p.stop(t)
}
