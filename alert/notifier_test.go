package alert

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	commonmodel "github.com/prometheus/common/model"
	"github.com/stratus-metrics/stratus/model"
)

// hook is a webhook receiver on 127.0.0.1 that records what it gets and
// answers with the queued status codes (then 200).
type hook struct {
	srv   *httptest.Server
	mu    sync.Mutex
	codes []int
	reqs  []hookReq
}

type hookReq struct {
	path, idemKey, contentType string
	body                       []byte
	msg                        map[string]any
}

func newHook(t *testing.T) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var msg map[string]any
		json.Unmarshal(b, &msg)
		h.mu.Lock()
		h.reqs = append(h.reqs, hookReq{r.URL.Path, r.Header.Get("Idempotency-Key"), r.Header.Get("Content-Type"), b, msg})
		code := 200
		if len(h.codes) > 0 {
			code, h.codes = h.codes[0], h.codes[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) requests() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

func (h *hook) queue(codes ...int) {
	h.mu.Lock()
	h.codes = append(h.codes, codes...)
	h.mu.Unlock()
}

const notifierConfig = `
route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
  - matchers: ['severity="ticket"']
    receiver: tickets
    group_by: [country]
    labels:
      queue: migration
receivers:
- name: oncall
  webhook_configs:
  - url: URL/oncall
    send_resolved: true
- name: tickets
  webhook_configs:
  - url: URL/tickets
    max_alerts: 1
inhibit_rules:
- source_matchers: [alertname="DatabaseDown"]
  target_matchers: [severity="page"]
  equal: [country]
`

func newTestNotifier(t *testing.T, h *hook, dataDir string, clock *fakeClock) *Notifier {
	t.Helper()
	cfg, err := LoadNotifierConfig(strings.ReplaceAll(notifierConfig, "URL", h.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNotifier(NotifierOptions{
		Config: cfg, DataDir: dataDir, ExternalURL: "http://stratus.example:7101", Now: clock.Now,
		Rand: func() float64 { return 0.5 }, RetryBase: time.Second, RetryMax: 8 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// step sets the clock, runs one tick and waits for the attempts it
// started to finish.
func step(n *Notifier, c *fakeClock, ts time.Time) {
	c.Set(ts)
	n.tick(ts)
	for {
		n.mu.Lock()
		busy := len(n.busyKeys)
		n.mu.Unlock()
		if busy == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func firingAlert(activeAt time.Time, ls ...string) *Alert {
	return &Alert{Labels: model.FromStrings(ls...), Annotations: model.FromStrings("summary", "it broke"),
		State: StateFiring, ActiveAt: activeAt, FiredAt: activeAt, GeneratorURL: "http://stratus.example:7101/graph?g0.expr=x"}
}

func resolvedAlert(a *Alert, at time.Time) *Alert {
	c := a.clone()
	c.State, c.ResolvedAt = StateInactive, at
	return c
}

func TestWebhookPayloadShape(t *testing.T) {
	h, c := newHook(t), newClock()
	n := newTestNotifier(t, h, t.TempDir(), c)
	a := firingAlert(t0, "alertname", "Lag", "country", "de", "severity", "page")
	n.Send([]*Alert{a}, t0.Add(4*time.Minute))
	step(n, c, t0.Add(29*time.Second))
	if len(h.requests()) != 0 {
		t.Fatal("sent before group_wait")
	}
	step(n, c, t0.Add(30*time.Second))
	reqs := h.requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d", len(reqs))
	}
	r := reqs[0]
	if r.path != "/oncall" || r.contentType != "application/json" || r.idemKey == "" {
		t.Errorf("request %s %q %q", r.path, r.contentType, r.idemKey)
	}
	fp := fmt.Sprintf("%016x", a.Fingerprint())
	want := `{"receiver":"oncall","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Lag","country":"de","severity":"page"},"annotations":{"summary":"it broke"},"startsAt":"2026-03-01T12:00:00Z","endsAt":"2026-03-01T12:04:00Z","generatorURL":"http://stratus.example:7101/graph?g0.expr=x","fingerprint":"` + fp + `"}],"notification_reason":"first notification","groupLabels":{"alertname":"Lag"},"commonLabels":{"alertname":"Lag","country":"de","severity":"page"},"commonAnnotations":{"summary":"it broke"},"routeLabels":{},"externalURL":"http://stratus.example:7101","version":"4","groupKey":"{}:{alertname=\"Lag\"}","truncatedAlerts":0}` + "\n"
	if string(r.body) != want {
		t.Errorf("payload\n got %s\nwant %s", r.body, want)
	}
	// The fingerprint is Alertmanager's (FNV-64a of the sorted label set).
	amfp := commonmodel.LabelSet{"alertname": "Lag", "country": "de", "severity": "page"}.Fingerprint().String()
	if fp != amfp {
		t.Errorf("fingerprint %s, Alertmanager's %s", fp, amfp)
	}

	// Resolution: sent at the next group_interval since send_resolved.
	n.Send([]*Alert{resolvedAlert(a, t0.Add(2*time.Minute))}, t0.Add(6*time.Minute))
	step(n, c, t0.Add(5*time.Minute+29*time.Second))
	if len(h.requests()) != 1 {
		t.Fatal("resolution sent before group_interval")
	}
	step(n, c, t0.Add(5*time.Minute+30*time.Second))
	reqs = h.requests()
	if len(reqs) != 2 || reqs[1].msg["status"] != "resolved" || reqs[1].msg["notification_reason"] != "all alerts resolved" {
		t.Fatalf("resolution = %+v", reqs[1:])
	}
	al := reqs[1].msg["alerts"].([]any)[0].(map[string]any)
	if al["status"] != "resolved" || al["endsAt"] != "2026-03-01T12:02:00Z" {
		t.Errorf("resolved alert = %v", al)
	}
	ds := n.Deliveries()
	if len(ds) != 2 || ds[0].Status != "delivered" || ds[0].AlertStatus != "resolved" || ds[1].Attempts != 1 {
		t.Errorf("delivery log = %+v", ds)
	}
}

func TestGroupTiming(t *testing.T) {
	h, c := newHook(t), newClock()
	n := newTestNotifier(t, h, "", c)
	a1 := firingAlert(t0, "alertname", "Lag", "instance", "1")
	n.Send([]*Alert{a1}, t0.Add(time.Hour))
	step(n, c, t0.Add(30*time.Second)) // group_wait: first notification
	// A second alert joins: not sent before group_interval.
	a2 := firingAlert(t0.Add(time.Minute), "alertname", "Lag", "instance", "2")
	n.Send([]*Alert{a1, a2}, t0.Add(time.Hour))
	step(n, c, t0.Add(5*time.Minute))
	if got := len(h.requests()); got != 1 {
		t.Fatalf("requests before group_interval = %d", got)
	}
	step(n, c, t0.Add(5*time.Minute+30*time.Second))
	reqs := h.requests()
	if len(reqs) != 2 || len(reqs[1].msg["alerts"].([]any)) != 2 || reqs[1].msg["notification_reason"] != "new alerts added" {
		t.Fatalf("second notification = %v", reqs[len(reqs)-1].msg)
	}
	// Nothing new: silent at each group_interval until repeat_interval.
	for ts := t0.Add(10*time.Minute + 30*time.Second); ts.Before(t0.Add(4*time.Hour + 10*time.Minute)); ts = ts.Add(5 * time.Minute) {
		n.Send([]*Alert{a1, a2}, ts.Add(time.Hour))
		step(n, c, ts)
	}
	reqs = h.requests()
	if len(reqs) != 3 || reqs[2].msg["notification_reason"] != "repeat interval elapsed" {
		t.Fatalf("requests = %d, last %v", len(reqs), reqs[len(reqs)-1].msg["notification_reason"])
	}
	// Sent at the first group flush at least 4h after the previous one.
	if d := n.Deliveries()[0].CreatedAt.Sub(n.Deliveries()[1].CreatedAt); d < 4*time.Hour || d > 4*time.Hour+5*time.Minute {
		t.Errorf("repeat after %s", d)
	}
}

func TestRetriesWithBackoffThenSuccess(t *testing.T) {
	h, c := newHook(t), newClock()
	n := newTestNotifier(t, h, t.TempDir(), c)
	h.queue(500, 503, 502)
	n.Send([]*Alert{firingAlert(t0, "alertname", "Lag")}, t0.Add(time.Hour))
	ts := t0.Add(30 * time.Second)
	step(n, c, ts) // attempt 1: 500
	d := n.Deliveries()[0]
	if d.Status != "retrying" || d.Attempts != 1 || !strings.Contains(d.LastError, "500") {
		t.Fatalf("after attempt 1: %+v", d)
	}
	// Backoff with Rand=0.5: base*2^(k-1), three quarters of it: 0.75s, 1.5s, 3s.
	for i, wait := range []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second} {
		if got := d.NextAttempt.Sub(ts); got != wait {
			t.Errorf("wait before attempt %d = %s, want %s", i+2, got, wait)
		}
		step(n, c, d.NextAttempt.Add(-time.Millisecond))
		if got := len(h.requests()); got != i+1 {
			t.Fatalf("attempt %d came early (%d requests)", i+2, got)
		}
		ts = d.NextAttempt
		step(n, c, ts)
		d = n.Deliveries()[0]
	}
	reqs := h.requests()
	if len(reqs) != 4 || d.Status != "delivered" || d.Attempts != 4 {
		t.Fatalf("requests %d, delivery %+v", len(reqs), d)
	}
	for _, r := range reqs[1:] {
		if r.idemKey != reqs[0].idemKey || string(r.body) != string(reqs[0].body) {
			t.Error("a retry changed the payload or the idempotency key")
		}
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	h, c := newHook(t), newClock()
	n := newTestNotifier(t, h, "", c)
	h.queue(400)
	n.Send([]*Alert{firingAlert(t0, "alertname", "Lag")}, t0.Add(time.Hour))
	step(n, c, t0.Add(30*time.Second))
	step(n, c, t0.Add(30*time.Minute))
	if d := n.Deliveries()[0]; d.Status != "failed" || len(h.requests()) != 1 {
		t.Errorf("delivery %+v after %d requests", d, len(h.requests()))
	}
}

func TestOutboxSurvivesRestart(t *testing.T) {
	h, c, dir := newHook(t), newClock(), t.TempDir()
	n := newTestNotifier(t, h, dir, c)
	h.queue(503)
	a := firingAlert(t0, "alertname", "Lag")
	n.Send([]*Alert{a}, t0.Add(time.Hour))
	step(n, c, t0.Add(30*time.Second)) // fails, will retry
	n.Close()

	// Restart: the undelivered notification is sent again, once.
	n2 := newTestNotifier(t, h, dir, c)
	if ds := n2.Deliveries(); len(ds) != 1 || ds[0].Status != "pending" {
		t.Fatalf("replayed delivery log = %+v", ds)
	}
	step(n2, c, t0.Add(time.Minute))
	reqs := h.requests()
	if len(reqs) != 2 || reqs[1].idemKey != reqs[0].idemKey {
		t.Fatalf("requests after restart = %d", len(reqs))
	}
	// The restored alert arrives again: no second page.
	n2.Send([]*Alert{a}, t0.Add(time.Hour))
	step(n2, c, t0.Add(2*time.Minute))
	step(n2, c, t0.Add(10*time.Minute))
	n2.Close()

	// And once more: delivered stays delivered.
	n3 := newTestNotifier(t, h, dir, c)
	n3.Send([]*Alert{a}, t0.Add(time.Hour))
	step(n3, c, t0.Add(11*time.Minute))
	step(n3, c, t0.Add(20*time.Minute))
	if got := len(h.requests()); got != 2 {
		t.Errorf("requests after second restart = %d, want 2", got)
	}
	if ds := n3.Deliveries(); len(ds) == 0 || ds[0].Status != "delivered" {
		t.Errorf("delivery log after restart = %+v", ds)
	}
}

// TestOutcomeSurvivesProcessCrash: delivery outcomes are written to the
// outbox at once and fsynced later with others (a group commit); a crash
// of the process, without Close, loses none of them.
func TestOutcomeSurvivesProcessCrash(t *testing.T) {
	h, c, dir := newHook(t), newClock(), t.TempDir()
	n := newTestNotifier(t, h, dir, c)
	var alerts []*Alert
	for _, name := range []string{"A", "B", "C"} {
		alerts = append(alerts, firingAlert(t0, "alertname", name))
	}
	n.Send(alerts, t0.Add(time.Hour))
	step(n, c, t0.Add(30*time.Second))
	if got := len(h.requests()); got != 3 {
		t.Fatalf("%d requests, want 3", got)
	}

	// No Close: the process "crashed". The next one replays the file.
	n2 := newTestNotifier(t, h, dir, c)
	ds := n2.Deliveries()
	if len(ds) != 3 {
		t.Fatalf("replayed delivery log = %+v", ds)
	}
	for _, d := range ds {
		if d.Status != "delivered" {
			t.Errorf("replayed %s: %s, want delivered", d.GroupKey, d.Status)
		}
	}
	n2.Send(alerts, t0.Add(time.Hour))
	step(n2, c, t0.Add(time.Minute))
	if got := len(h.requests()); got != 3 {
		t.Errorf("%d requests after the crash, want still 3", got)
	}
}

// TestAttemptsPerHostBounded: no more than MaxAttemptsPerHost attempts are
// in flight to one receiver host; the rest follow as attempts finish.
func TestAttemptsPerHostBounded(t *testing.T) {
	var mu sync.Mutex
	inFlight, most, served := 0, 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		inFlight--
		served++
		mu.Unlock()
	}))
	defer srv.Close()
	cfg, err := LoadNotifierConfig("route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 0s\nreceivers:\n  - name: r\n    webhook_configs:\n      - url: " + srv.URL + "\n")
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	n, err := NewNotifier(NotifierOptions{Config: cfg, Now: c.Now, MaxAttemptsPerHost: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	var alerts []*Alert
	for i := range 7 {
		alerts = append(alerts, firingAlert(t0, "alertname", fmt.Sprintf("A%d", i)))
	}
	n.Send(alerts, t0.Add(time.Hour))
	for i := 0; i < 10; i++ {
		step(n, c, t0.Add(time.Duration(i)*time.Second))
	}
	mu.Lock()
	defer mu.Unlock()
	if served != 7 || most != 2 {
		t.Errorf("%d notifications served, at most %d at once; want 7 and 2", served, most)
	}
}

func TestOutboxTornTail(t *testing.T) {
	h, c, dir := newHook(t), newClock(), t.TempDir()
	n := newTestNotifier(t, h, dir, c)
	h.queue(503)
	n.Send([]*Alert{firingAlert(t0, "alertname", "Lag")}, t0.Add(time.Hour))
	step(n, c, t0.Add(30*time.Second))
	n.Close()
	f, err := os.OpenFile(filepath.Join(dir, "outbox.log"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`0badc0de {"type":"deliv`)
	f.Close()
	n2 := newTestNotifier(t, h, dir, c)
	if ds := n2.Deliveries(); len(ds) != 1 || ds[0].Status != "pending" {
		t.Fatalf("after a torn tail: %+v", ds)
	}
}

func TestRoutingInhibitionAndSilences(t *testing.T) {
	h, c := newHook(t), newClock()
	n := newTestNotifier(t, h, "", c)
	pageDE := firingAlert(t0, "alertname", "Lag", "country", "de", "severity", "page")
	pageFR := firingAlert(t0, "alertname", "Lag", "country", "fr", "severity", "page")
	dbDE := firingAlert(t0, "alertname", "DatabaseDown", "country", "de", "severity", "critical")
	t1 := firingAlert(t0, "alertname", "Drift", "country", "de", "severity", "ticket")
	t2 := firingAlert(t0, "alertname", "Queue", "country", "de", "severity", "ticket")
	id, err := n.Silences().Create(Silence{Matchers: []SilenceMatcher{{Name: "alertname", Value: "Queue"}},
		EndsAt: t0.Add(time.Hour), CreatedBy: "alice", Comment: "known"})
	if err != nil {
		t.Fatal(err)
	}
	n.Send([]*Alert{pageDE, pageFR, dbDE, t1, t2}, t0.Add(time.Hour))
	step(n, c, t0.Add(30*time.Second))
	byPath := map[string][]map[string]any{}
	for _, r := range h.requests() {
		byPath[r.path] = append(byPath[r.path], r.msg)
	}
	// oncall: Lag (fr only: de is inhibited by DatabaseDown in de) and DatabaseDown.
	if len(byPath["/oncall"]) != 2 {
		t.Fatalf("oncall got %d notifications", len(byPath["/oncall"]))
	}
	for _, m := range byPath["/oncall"] {
		for _, a := range m["alerts"].([]any) {
			ls := a.(map[string]any)["labels"].(map[string]any)
			if ls["alertname"] == "Lag" && ls["country"] == "de" {
				t.Error("inhibited alert was sent")
			}
		}
	}
	// tickets: grouped by country, Queue silenced, max_alerts 1, route labels.
	tk := byPath["/tickets"]
	if len(tk) != 1 {
		t.Fatalf("tickets got %d", len(tk))
	}
	if tk[0]["groupKey"] != `{}/{severity="ticket"}:{country="de"}` || tk[0]["truncatedAlerts"].(float64) != 0 ||
		len(tk[0]["alerts"].([]any)) != 1 || tk[0]["routeLabels"].(map[string]any)["queue"] != "migration" {
		t.Errorf("tickets payload = %v", tk[0])
	}
	// Expiring the silence: Queue joins the ticket group at the next interval, truncated to 1.
	c.Set(t0.Add(time.Minute))
	if err := n.Silences().Expire(id); err != nil {
		t.Fatal(err)
	}
	n.Send([]*Alert{t1, t2}, t0.Add(time.Hour))
	step(n, c, t0.Add(5*time.Minute+30*time.Second))
	var last map[string]any
	for _, r := range h.requests() {
		if r.path == "/tickets" {
			last = r.msg
		}
	}
	if last["truncatedAlerts"].(float64) != 1 {
		t.Errorf("after unsilencing: %v", last)
	}
}

func TestSilencesPersistAndValidate(t *testing.T) {
	c, dir := newClock(), t.TempDir()
	s, err := openSilences(filepath.Join(dir, "silences.json"), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Silence{
		{EndsAt: t0.Add(time.Hour)},
		{Matchers: []SilenceMatcher{{Name: "a", Value: ".*", IsRegex: true}}, EndsAt: t0.Add(time.Hour)},
		{Matchers: []SilenceMatcher{{Name: "a", Value: "x"}}},
		{Matchers: []SilenceMatcher{{Name: "a", Value: "x"}}, StartsAt: t0, EndsAt: t0.Add(-time.Minute)},
		{Matchers: []SilenceMatcher{{Name: "a", Value: "(", IsRegex: true}}, EndsAt: t0.Add(time.Hour)},
	} {
		if _, err := s.Create(bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	id, err := s.Create(Silence{Matchers: []SilenceMatcher{{Name: "country", Value: "d.", IsRegex: true}},
		StartsAt: t0.Add(time.Minute), EndsAt: t0.Add(time.Hour), CreatedBy: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if _, muted := s.Mutes(map[string]string{"country": "de"}, t0); muted {
		t.Error("pending silence mutes")
	}
	if _, muted := s.Mutes(map[string]string{"country": "de"}, t0.Add(2*time.Minute)); !muted {
		t.Error("active silence does not mute")
	}
	s2, err := openSilences(filepath.Join(dir, "silences.json"), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	if l := s2.List(); len(l) != 1 || l[0].ID != id || l[0].Status.State != "pending" || l[0].CreatedBy != "bob" {
		t.Fatalf("reloaded %+v", l)
	}
	c.Set(t0.Add(2 * time.Minute))
	if err := s2.Expire(id); err != nil {
		t.Fatal(err)
	}
	if _, muted := s2.Mutes(map[string]string{"country": "de"}, t0.Add(3*time.Minute)); muted {
		t.Error("expired silence mutes")
	}
	if err := s2.Expire("nope"); err == nil {
		t.Error("expired an unknown silence")
	}
}

func TestLoadNotifierConfigRejectsNonWebhook(t *testing.T) {
	_, err := LoadNotifierConfig("route:\n  receiver: s\nreceivers:\n- name: s\n  slack_configs:\n  - api_url: http://127.0.0.1/x\n    channel: '#a'\n")
	if err == nil || !strings.Contains(err.Error(), `receiver "s"`) {
		t.Errorf("err = %v", err)
	}
	_, err = LoadNotifierConfig("route:\n  receiver: missing\nreceivers: []\n")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("err = %v", err)
	}
	_, err = LoadNotifierConfig(`route:
  receiver: a
  routes:
    - receiver: a
      mute_time_intervals: [nights]
receivers:
  - name: a
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: "00:00", end_time: "06:00"}]
`)
	if err == nil || !strings.Contains(err.Error(), "route.routes[0]") || !strings.Contains(err.Error(), "mute_time_intervals") {
		t.Errorf("a muted route must be refused by path, not ignored: %v", err)
	}
}
