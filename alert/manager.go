package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Manager. Query is required; the rest have defaults.
type Options struct {
	// Query evaluates rule expressions.
	Query QueryFunc
	// Appender receives ALERTS, ALERTS_FOR_STATE and recording-rule series;
	// nil writes nothing.
	Appender Appender
	// Notifier receives firing and resolved alerts; nil notifies no one.
	Notifier *Notifier
	// Pusher pushes firing and resolved alerts to Alertmanagers; nil
	// pushes to none.
	Pusher *Pusher
	// DataDir holds the alert state files (DataDir/rules/); "" keeps state
	// in memory only, so a restart restarts every `for` clock.
	DataDir string
	// Packs names the built-in rule packs to load besides the files
	// ("migration", "runtime"); see PackNames.
	Packs []string
	// EvaluationInterval is the interval of groups that set none (1m).
	EvaluationInterval time.Duration
	// OutageTolerance bounds the downtime after which pending alerts are
	// not restored (1h); firing alerts are always restored.
	OutageTolerance time.Duration
	// ExternalURL is Stratus's public URL, for generator URLs and
	// templates' $externalURL.
	ExternalURL string
	// ExternalLabels are templates' $externalLabels.
	ExternalLabels map[string]string
	// Logger receives evaluation problems; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
	// Registerer receives the Manager's self-metrics (stratus_rule_*,
	// stratus_alerts); nil registers none, so that tests and tools such as
	// `stratus rules test` can build Managers freely.
	Registerer prometheus.Registerer
}

// Validate checks the options and fills in defaults.
func (o *Options) Validate() error {
	if o.Query == nil {
		return errors.New("alert options: Query is required")
	}
	if o.EvaluationInterval == 0 {
		o.EvaluationInterval = time.Minute
	}
	if o.EvaluationInterval < 0 {
		return fmt.Errorf("alert options: evaluation interval %s is negative", o.EvaluationInterval)
	}
	if o.OutageTolerance == 0 {
		o.OutageTolerance = time.Hour
	}
	if o.ExternalURL != "" {
		if _, err := url.Parse(o.ExternalURL); err != nil {
			return fmt.Errorf("alert options: external URL %q: %w", o.ExternalURL, err)
		}
	}
	for _, p := range o.Packs {
		if !slices.Contains(PackNames(), p) {
			return fmt.Errorf("alert options: unknown rule pack %q (have %v)", p, PackNames())
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Manager owns the loaded rule groups: it evaluates each on its own
// goroutine, keeps their alert state, and serves them over HTTP.
type Manager struct {
	opts        Options
	logger      *slog.Logger
	externalURL *url.URL
	now         func() time.Time
	metrics     *managerMetrics

	// reloadMu serialises Reload, Run's start and Close.
	reloadMu sync.Mutex
	mu       sync.RWMutex // guards groups
	groups   []*Group     // in load order
	// While running: the context groups run under, and per group its stop
	// function and a channel closed when its goroutine returned.
	runCtx  context.Context
	stops   map[*Group]func()
	dones   map[*Group]chan struct{}
	stopRun context.CancelFunc
	runDone chan struct{}
}

// NewManager returns a Manager with no groups; Reload loads them.
func NewManager(opts Options) (*Manager, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{opts: opts, logger: opts.Logger, now: opts.Now,
		stops: map[*Group]func(){}, dones: map[*Group]chan struct{}{}}
	if opts.ExternalURL != "" {
		m.externalURL, _ = url.Parse(opts.ExternalURL)
	}
	m.metrics = newManagerMetrics(m, opts.Registerer)
	return m, nil
}

// Reload loads the rule files matched by globs, plus the configured packs,
// and replaces the running groups with them. If any file is invalid it
// returns every problem (file, line, reason) and changes nothing: the
// previous rules keep running. Alert state carries over to a group with the
// same file and name, rule by rule (same alert name and expression).
func (m *Manager) Reload(globs []string) error {
	specs, err := LoadFiles(globs)
	if err != nil {
		return err
	}
	for _, p := range m.opts.Packs {
		ps, err := LoadPack(p)
		if err != nil {
			return err
		}
		specs = append(specs, ps...)
	}
	seen := map[string]bool{}
	for _, s := range specs {
		k := s.File + ";" + s.Name
		if seen[k] {
			return fmt.Errorf("rule group %q of %s is loaded twice", s.Name, s.File)
		}
		seen[k] = true
	}

	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	m.mu.RLock()
	old := map[string]*Group{}
	for _, g := range m.groups {
		old[g.key] = g
	}
	m.mu.RUnlock()

	now := m.now()
	next := make([]*Group, 0, len(specs))
	for _, s := range specs {
		g := newGroup(m, s)
		if og, ok := old[g.key]; ok {
			m.stopGroupLocked(og) // no evaluation may run while its state is taken over
			g.adopt(og)
			delete(old, g.key)
		} else if err := g.restore(now); err != nil {
			m.logger.Warn("restore alert state; the group starts afresh", "group", s.Name, "file", s.File, "err", err)
		}
		next = append(next, g)
	}
	for _, og := range old {
		m.stopGroupLocked(og)
		m.metrics.forget(og.key)
	}
	m.mu.Lock()
	m.groups = next
	m.mu.Unlock()
	if m.runCtx != nil {
		for _, g := range next {
			m.startGroupLocked(g)
		}
	}
	return nil
}

// startGroupLocked starts g's goroutine; reloadMu must be held.
func (m *Manager) startGroupLocked(g *Group) {
	ctx, cancel := context.WithCancel(m.runCtx)
	done := make(chan struct{})
	m.stops[g], m.dones[g] = cancel, done
	go func() {
		defer close(done)
		g.run(ctx)
	}()
}

// stopGroupLocked stops g's goroutine, if running, and waits for it, so
// that no evaluation is under way afterwards. reloadMu must be held.
func (m *Manager) stopGroupLocked(g *Group) {
	stop, ok := m.stops[g]
	if !ok {
		return
	}
	stop()
	<-m.dones[g]
	delete(m.stops, g)
	delete(m.dones, g)
}

// Run evaluates the groups until ctx is done or Close is called. It may be
// called once.
func (m *Manager) Run(ctx context.Context) error {
	m.reloadMu.Lock()
	if m.runCtx != nil {
		m.reloadMu.Unlock()
		return errors.New("alert manager: Run called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	m.runCtx, m.stopRun, m.runDone = ctx, cancel, make(chan struct{})
	defer close(m.runDone)
	m.mu.RLock()
	for _, g := range m.groups {
		m.startGroupLocked(g)
	}
	m.mu.RUnlock()
	m.reloadMu.Unlock()

	<-ctx.Done()

	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	for g := range m.stops {
		m.stopGroupLocked(g)
	}
	return nil
}

// Close stops Run, waiting for every group's goroutine to return. It is
// safe to call without Run and more than once.
func (m *Manager) Close() error {
	m.reloadMu.Lock()
	stop, done := m.stopRun, m.runDone
	m.reloadMu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	<-done
	return nil
}

// Groups returns the loaded groups in load order.
func (m *Manager) Groups() []*Group {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.groups)
}

// Alerts returns copies of all pending and firing alerts.
func (m *Manager) Alerts() []*Alert {
	var out []*Alert
	for _, g := range m.Groups() {
		for _, r := range g.rules {
			if ar, ok := r.(*alertingRule); ok {
				out = append(out, ar.alerts(false)...)
			}
		}
	}
	return out
}
