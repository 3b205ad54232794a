package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stratus-metrics/stratus/model"
)

// NotifierOptions configures a Notifier. Config is required.
type NotifierOptions struct {
	// Config is the `alerting:` section, parsed by LoadNotifierConfig.
	Config *amconfig.Config
	// DataDir holds the outbox and the silences. "" keeps them in memory:
	// notifications and silences are then lost on restart, and a firing
	// alert pages again.
	DataDir string
	// ExternalURL is the payload's externalURL.
	ExternalURL string
	// Client sends webhooks; nil means a client with a 10s timeout that
	// keeps MaxAttemptsPerHost idle connections per host. A client passed
	// in should keep as many, or connections are not reused in a burst.
	Client *http.Client
	// MaxAttemptsPerHost bounds the delivery attempts in flight to one
	// receiver host (16): a burst of notifications then reuses a few
	// keep-alive connections instead of opening one each, and a receiver
	// that hangs holds up only its own notifications.
	MaxAttemptsPerHost int
	// Logger receives delivery problems; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand returns a number in [0, 1) for retry jitter; nil means math/rand.
	Rand func() float64
	// RetryBase and RetryMax bound the exponential backoff between
	// attempts (1s and 2m).
	RetryBase, RetryMax time.Duration
	// MaxRetryDuration is how long a notification is retried before it is
	// given up as failed (12h).
	MaxRetryDuration time.Duration
	// TickInterval is the resolution of group timers and retries (1s).
	TickInterval time.Duration
	// LogRetention is how long a group's last notification is remembered
	// to suppress repeats (120h, Alertmanager's default).
	LogRetention time.Duration
	// DeliveryLogSize bounds the delivery log kept for the UI (200).
	DeliveryLogSize int
	// Registerer receives the Notifier's self-metrics
	// (stratus_notifications_*, stratus_notification_latency_seconds);
	// nil registers none.
	Registerer prometheus.Registerer
}

// Validate checks the options and fills in defaults.
func (o *NotifierOptions) Validate() error {
	if o.Config == nil {
		return errors.New("notifier options: Config is required")
	}
	if o.MaxAttemptsPerHost <= 0 {
		o.MaxAttemptsPerHost = 16
	}
	if o.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = o.MaxAttemptsPerHost
		o.Client = &http.Client{Timeout: 10 * time.Second, Transport: tr}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = mrand.Float64
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.RetryBase, time.Second)
	def(&o.RetryMax, 2*time.Minute)
	def(&o.MaxRetryDuration, 12*time.Hour)
	def(&o.TickInterval, time.Second)
	def(&o.LogRetention, 120*time.Hour)
	if o.DeliveryLogSize <= 0 {
		o.DeliveryLogSize = 200
	}
	return nil
}

// notifierAlert is an alert as the notifier holds it: Alertmanager's model,
// with EndsAt either the resolution time or the time until which a firing
// alert is valid without being sent again.
type notifierAlert struct {
	labels       model.Labels
	labelMap     map[string]string
	annotations  model.Labels
	startsAt     time.Time
	endsAt       time.Time
	generatorURL string
	fp           uint64
}

func (a *notifierAlert) resolved(now time.Time) bool {
	return !a.endsAt.IsZero() && !a.endsAt.After(now)
}

// aggrGroup is an aggregation group: the alerts of one route with the same
// values of the route's group_by labels, notified together.
type aggrGroup struct {
	route    *route
	labels   model.Labels
	groupKey string
	alerts   map[uint64]*notifierAlert
	next     time.Time // next flush
	flushed  bool
}

// logEntry is the last notification of one group to one webhook: what it
// said and when. It is Alertmanager's notification log entry.
type logEntry struct {
	firing, resolved map[string]bool
	time             time.Time
}

// decision is a group notification decided by a flush: its outbox record
// and the notification-log entry it makes once committed.
type decision struct {
	rec   outboxRecord
	entry *logEntry
}

// delivery is a notification being sent or sent.
type delivery struct {
	rec       outboxRecord
	seq       int
	status    string // "pending", "sending", "retrying", "delivered", "failed", "superseded"
	attempts  int
	lastErr   string
	next      time.Time
	updatedAt time.Time
	host      string // the webhook URL's host, for MaxAttemptsPerHost
}

// Notifier groups alerts by the Alertmanager routing tree, mutes them by
// silences and inhibit rules, decides when a group is notified
// (group_wait, group_interval, repeat_interval), and delivers webhooks from
// a durable outbox with retries. It is safe for concurrent use.
type Notifier struct {
	opts     NotifierOptions
	logger   *slog.Logger
	now      func() time.Time
	silences *Silences
	wake     chan struct{}
	metrics  *notifierMetrics

	sendCtx    context.Context // canceled by Close: aborts attempts in flight
	sendCancel context.CancelFunc
	sendWG     sync.WaitGroup // attempts in flight

	mu        sync.Mutex // guards everything below, and the outbox file
	outbox    *outbox    // nil without a data dir
	root      *route
	receivers map[string][]webhookTarget
	inhibit   []inhibitRule
	alerts    map[uint64]*notifierAlert
	groups    map[string]*aggrGroup
	nflog     map[string]*logEntry
	pending   map[string]*delivery // not yet final, by ID
	busyKeys  map[string]bool      // log keys with an attempt in flight
	busyHosts map[string]int       // attempts in flight per receiver host
	recent    []*delivery          // the delivery log, oldest first
	decided   []decision           // notifications decided in this tick, not yet committed
	seq       int
	running   bool
	stopRun   context.CancelFunc
	runDone   chan struct{}
}

// NewNotifier opens the outbox and the silences in DataDir and replays
// them: notifications not yet delivered before a restart are sent again
// once Run starts.
func NewNotifier(opts NotifierOptions) (*Notifier, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{
		opts: opts, logger: opts.Logger, now: opts.Now,
		wake: make(chan struct{}, 1), metrics: newNotifierMetrics(),
		alerts: map[uint64]*notifierAlert{}, groups: map[string]*aggrGroup{},
		nflog: map[string]*logEntry{}, pending: map[string]*delivery{}, busyKeys: map[string]bool{}, busyHosts: map[string]int{},
	}
	n.sendCtx, n.sendCancel = context.WithCancel(context.Background())
	if err := n.applyConfigLocked(opts.Config); err != nil {
		return nil, err
	}
	var err error
	if n.silences, err = openSilences(silencesPath(opts.DataDir), n.now); err != nil {
		return nil, err
	}
	if opts.DataDir != "" {
		ob, recs, damaged, err := openOutbox(filepath.Join(opts.DataDir, "outbox.log"))
		if err != nil {
			return nil, err
		}
		if damaged > 0 {
			n.logger.Warn("outbox has a damaged tail; dropped it", "lines", damaged, "path", ob.path)
		}
		n.outbox = ob
		if err := n.replay(recs); err != nil {
			return nil, err
		}
	}
	n.metrics.register(n, opts.Registerer)
	return n, nil
}

// ApplyConfig replaces the routing tree, receivers and inhibit rules. Alerts
// are regrouped under the new tree; the notification log is kept, so groups
// that were already notified are not notified again.
func (n *Notifier) ApplyConfig(cfg *amconfig.Config) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.applyConfigLocked(cfg); err != nil {
		return err
	}
	n.groups = map[string]*aggrGroup{}
	now := n.now()
	for _, a := range n.alerts {
		if !a.resolved(now) {
			n.routeLocked(a, now)
		}
	}
	return nil
}

func (n *Notifier) applyConfigLocked(cfg *amconfig.Config) error {
	if cfg == nil || cfg.Route == nil {
		return errors.New("alerting configuration: no route")
	}
	recv, err := buildReceivers(cfg)
	if err != nil {
		return err
	}
	n.receivers, n.root, n.inhibit = recv, newRoute(cfg.Route, nil, 0), buildInhibitRules(cfg)
	return nil
}

// Silences returns the notifier's silences.
func (n *Notifier) Silences() *Silences { return n.silences }

// Send hands alerts to the notifier. A firing alert counts as firing until
// validUntil unless sent again; an inactive alert counts as resolved at its
// ResolvedAt. Send does not block on the network.
func (n *Notifier) Send(alerts []*Alert, validUntil time.Time) {
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	due := false
	for _, a := range alerts {
		na := &notifierAlert{
			labels: a.Labels, labelMap: a.Labels.Map(), annotations: a.Annotations,
			startsAt: a.FiredAt, endsAt: validUntil, generatorURL: a.GeneratorURL, fp: a.Fingerprint(),
		}
		if na.startsAt.IsZero() {
			na.startsAt = a.ActiveAt
		}
		if a.State == StateInactive {
			na.endsAt = a.ResolvedAt
		}
		if old, ok := n.alerts[na.fp]; ok && old.resolved(now) && na.resolved(now) && old.endsAt.Equal(na.endsAt) {
			continue // a resolution already known: nothing new to group
		}
		n.alerts[na.fp] = na
		due = n.routeLocked(na, now) || due
	}
	if due {
		n.poke() // a new group is due now (group_wait 0 or elapsed): do not wait for the tick
	}
}

// routeLocked puts a into the aggregation group of every route it matches.
// It reports whether a group not yet notified is due now.
func (n *Notifier) routeLocked(a *notifierAlert, now time.Time) bool {
	due := false
	for _, r := range n.root.match(a.labelMap) {
		gl := r.groupLabels(a.labels)
		gk := groupKeyString(r.key(), gl)
		k := r.id() + "\xff" + gk
		ag, ok := n.groups[k]
		if !ok {
			ag = &aggrGroup{route: r, labels: gl, groupKey: gk, alerts: map[uint64]*notifierAlert{}, next: now.Add(r.groupWait)}
			n.groups[k] = ag
		}
		ag.alerts[a.fp] = a
		// As Alertmanager: an alert that started longer than group_wait
		// ago (say, restored after a restart) does not wait again.
		if !ag.flushed && a.startsAt.Add(r.groupWait).Before(now) {
			ag.next = now
		}
		due = due || (!ag.flushed && !now.Before(ag.next))
	}
	return due
}

// Run drives group timers and deliveries until ctx is done or Close is
// called.
func (n *Notifier) Run(ctx context.Context) error {
	n.mu.Lock()
	if n.running {
		n.mu.Unlock()
		return errors.New("notifier: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	n.running, n.stopRun, n.runDone = true, cancel, make(chan struct{})
	done := n.runDone
	n.mu.Unlock()
	defer close(done)

	t := time.NewTicker(n.opts.TickInterval)
	defer t.Stop()
	for {
		n.tick(n.now())
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-n.wake:
		}
	}
}

// Close stops Run, aborts attempts in flight (they are retried after a
// restart, from the outbox) and closes the outbox.
func (n *Notifier) Close() error {
	n.mu.Lock()
	stop, done := n.stopRun, n.runDone
	n.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	n.sendCancel()
	n.sendWG.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.outbox != nil {
		return n.outbox.close()
	}
	return nil
}

func (n *Notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// tick flushes the groups that are due and starts the deliveries that are
// due. Tests call it with exact times.
func (n *Notifier) tick(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	keys := make([]string, 0, len(n.groups))
	for k, ag := range n.groups {
		if !now.Before(ag.next) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	// The firing alerts that may inhibit others, gathered once per tick
	// rather than once per group: with many groups due at once (a burst of
	// new alerts) that is the difference between linear and quadratic.
	var firingAll []*notifierAlert
	if len(keys) > 0 && len(n.inhibit) > 0 {
		for _, a := range n.alerts {
			if !a.resolved(now) {
				firingAll = append(firingAll, a)
			}
		}
	}
	for _, k := range keys {
		ag := n.groups[k]
		n.flushLocked(ag, firingAll, now)
		ag.flushed = true
		ag.next = now.Add(ag.route.groupInterval)
		if len(ag.alerts) == 0 {
			delete(n.groups, k)
		}
	}
	n.commitLocked(now)
	for fp, a := range n.alerts {
		if a.resolved(now) && now.Sub(a.endsAt) > 2*resolvedRetention {
			delete(n.alerts, fp)
		}
	}
	n.startDueLocked(now)
	if n.outbox != nil {
		if err := n.outbox.syncIfDirty(); err != nil {
			// Outcomes are in the file but maybe not on disk: after a
			// power loss their notifications are sent once more.
			n.logger.Error("sync delivery outcomes to the outbox", "err", err)
		}
	}
}

// commitLocked makes the notifications decided in this tick durable with
// one write and one fsync for all of them (a group commit), then records
// them in the notification log and queues them for delivery. Nothing is
// sent before it is on disk. If the write fails none is logged as
// notified, so each group's next flush decides again.
func (n *Notifier) commitLocked(now time.Time) {
	ds := n.decided
	n.decided = nil
	if len(ds) == 0 {
		return
	}
	if n.outbox != nil {
		recs := make([]outboxRecord, len(ds))
		for i, d := range ds {
			recs[i] = d.rec
		}
		if err := n.outbox.append(recs...); err != nil {
			n.logger.Error("record notifications; will retry at the next group interval", "notifications", len(ds), "err", err)
			return
		}
	}
	for _, d := range ds {
		n.nflog[d.rec.Key] = d.entry
		if d.rec.Payload != nil {
			n.enqueueLocked(d.rec, now)
		}
	}
	n.maybeCompactLocked(now)
}

// flushLocked decides, per webhook of the group's receiver, whether the
// group is notified now, and if so adds the notification to n.decided for
// commitLocked. firingAll are the firing alerts, for inhibition.
func (n *Notifier) flushLocked(ag *aggrGroup, firingAll []*notifierAlert, now time.Time) {
	alerts := make([]*notifierAlert, 0, len(ag.alerts))
	for _, a := range ag.alerts {
		alerts = append(alerts, a)
	}
	sortAlerts(alerts)
	for fp, a := range ag.alerts {
		if a.resolved(now) {
			delete(ag.alerts, fp) // considered now; forgotten after this flush
		}
	}
	kept := alerts[:0:0]
	for _, a := range alerts {
		if _, muted := n.silences.Mutes(a.labelMap, now); muted {
			continue
		}
		if inhibited(n.inhibit, a.labelMap, a.fp, firingAll) {
			continue
		}
		kept = append(kept, a)
	}
	if len(kept) == 0 {
		return // everything muted: as Alertmanager, nothing is sent or logged
	}
	firing, resolved := map[string]bool{}, map[string]bool{}
	for _, a := range kept {
		fp := fmt.Sprintf("%016x", a.fp)
		if a.resolved(now) {
			resolved[fp] = true
		} else {
			firing[fp] = true
		}
	}
	for i, t := range n.receivers[ag.route.receiver] {
		key := ag.route.receiver + "/webhook/" + strconv.Itoa(i) + "/" + ag.groupKey
		reason, ok := needsUpdate(n.nflog[key], firing, resolved, t.sendResolved, ag.route.repeatInterval, now)
		if !ok {
			continue
		}
		send := kept
		if !t.sendResolved {
			send = nil
			for _, a := range kept {
				if !a.resolved(now) {
					send = append(send, a)
				}
			}
		}
		rec := outboxRecord{
			Type: recNotify, ID: newID(), Time: now, Key: key, Receiver: ag.route.receiver,
			Integration: i, GroupKey: ag.groupKey, URL: t.url,
			Firing: sortedSet(firing), Resolved: sortedSet(resolved),
		}
		if len(send) > 0 {
			payload, status, count := buildPayload(ag, reason, send, t.maxAlerts, n.opts.ExternalURL, now)
			rec.Payload, rec.Status, rec.Alerts = payload, status, count
		}
		n.decided = append(n.decided, decision{rec: rec, entry: &logEntry{firing: firing, resolved: resolved, time: now}})
	}
}

// needsUpdate is Alertmanager's deduplication rule: notify a group when it
// has new firing alerts, when all its alerts resolved, when alerts resolved
// and the webhook wants resolutions, or when repeat_interval passed since
// the last notification. It returns the reason, for the payload.
func needsUpdate(e *logEntry, firing, resolved map[string]bool, sendResolved bool, repeat time.Duration, now time.Time) (string, bool) {
	if e == nil {
		return "first notification", len(firing) > 0
	}
	for fp := range firing {
		if !e.firing[fp] {
			return "new alerts added", true
		}
	}
	if len(firing) == 0 {
		return "all alerts resolved", len(e.firing) > 0
	}
	if sendResolved {
		for fp := range resolved {
			if !e.resolved[fp] {
				return "some alerts resolved", true
			}
		}
	}
	return "repeat interval elapsed", !e.time.After(now.Add(-repeat))
}

// enqueueLocked makes rec's notification pending. An older pending
// notification of the same group to the same webhook is superseded: the
// new one carries the group's whole current state, and sending the old one
// afterwards would only show on-call a stale picture.
func (n *Notifier) enqueueLocked(rec outboxRecord, now time.Time) {
	for _, d := range n.pending {
		if d.rec.Key == rec.Key && d.status != "sending" {
			n.finishLocked(d, "superseded", "", now)
		}
	}
	n.seq++
	d := &delivery{rec: rec, seq: n.seq, status: "pending", next: now, updatedAt: now}
	n.pending[rec.ID] = d
	n.recent = append(n.recent, d)
	if over := len(n.recent) - n.opts.DeliveryLogSize; over > 0 {
		n.recent = slices.Delete(n.recent, 0, over)
	}
	n.poke()
}

// finishLocked records a final state of d in the outbox and the log.
func (n *Notifier) finishLocked(d *delivery, status, errText string, now time.Time) {
	d.status, d.updatedAt = status, now
	if errText != "" {
		d.lastErr = errText
	}
	delete(n.pending, d.rec.ID)
	n.metrics.notifications.WithLabelValues(d.rec.Receiver, status).Inc()
	if n.outbox == nil {
		return
	}
	typ := map[string]string{"delivered": recDelivered, "failed": recFailed, "superseded": recSuperseded}[status]
	rec := outboxRecord{Type: typ, ID: d.rec.ID, Time: now, Attempts: d.attempts, Error: d.lastErr}
	// Written now, fsynced at the end of the tick (with the outcomes that
	// finished meanwhile): an outcome lost to a power cut only means one
	// more attempt after the restart, which the Idempotency-Key covers.
	if err := n.outbox.appendLazy(rec); err != nil {
		// The notification stays "not done" on disk: after a restart it is
		// sent once more. A duplicate beats a lost page.
		n.logger.Error("record delivery outcome", "id", d.rec.ID, "status", status, "err", err)
	}
}

// startDueLocked starts an attempt for every due delivery whose group has
// no attempt in flight, oldest first, so a group's notifications arrive in
// order, as long as its receiver host has fewer than MaxAttemptsPerHost in
// flight; the others wait for the next tick, which each finished attempt
// triggers.
func (n *Notifier) startDueLocked(now time.Time) {
	due := make([]*delivery, 0, len(n.pending))
	for _, d := range n.pending {
		if d.status != "sending" && !now.Before(d.next) && !n.busyKeys[d.rec.Key] {
			due = append(due, d)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].seq < due[j].seq })
	for _, d := range due {
		if d.host == "" {
			d.host = d.rec.URL
			if u, err := url.Parse(d.rec.URL); err == nil {
				d.host = u.Host
			}
		}
		if n.busyKeys[d.rec.Key] || n.busyHosts[d.host] >= n.opts.MaxAttemptsPerHost {
			continue
		}
		n.busyKeys[d.rec.Key] = true
		n.busyHosts[d.host]++
		d.status, d.updatedAt = "sending", now
		d.attempts++
		target := webhookTarget{url: d.rec.URL}
		if ts := n.receivers[d.rec.Receiver]; d.rec.Integration < len(ts) && ts[d.rec.Integration].url == d.rec.URL {
			target = ts[d.rec.Integration]
		}
		n.sendWG.Add(1)
		go func(d *delivery, payload []byte) {
			defer n.sendWG.Done()
			began := time.Now()
			err := postWebhook(n.sendCtx, n.opts.Client, target, d.rec.ID, payload)
			n.metrics.latency.WithLabelValues(d.rec.Receiver).Observe(time.Since(began).Seconds())
			n.attemptDone(d, err)
		}(d, d.rec.Payload)
	}
}

// attemptDone records the outcome of one attempt and schedules a retry
// with exponential backoff and jitter if it failed and may succeed later.
func (n *Notifier) attemptDone(d *delivery, err error) {
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.busyKeys, d.rec.Key)
	if n.busyHosts[d.host]--; n.busyHosts[d.host] <= 0 {
		delete(n.busyHosts, d.host)
	}
	defer n.poke()
	if err == nil {
		n.finishLocked(d, "delivered", "", now)
		return
	}
	d.lastErr = err.Error()
	var pe *permanentError
	switch {
	case errors.As(err, &pe):
		n.logger.Error("webhook rejected the notification; not retrying", "receiver", d.rec.Receiver, "group_key", d.rec.GroupKey, "err", err)
		n.finishLocked(d, "failed", "", now)
	case now.Sub(d.rec.Time) >= n.opts.MaxRetryDuration:
		n.logger.Error("webhook notification given up", "receiver", d.rec.Receiver, "group_key", d.rec.GroupKey, "attempts", d.attempts, "err", err)
		n.finishLocked(d, "failed", "", now)
	case n.sendCtx.Err() != nil:
		d.status = "pending" // shutting down: the outbox sends it after the restart
	default:
		for _, o := range n.pending {
			if o.rec.Key == d.rec.Key && o.seq > d.seq {
				n.finishLocked(d, "superseded", "", now)
				return
			}
		}
		d.status, d.updatedAt = "retrying", now
		d.next = now.Add(n.backoff(d.attempts))
		n.logger.Warn("webhook attempt failed; retrying", "receiver", d.rec.Receiver, "group_key", d.rec.GroupKey, "attempt", d.attempts, "next", d.next, "err", err)
	}
}

// backoff returns the wait after the given number of failed attempts:
// RetryBase doubled per attempt, capped at RetryMax, with the upper half
// jittered so that many groups failing together do not retry in lockstep.
func (n *Notifier) backoff(attempts int) time.Duration {
	d := n.opts.RetryBase
	for i := 1; i < attempts && d < n.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, n.opts.RetryMax)
	return d/2 + time.Duration(n.opts.Rand()*float64(d/2))
}

// replay rebuilds the notification log and the pending deliveries from the
// outbox, then rewrites it with only what is still needed.
func (n *Notifier) replay(recs []outboxRecord) error {
	now := n.now()
	notifies := map[string]*outboxRecord{}
	final := map[string]outboxRecord{}
	var order []string
	for i := range recs {
		r := &recs[i]
		switch r.Type {
		case recNotify:
			notifies[r.ID] = r
			order = append(order, r.ID)
		default:
			final[r.ID] = *r
		}
	}
	lastByKey, lastSentByKey := map[string]string{}, map[string]string{}
	for _, id := range order {
		lastByKey[notifies[id].Key] = id
		if notifies[id].Payload != nil {
			lastSentByKey[notifies[id].Key] = id
		}
	}
	var keep []outboxRecord
	for _, id := range order {
		r := notifies[id]
		last := lastByKey[r.Key] == id
		f, done := final[id]
		if !done && r.Payload != nil && lastSentByKey[r.Key] != id {
			// A newer notification of the same group replaces it.
			f, done = outboxRecord{Type: recSuperseded, ID: id, Time: now}, true
		}
		if last && now.Sub(r.Time) <= n.opts.LogRetention {
			n.nflog[r.Key] = &logEntry{firing: setOf(r.Firing), resolved: setOf(r.Resolved), time: r.Time}
		}
		n.seq++
		d := &delivery{rec: *r, seq: n.seq, status: "pending", next: now, updatedAt: r.Time}
		switch {
		case r.Payload == nil:
			d.status = "logged"
		case done:
			d.status, d.attempts, d.lastErr, d.updatedAt = f.Type, f.Attempts, f.Error, f.Time
		default:
			n.pending[id] = d
		}
		if r.Payload != nil {
			n.recent = append(n.recent, d)
		}
		if (last && now.Sub(r.Time) <= n.opts.LogRetention) || (!done && r.Payload != nil) {
			keep = append(keep, *r)
			if done {
				keep = append(keep, f)
			}
		}
	}
	if over := len(n.recent) - n.opts.DeliveryLogSize; over > 0 {
		n.recent = slices.Delete(n.recent, 0, over)
	}
	return n.outbox.rewrite(keep)
}

// maybeCompactLocked rewrites the outbox once it has grown well past what
// it needs to hold.
func (n *Notifier) maybeCompactLocked(now time.Time) {
	if n.outbox == nil || n.outbox.n < 4096 {
		return
	}
	// The pending notifications, and the last notification of each group
	// as the log entry (without its payload, which is no longer needed).
	var keep []outboxRecord
	hasPending := map[string]bool{}
	for _, d := range n.pending {
		keep = append(keep, d.rec)
		hasPending[d.rec.Key] = true
	}
	for key, e := range n.nflog {
		if hasPending[key] {
			continue // the pending record is the key's last notification
		}
		if now.Sub(e.time) > n.opts.LogRetention {
			delete(n.nflog, key)
			continue
		}
		keep = append(keep, outboxRecord{Type: recNotify, ID: newID(), Time: e.time, Key: key,
			Firing: sortedSet(e.firing), Resolved: sortedSet(e.resolved)})
	}
	slices.SortFunc(keep, func(a, b outboxRecord) int { return a.Time.Compare(b.Time) })
	if err := n.outbox.rewrite(keep); err != nil {
		n.logger.Error("compact outbox", "err", err)
	}
}

// Delivery is one entry of the delivery log: a webhook notification and
// how its delivery went.
type Delivery struct {
	ID          string    `json:"id"`
	Receiver    string    `json:"receiver"`
	Integration int       `json:"integration"`
	GroupKey    string    `json:"groupKey"`
	Status      string    `json:"status"`      // pending, sending, retrying, delivered, failed, superseded
	AlertStatus string    `json:"alertStatus"` // firing or resolved
	Alerts      int       `json:"alerts"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"lastError,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	NextAttempt time.Time `json:"nextAttemptAt,omitzero"`
}

// Deliveries returns the delivery log, newest first.
func (n *Notifier) Deliveries() []Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Delivery, 0, len(n.recent))
	for i := len(n.recent) - 1; i >= 0; i-- {
		d := n.recent[i]
		e := Delivery{
			ID: d.rec.ID, Receiver: d.rec.Receiver, Integration: d.rec.Integration, GroupKey: d.rec.GroupKey,
			Status: d.status, AlertStatus: d.rec.Status, Alerts: d.rec.Alerts, Attempts: d.attempts,
			LastError: d.lastErr, CreatedAt: d.rec.Time, UpdatedAt: d.updatedAt,
		}
		if d.status == "retrying" {
			e.NextAttempt = d.next
		}
		out = append(out, e)
	}
	return out
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func setOf(ss []string) map[string]bool {
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[s] = true
	}
	return m
}
