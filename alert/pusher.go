package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The Pusher hands alerts to real Alertmanagers through their API
// (POST <url>/api/v2/alerts), as Prometheus does, for operators who route,
// silence and notify with Alertmanager rather than (or besides) Stratus's
// own notifier. Alertmanager deduplicates by label set and groups, silences
// and inhibits on its side, so the protocol is a stream of idempotent
// statements "this alert fires until endsAt" and "this alert resolved at
// endsAt":
//
//   - A firing alert is sent when it starts firing, then again every
//     ResendDelay while it fires, each time with endsAt four resend delays
//     (or evaluation intervals) ahead. If Stratus stops sending, Alertmanager
//     resolves the alert by itself at endsAt instead of keeping it forever.
//   - A resolved alert is sent at once with endsAt its resolution time, then
//     again every ResendDelay while the rule keeps it (15 minutes), so an
//     Alertmanager that missed the first push learns of it.
//   - A push that fails is not retried: the next resend carries the same
//     statement, and the queue stays bounded while an Alertmanager is down.
//
// Every Alertmanager gets every alert (they gossip among themselves in a
// cluster and deduplicate). Stratus's own silences and inhibit rules do not
// apply to pushed alerts; Alertmanager's do.

// AlertmanagerTarget is one Alertmanager that receives pushed alerts.
type AlertmanagerTarget struct {
	// URL is the Alertmanager's base URL, with its path prefix if it is
	// served under one: "http://127.0.0.1:9093". Alerts go to
	// URL + "/api/v2/alerts".
	URL string
	// Timeout bounds one push (10s).
	Timeout time.Duration
}

// PusherOptions configures a Pusher. At least one Alertmanager is required.
type PusherOptions struct {
	// Alertmanagers receive every pushed alert.
	Alertmanagers []AlertmanagerTarget
	// ResendDelay is how often an alert that is still firing, or resolved
	// recently, is sent again (1m, Prometheus's --rules.alert.resend-delay).
	ResendDelay time.Duration
	// QueueCapacity bounds the alerts waiting to be pushed (10000); when it
	// is full the oldest are dropped, and counted.
	QueueCapacity int
	// MaxBatch is the most alerts one request carries (256).
	MaxBatch int
	// Client sends the requests; nil means a plain http.Client (each
	// request is bounded by its target's Timeout).
	Client *http.Client
	// Logger receives push failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Registerer receives the Pusher's self-metrics
	// (stratus_alertmanager_*); nil registers none.
	Registerer prometheus.Registerer
}

// Validate checks the options and fills in defaults.
func (o *PusherOptions) Validate() error {
	if len(o.Alertmanagers) == 0 {
		return errors.New("pusher options: no Alertmanager")
	}
	seen := map[string]bool{}
	for i := range o.Alertmanagers {
		t := &o.Alertmanagers[i]
		if err := validateAlertmanagerURL(t.URL); err != nil {
			return fmt.Errorf("alertmanagers[%d]: %w", i, err)
		}
		if seen[t.URL] {
			return fmt.Errorf("alertmanagers[%d]: url %s is listed twice", i, redactURL(t.URL))
		}
		seen[t.URL] = true
		if t.Timeout < 0 {
			return fmt.Errorf("alertmanagers[%d]: timeout %v is negative", i, t.Timeout)
		}
		if t.Timeout == 0 {
			t.Timeout = 10 * time.Second
		}
	}
	if o.ResendDelay < 0 || o.QueueCapacity < 0 || o.MaxBatch < 0 {
		return fmt.Errorf("pusher options: resend delay %v, queue capacity %d, max batch %d: must not be negative", o.ResendDelay, o.QueueCapacity, o.MaxBatch)
	}
	if o.ResendDelay == 0 {
		o.ResendDelay = time.Minute
	}
	if o.QueueCapacity == 0 {
		o.QueueCapacity = 10000
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 256
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// validateAlertmanagerURL accepts an absolute http or https URL without a
// query or fragment, which could not be joined with the API path.
func validateAlertmanagerURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		// Nothing to redact from what does not parse; show it as written.
		return fmt.Errorf("url %q: must be an absolute http or https URL such as http://127.0.0.1:9093", s)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: must be an absolute http or https URL such as http://127.0.0.1:9093", redactURL(s))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("url %q: must not have a query or fragment", redactURL(s))
	}
	return nil
}

// postableAlert is an alert in the body of POST /api/v2/alerts
// (Alertmanager's PostableAlert).
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// pushTarget is a validated AlertmanagerTarget.
type pushTarget struct {
	endpoint string // URL of POST /api/v2/alerts
	name     string // redacted base URL: the metrics' alertmanager label
	timeout  time.Duration
}

// sentMark is what was last queued for an alert.
type sentMark struct {
	at       time.Time
	resolved bool
	startsAt time.Time
}

// Pusher pushes alerts to Alertmanagers. Send decides what is due and
// queues it without blocking; Run delivers the queue. It is safe for
// concurrent use.
type Pusher struct {
	opts    PusherOptions
	targets []pushTarget
	logger  *slog.Logger
	now     func() time.Time
	metrics *pusherMetrics
	wake    chan struct{}

	mu        sync.Mutex // guards queue, sent, lastPrune
	queue     []postableAlert
	sent      map[uint64]sentMark // by fingerprint
	lastPrune time.Time

	runMu   sync.Mutex // guards running, stopRun, runDone
	running bool
	stopRun context.CancelFunc
	runDone chan struct{}
}

// NewPusher returns a Pusher; nothing is sent until Run.
func NewPusher(opts PusherOptions) (*Pusher, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := &Pusher{opts: opts, logger: opts.Logger, now: opts.Now, wake: make(chan struct{}, 1), sent: map[uint64]sentMark{}}
	for _, t := range opts.Alertmanagers {
		base := strings.TrimRight(t.URL, "/")
		p.targets = append(p.targets, pushTarget{endpoint: base + "/api/v2/alerts", name: redactURL(base), timeout: t.Timeout})
	}
	p.metrics = newPusherMetrics(p, opts.Registerer)
	return p, nil
}

// Send queues the alerts that are due: firing ones that are new, fire
// again, or were last sent ResendDelay ago, and inactive ones (resolved at
// ResolvedAt) likewise. A firing alert's endsAt is validUntil, or four
// resend delays from now if that is later. Pending alerts are never sent.
// Send does not block on the network.
func (p *Pusher) Send(alerts []*Alert, validUntil time.Time) {
	now := p.now()
	validUntil = later(validUntil, now.Add(4*p.opts.ResendDelay))
	p.mu.Lock()
	defer p.mu.Unlock()
	queued := 0
	for _, a := range alerts {
		if a.State == StatePending {
			continue
		}
		resolved := a.State == StateInactive
		startsAt := a.FiredAt
		if startsAt.IsZero() {
			startsAt = a.ActiveAt
		}
		fp := a.Fingerprint()
		if m, ok := p.sent[fp]; ok && m.resolved == resolved && m.startsAt.Equal(startsAt) && now.Sub(m.at) < p.opts.ResendDelay {
			continue
		}
		p.sent[fp] = sentMark{at: now, resolved: resolved, startsAt: startsAt}
		pa := postableAlert{
			Labels: a.Labels.Map(), Annotations: a.Annotations.Map(),
			StartsAt: startsAt.UTC(), EndsAt: validUntil.UTC(), GeneratorURL: a.GeneratorURL,
		}
		if resolved {
			pa.EndsAt = a.ResolvedAt.UTC()
		}
		if len(pa.Annotations) == 0 {
			pa.Annotations = nil
		}
		p.enqueueLocked(pa)
		queued++
	}
	p.pruneLocked(now)
	if queued > 0 {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// enqueueLocked appends pa, dropping the oldest queued alert when the
// queue is full: a newer statement about an alert is worth more than an
// older one, and a dropped firing alert is sent again at its next resend.
func (p *Pusher) enqueueLocked(pa postableAlert) {
	if len(p.queue) >= p.opts.QueueCapacity {
		n := len(p.queue) - p.opts.QueueCapacity + 1
		p.queue = append(p.queue[:0], p.queue[n:]...)
		p.metrics.dropped.Add(float64(n))
	}
	p.queue = append(p.queue, pa)
}

// pruneLocked forgets, once per resend delay, the alerts not queued for a
// long time (rules removed by a reload, resolved alerts past their
// retention). Forgetting one early costs at most one extra push.
func (p *Pusher) pruneLocked(now time.Time) {
	if now.Sub(p.lastPrune) < p.opts.ResendDelay {
		return
	}
	p.lastPrune = now
	for fp, m := range p.sent {
		if now.Sub(m.at) > 2*resolvedRetention+p.opts.ResendDelay {
			delete(p.sent, fp)
		}
	}
}

// Run pushes queued alerts until ctx is done or Close is called. It may be
// called once.
func (p *Pusher) Run(ctx context.Context) error {
	p.runMu.Lock()
	if p.running {
		p.runMu.Unlock()
		return errors.New("pusher: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	p.running, p.stopRun, p.runDone = true, cancel, make(chan struct{})
	done := p.runDone
	p.runMu.Unlock()
	defer close(done)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.wake:
		}
		for p.pushBatch(ctx) {
		}
	}
}

// Close stops Run, then pushes what is still queued, each request bounded
// by its target's timeout, so that the last state changes before a
// shutdown reach Alertmanager.
func (p *Pusher) Close() error {
	p.runMu.Lock()
	stop, done := p.stopRun, p.runDone
	p.runMu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	for p.pushBatch(context.Background()) {
	}
	return nil
}

// pushBatch sends up to MaxBatch queued alerts to every Alertmanager at
// once and reports whether more are queued.
func (p *Pusher) pushBatch(ctx context.Context) bool {
	p.mu.Lock()
	n := min(len(p.queue), p.opts.MaxBatch)
	batch := make([]postableAlert, n)
	copy(batch, p.queue)
	p.queue = append(p.queue[:0], p.queue[n:]...)
	more := len(p.queue) > 0
	p.mu.Unlock()
	if n == 0 || ctx.Err() != nil {
		return false
	}
	body, err := json.Marshal(batch)
	if err != nil {
		panic("BUG: encode alerts for Alertmanager: " + err.Error())
	}
	var wg sync.WaitGroup
	for _, t := range p.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			err := p.post(ctx, t, body)
			p.metrics.latency.WithLabelValues(t.name).Observe(time.Since(began).Seconds())
			if err != nil {
				p.metrics.errors.WithLabelValues(t.name).Add(float64(n))
				p.logger.Warn("push alerts to Alertmanager; they are sent again at their next resend", "alertmanager", t.name, "alerts", n, "err", err)
				return
			}
			p.metrics.sent.WithLabelValues(t.name).Add(float64(n))
		}()
	}
	wg.Wait()
	return more
}

// post makes one request; any answer but 2xx is an error.
func (p *Pusher) post(ctx context.Context, t pushTarget, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request to %s: %w", t.name, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Stratus")
	resp, err := p.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post alerts to %s: %w", t.name, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("alertmanager %s answered %s: %s", t.name, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// QueueLength returns the number of alerts waiting to be pushed.
func (p *Pusher) QueueLength() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}
