package main

// Interop with a real Alertmanager (Debian's prometheus-alertmanager, which
// .ci/run installs): Stratus pushes its alerts to Alertmanager's
// /api/v2/alerts, and Alertmanager, configured with a webhook receiver on
// loopback, notifies as it would for Prometheus. As with the other
// integration tests, a missing binary fails the test instead of skipping
// it.

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// alertmanagerBinary finds Alertmanager: Debian names it
// prometheus-alertmanager, upstream alertmanager.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return clientBinary(t, "prometheus-alertmanager", "prometheus-alertmanager")
}

// startAlertmanager runs a real Alertmanager on a loopback port with its
// storage in a temporary directory and clustering off, and waits until it
// is ready. It returns its base URL.
func startAlertmanager(t *testing.T, config string) string {
	t.Helper()
	bin := alertmanagerBinary(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	// Registered before startClient's, so it runs after the process is
	// killed and its output complete.
	var logs *bytes.Buffer
	t.Cleanup(func() {
		if t.Failed() && logs != nil {
			t.Logf("alertmanager logs:\n%s", logs)
		}
	})
	logs = startClient(t, bin,
		"--config.file="+cfgPath,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=debug",
	)
	base := "http://" + addr
	waitFor(t, 30*time.Second, "alertmanager ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base
}

// pushSeries remote-writes the series fn returns to addr every 200 ms until
// the test ends (or the returned stop is called), so that rules see fresh
// samples however long the test, and a Stratus restart, take. Failed
// writes (Stratus restarting) are retried at the next tick.
func pushSeries(t *testing.T, addr string, fn func(ts int64) []prompb.TimeSeries) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := &http.Client{Timeout: 2 * time.Second}
		for ctx.Err() == nil {
			remoteWrite(client, addr, fn(time.Now().UnixMilli()))
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// gauge is one remote-write series with one sample.
func gauge(ts int64, v float64, nameValues ...string) prompb.TimeSeries {
	s := prompb.TimeSeries{Samples: []prompb.Sample{{Timestamp: ts, Value: v}}}
	for i := 0; i+1 < len(nameValues); i += 2 {
		s.Labels = append(s.Labels, prompb.Label{Name: nameValues[i], Value: nameValues[i+1]})
	}
	return s
}

// amAlert is an alert as Alertmanager's GET /api/v2/alerts shows it.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Status       struct {
		State string `json:"state"`
	} `json:"status"`
}

const interopRules = `groups:
  - name: interop
    rules:
      - alert: InteropLagHigh
        expr: interop_lag_seconds > 100
        for: 1s
        labels:
          severity: page
          team: migration
        annotations:
          summary: 'lag of {{ $labels.db }} is {{ $value }}s'
          runbook_url: https://runbooks.example.com/interop
`

// TestAlertmanagerInterop: Stratus pushes a firing alert to a real
// Alertmanager, which shows it with the rule's labels and annotations and
// notifies its own webhook receiver; when the condition clears, Stratus
// pushes the resolution, Alertmanager drops the alert from its active
// list long before the endsAt of the firing push, and notifies the
// resolution.
func TestAlertmanagerInterop(t *testing.T) {
	hook := newE2EHook(t)
	am := startAlertmanager(t, fmt.Sprintf(`route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/am-hook
        send_resolved: true
`, hook.srv.URL))

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rulesPath, []byte(interopRules), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "stratus.yml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`evaluation_interval: 1s
rule_files: [%q]
external_url: http://stratus.test
alerting:
  alertmanagers:
    - url: %s
      timeout: 5s
`, rulesPath, am)), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := startStratus(t, addr, filepath.Join(dir, "data"), "--config", cfgPath)

	var lag atomic.Uint64
	lag.Store(math.Float64bits(150))
	pushSeries(t, addr, func(ts int64) []prompb.TimeSeries {
		return []prompb.TimeSeries{gauge(ts, math.Float64frombits(lag.Load()), "__name__", "interop_lag_seconds", "db", "orders")}
	})

	// The alert arrives in Alertmanager as the rule made it.
	var alerts []amAlert
	pushedAt := time.Now()
	waitFor(t, 30*time.Second, "the alert in Alertmanager's /api/v2/alerts", func() bool {
		getJSON(t, am+"/api/v2/alerts", &alerts)
		return len(alerts) > 0
	})
	if len(alerts) != 1 {
		t.Fatalf("Alertmanager has %d alerts, want 1: %+v", len(alerts), alerts)
	}
	a := alerts[0]
	wantLabels := map[string]string{"alertname": "InteropLagHigh", "db": "orders", "severity": "page", "team": "migration"}
	wantAnn := map[string]string{"summary": "lag of orders is 150s", "runbook_url": "https://runbooks.example.com/interop"}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels %v, want %v", a.Labels, wantLabels)
	}
	if fmt.Sprint(a.Annotations) != fmt.Sprint(wantAnn) {
		t.Errorf("annotations %v, want %v", a.Annotations, wantAnn)
	}
	if a.Status.State != "active" || !strings.HasPrefix(a.GeneratorURL, "http://stratus.test/graph?g0.expr=") {
		t.Errorf("state %q, generatorURL %q", a.Status.State, a.GeneratorURL)
	}
	// Firing: valid for four minutes (four times the one-minute resend
	// delay) unless sent again.
	if a.StartsAt.After(time.Now()) || a.EndsAt.Before(pushedAt.Add(3*time.Minute)) || a.EndsAt.After(time.Now().Add(5*time.Minute)) {
		t.Errorf("startsAt %v, endsAt %v: want a start in the past and an end about 4m ahead", a.StartsAt, a.EndsAt)
	}
	firingEndsAt := a.EndsAt

	// Alertmanager notifies its own receiver with our alert.
	waitFor(t, 20*time.Second, "Alertmanager's firing notification", func() bool { return len(hook.byAlertname("InteropLagHigh")) > 0 })
	msg := hook.byAlertname("InteropLagHigh")[0]
	got := msg["alerts"].([]any)[0].(map[string]any)
	if msg["status"] != "firing" || got["labels"].(map[string]any)["db"] != "orders" || got["fingerprint"] != a.Fingerprint {
		t.Errorf("Alertmanager's notification: status %v, alert %v (fingerprint in its API %s)", msg["status"], got, a.Fingerprint)
	}

	// The condition clears: the resolution reaches Alertmanager at once,
	// not when the firing push's endsAt passes.
	lag.Store(math.Float64bits(10))
	waitFor(t, 20*time.Second, "the alert to leave Alertmanager's active alerts", func() bool {
		getJSON(t, am+"/api/v2/alerts", &alerts)
		return len(alerts) == 0
	})
	if !time.Now().Before(firingEndsAt) {
		t.Fatalf("the alert left Alertmanager only at its endsAt %v: the resolution was not pushed", firingEndsAt)
	}
	waitFor(t, 20*time.Second, "Alertmanager's resolved notification", func() bool {
		for _, m := range hook.byAlertname("InteropLagHigh") {
			if m["status"] == "resolved" {
				return true
			}
		}
		return false
	})
	for _, m := range hook.byAlertname("InteropLagHigh") {
		if m["status"] != "resolved" {
			continue
		}
		r := m["alerts"].([]any)[0].(map[string]any)
		endsAt, _ := time.Parse(time.RFC3339Nano, r["endsAt"].(string))
		if r["fingerprint"] != a.Fingerprint || !endsAt.Before(firingEndsAt) || endsAt.Before(a.StartsAt) {
			t.Errorf("resolved alert %v: want fingerprint %s and endsAt between %v and %v", r, a.Fingerprint, a.StartsAt, firingEndsAt)
		}
	}

	metrics := scrape(t, "http://"+addr)
	if !strings.Contains(metrics, `stratus_alertmanager_alerts_sent_total{alertmanager="`+am+`"} `) ||
		strings.Contains(metrics, `stratus_alertmanager_alerts_errors_total{alertmanager="`+am+`"} `) {
		t.Errorf("/metrics: want alerts sent and no errors for %s:\n%s", am, grepLines(metrics, "stratus_alertmanager_"))
	}
	p.stop(t)
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
