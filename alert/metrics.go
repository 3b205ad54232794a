package alert

import (
	"github.com/prometheus/client_golang/prometheus"
)

// managerMetrics are the Manager's self-metrics. They follow Prometheus's
// own rule-manager metrics (prometheus_rule_evaluations_total, ...) with
// our prefix, so that dashboards written for one read the other. The
// rule_group label is the group's file and name joined by ";", as in
// Prometheus.
type managerMetrics struct {
	evals        *prometheus.CounterVec
	evalFailures *prometheus.CounterVec
	lastDuration *prometheus.GaugeVec
}

// newManagerMetrics registers the Manager's metrics on reg; a nil reg
// keeps them unregistered, which tests that build many Managers rely on.
func newManagerMetrics(m *Manager, reg prometheus.Registerer) *managerMetrics {
	mm := &managerMetrics{
		evals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_rule_evaluations_total",
			Help: "Rule evaluations, per rule group: each evaluation of a group counts once per rule.",
		}, []string{"rule_group"}),
		evalFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_rule_evaluation_failures_total",
			Help: "Rule evaluations that failed (query error, limit exceeded, duplicate label sets), per rule group.",
		}, []string{"rule_group"}),
		lastDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stratus_rule_group_last_duration_seconds",
			Help: "How long the last evaluation of the rule group took; compare with its interval to see a group falling behind.",
		}, []string{"rule_group"}),
	}
	if reg != nil {
		reg.MustRegister(mm.evals, mm.evalFailures, mm.lastDuration, &alertsCollector{m: m})
	}
	return mm
}

// forget drops the series of a group that a reload removed, so that
// /metrics does not report a group that no longer exists.
func (mm *managerMetrics) forget(groupKey string) {
	mm.evals.DeleteLabelValues(groupKey)
	mm.evalFailures.DeleteLabelValues(groupKey)
	mm.lastDuration.DeleteLabelValues(groupKey)
}

// alertsCollector reports stratus_alerts{state} from the rules' current
// alerts at scrape time, so that the gauge can never drift from what the
// alerts API shows.
type alertsCollector struct{ m *Manager }

var alertsDesc = prometheus.NewDesc("stratus_alerts",
	"Alerts that are pending or firing now, by state.", []string{"state"}, nil)

// Describe implements prometheus.Collector.
func (c *alertsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- alertsDesc }

// Collect implements prometheus.Collector.
func (c *alertsCollector) Collect(ch chan<- prometheus.Metric) {
	var pending, firing float64
	for _, a := range c.m.Alerts() {
		switch a.State {
		case StatePending:
			pending++
		case StateFiring:
			firing++
		}
	}
	ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, pending, StatePending.String())
	ch <- prometheus.MustNewConstMetric(alertsDesc, prometheus.GaugeValue, firing, StateFiring.String())
}

// notifierMetrics are the Notifier's self-metrics, after Alertmanager's
// alertmanager_notifications_total and _notification_latency_seconds.
type notifierMetrics struct {
	// notifications counts notifications by their final outcome
	// (delivered, failed, superseded), once each however many attempts
	// it took.
	notifications *prometheus.CounterVec
	// latency observes every delivery attempt, failed ones included, so a
	// slow receiver shows before it times out.
	latency *prometheus.HistogramVec
}

// newNotifierMetrics creates the Notifier's metrics; register adds them to
// a registry once the Notifier has opened successfully, so that a failed
// start leaves nothing registered.
func newNotifierMetrics() *notifierMetrics {
	return &notifierMetrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_notifications_total",
			Help: "Webhook notifications by receiver and final status: delivered, failed (rejected or retried for too long) or superseded (replaced by a newer notification of the same group before delivery).",
		}, []string{"receiver", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stratus_notification_latency_seconds",
			Help:    "Duration of webhook delivery attempts, by receiver.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"receiver"}),
	}
}

// register adds the metrics, and the outbox's queue length read from n,
// to reg; a nil reg registers nothing.
func (nm *notifierMetrics) register(n *Notifier, reg prometheus.Registerer) {
	if reg != nil {
		queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "stratus_notifications_queue_length",
			Help: "Notifications in the outbox not yet delivered or given up: waiting, being sent or waiting for a retry.",
		}, func() float64 {
			n.mu.Lock()
			defer n.mu.Unlock()
			return float64(len(n.pending))
		})
		reg.MustRegister(nm.notifications, nm.latency, queue)
	}
}

// pusherMetrics are the Pusher's self-metrics, after Prometheus's
// prometheus_notifications_{sent,errors,dropped}_total,
// _queue_length and _latency_seconds, per Alertmanager.
type pusherMetrics struct {
	sent    *prometheus.CounterVec
	errors  *prometheus.CounterVec
	dropped prometheus.Counter
	latency *prometheus.HistogramVec
}

// newPusherMetrics creates the Pusher's metrics and registers them, with
// the queue length read from p, on reg; a nil reg registers none.
func newPusherMetrics(p *Pusher, reg prometheus.Registerer) *pusherMetrics {
	pm := &pusherMetrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_alertmanager_alerts_sent_total",
			Help: "Alerts pushed to an Alertmanager's /api/v2/alerts and accepted, by Alertmanager.",
		}, []string{"alertmanager"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_alertmanager_alerts_errors_total",
			Help: "Alerts in pushes to an Alertmanager that failed (network error or non-2xx answer), by Alertmanager; they are sent again at their next resend.",
		}, []string{"alertmanager"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "stratus_alertmanager_alerts_dropped_total",
			Help: "Alerts dropped from the full Alertmanager push queue before being sent.",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stratus_alertmanager_latency_seconds",
			Help:    "Duration of pushes to an Alertmanager, failed ones included, by Alertmanager.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"alertmanager"}),
	}
	if reg != nil {
		queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "stratus_alertmanager_queue_length",
			Help: "Alerts waiting to be pushed to the Alertmanagers.",
		}, func() float64 { return float64(p.QueueLength()) })
		reg.MustRegister(pm.sent, pm.errors, pm.dropped, pm.latency, queue)
	}
	return pm
}
