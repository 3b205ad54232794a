package alert

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestManagerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newTestEnv(t, stateRules, func(o *Options) { o.Registerer = reg })
	e.q.set("lag > 5", sample(9, "country", "de"))
	e.q.fail("sticky > 5", errors.New("engine down"))
	e.evalAt(t0)
	e.evalAt(t0.Add(3 * time.Minute))

	key := e.m.Groups()[0].key
	want := `
# HELP stratus_alerts Alerts that are pending or firing now, by state.
# TYPE stratus_alerts gauge
stratus_alerts{state="firing"} 1
stratus_alerts{state="pending"} 0
# HELP stratus_rule_evaluation_failures_total Rule evaluations that failed (query error, limit exceeded, duplicate label sets), per rule group.
# TYPE stratus_rule_evaluation_failures_total counter
stratus_rule_evaluation_failures_total{rule_group="KEY"} 2
`
	want = strings.ReplaceAll(want, "KEY", key)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_alerts", "stratus_rule_evaluation_failures_total"); err != nil {
		t.Error(err)
	}
	rules := len(e.m.Groups()[0].rules)
	if got := testutil.ToFloat64(e.m.metrics.evals.WithLabelValues(key)); got != float64(2*rules) {
		t.Errorf("stratus_rule_evaluations_total = %v, want %d", got, 2*rules)
	}
	if n, err := testutil.GatherAndCount(reg, "stratus_rule_group_last_duration_seconds"); err != nil || n != 1 {
		t.Errorf("stratus_rule_group_last_duration_seconds series = %d, %v", n, err)
	}
	if errs := e.m.Groups()[0].LastErrors(); len(errs) != 1 || !strings.Contains(errs[0].Error(), `rule "Sticky": query promql: engine down`) {
		t.Errorf("LastErrors = %v", errs)
	}

	// A reload that drops the group drops its series.
	writeFile(t, e.dir, "rules.yml", "groups: []\n")
	if err := e.m.Reload([]string{e.dir + "/rules.yml"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := testutil.GatherAndCount(reg, "stratus_rule_evaluations_total"); n != 0 {
		t.Errorf("series of a removed group still reported: %d", n)
	}
}

func TestNotifierMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, c := newHook(t), newClock()
	cfg, err := LoadNotifierConfig(strings.ReplaceAll(notifierConfig, "URL", h.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNotifier(NotifierOptions{Config: cfg, DataDir: t.TempDir(), Now: c.Now, Registerer: reg,
		Rand: func() float64 { return 0.5 }, RetryBase: time.Second, RetryMax: 8 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()

	h.queue(503) // the first attempt fails and is retried
	n.Send([]*Alert{firingAlert(t0, "alertname", "Lag", "severity", "page")}, t0.Add(4*time.Minute))
	step(n, c, t0.Add(30*time.Second))
	if got := testutil.ToFloat64(n.metrics.notifications.WithLabelValues("oncall", "delivered")); got != 0 {
		t.Fatalf("delivered before the retry: %v", got)
	}
	queue := `
# HELP stratus_notifications_queue_length Notifications in the outbox not yet delivered or given up: waiting, being sent or waiting for a retry.
# TYPE stratus_notifications_queue_length gauge
stratus_notifications_queue_length 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(queue), "stratus_notifications_queue_length"); err != nil {
		t.Error(err)
	}
	step(n, c, t0.Add(time.Minute))
	want := `
# HELP stratus_notifications_queue_length Notifications in the outbox not yet delivered or given up: waiting, being sent or waiting for a retry.
# TYPE stratus_notifications_queue_length gauge
stratus_notifications_queue_length 0
# HELP stratus_notifications_total Webhook notifications by receiver and final status: delivered, failed (rejected or retried for too long) or superseded (replaced by a newer notification of the same group before delivery).
# TYPE stratus_notifications_total counter
stratus_notifications_total{receiver="oncall",status="delivered"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "stratus_notifications_total", "stratus_notifications_queue_length"); err != nil {
		t.Error(err)
	}
	if got := testutil.CollectAndCount(n.metrics.latency); got != 1 {
		t.Errorf("latency histograms = %d, want 1 (receiver oncall)", got)
	}
	if h := histogramCount(t, reg, "stratus_notification_latency_seconds"); h != 2 {
		t.Errorf("attempts observed = %d, want 2", h)
	}
}

func histogramCount(t *testing.T, g prometheus.Gatherer, name string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}
