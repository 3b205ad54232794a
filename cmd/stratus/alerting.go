package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"

	"github.com/stratus-metrics/stratus/alert"
	"github.com/stratus-metrics/stratus/internal/egress"
	"github.com/stratus-metrics/stratus/model"
	"github.com/stratus-metrics/stratus/query"
	"github.com/stratus-metrics/stratus/query/stacklang"
)

// alertingSection holds the configuration file's `alerting:` section:
// Alertmanager's schema (route, receivers, inhibit_rules), which
// Alertmanager's own parser reads (alert.LoadNotifierConfig), plus one key
// of ours, as in Prometheus's configuration: `alertmanagers:`, the real
// Alertmanagers that also receive every alert.
type alertingSection struct {
	node     yaml.Node // the section as written
	notifier yaml.Node // the section without alertmanagers: Alertmanager's schema
	// Alertmanagers receive alerts on their /api/v2/alerts.
	Alertmanagers []alertmanagerConfig
}

// alertmanagerConfig is one entry of `alerting: alertmanagers:`.
type alertmanagerConfig struct {
	// URL is the Alertmanager's base URL: http://127.0.0.1:9093.
	URL string `yaml:"url"`
	// Timeout bounds one push (default 10s).
	Timeout time.Duration `yaml:"timeout"`
}

// UnmarshalYAML decodes an entry, refusing unknown keys as the rest of the
// file does (yaml.v3's KnownFields does not reach into custom unmarshalers).
func (c *alertmanagerConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Value != "url" && k.Value != "timeout" {
				return fmt.Errorf("line %d: field %s not found in an alertmanagers entry (fields: url, timeout)", k.Line, k.Value)
			}
		}
	}
	type plain alertmanagerConfig
	return n.Decode((*plain)(c))
}

// UnmarshalYAML keeps the section's node, and takes alertmanagers out of
// what Alertmanager's parser will read.
func (a *alertingSection) UnmarshalYAML(n *yaml.Node) error {
	a.node, a.notifier, a.Alertmanagers = *n, *n, nil
	if n.Kind != yaml.MappingNode {
		return nil // Alertmanager's parser reports it
	}
	a.notifier.Content = nil
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == "alertmanagers" {
			if err := v.Decode(&a.Alertmanagers); err != nil {
				return fmt.Errorf("alerting: alertmanagers: %w", err)
			}
			continue
		}
		a.notifier.Content = append(a.notifier.Content, n.Content[i], n.Content[i+1])
	}
	return nil
}

// MarshalYAML renders the section back, for /api/v1/status/config.
func (a alertingSection) MarshalYAML() (any, error) {
	if a.node.Kind == 0 {
		return nil, nil
	}
	return &a.node, nil
}

// Validate checks the alertmanagers entries (Alertmanager's part is checked
// by its parser when alerting starts).
func (a *alertingSection) Validate() error {
	if len(a.Alertmanagers) == 0 {
		return nil
	}
	opts := a.pusherOptions()
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("alerting: %w", err)
	}
	return nil
}

// pusherOptions maps the alertmanagers entries to the alert package's.
func (a *alertingSection) pusherOptions() alert.PusherOptions {
	var opts alert.PusherOptions
	for _, c := range a.Alertmanagers {
		opts.Alertmanagers = append(opts.Alertmanagers, alert.AlertmanagerTarget{URL: c.URL, Timeout: c.Timeout})
	}
	return opts
}

// defaultAlerting routes every alert to a receiver that notifies no one:
// rules still evaluate and show in the UI and API.
const defaultAlerting = "route:\n  receiver: none\nreceivers:\n  - name: none\n"

// text returns the Alertmanager part of the section as YAML text, or the
// default when there is none (no section, or only alertmanagers).
func (a alertingSection) text() (string, error) {
	if a.notifier.Kind == 0 || (a.notifier.Kind == yaml.MappingNode && len(a.notifier.Content) == 0) {
		return defaultAlerting, nil
	}
	b, err := yaml.Marshal(&a.notifier)
	if err != nil {
		return "", fmt.Errorf("re-encode alerting section: %w", err)
	}
	return string(b), nil
}

// engineQueryFunc adapts the query engines to the alert package's
// QueryFunc: a PromQL instant query whose vector becomes the rule's
// samples, or an Atlas stack expression (rules with `atlas:`) evaluated on
// the step that ends at t.
func engineQueryFunc(ng *query.Engine) alert.QueryFunc {
	atlas := stacklang.NewEngine(ng)
	return func(ctx context.Context, lang, expr string, t time.Time) ([]alert.Sample, error) {
		if lang == alert.LangAtlas {
			return atlasRuleQuery(ctx, atlas, expr, t)
		}
		res, err := ng.Instant(ctx, expr, t)
		if err != nil {
			return nil, err
		}
		switch v := res.Value.(type) {
		case query.Vector:
			out := make([]alert.Sample, len(v))
			for i, s := range v {
				out[i] = alert.Sample{Labels: s.Metric, T: s.T, V: s.F}
			}
			return out, nil
		case query.Scalar:
			return []alert.Sample{{T: v.T, V: v.V}}, nil
		}
		return nil, fmt.Errorf("rule expression %q returns %s, not an instant vector", expr, res.Value.Type())
	}
}

// atlasRuleStep is the step an Atlas rule is evaluated on: Atlas's default
// one minute, so a rule sees the same consolidated value as a graph.
const atlasRuleStep = int64(60_000)

// atlasRuleQuery evaluates an Atlas stack expression for a rule. As in
// Atlas alerting, a line fires when its value at the last step is neither
// NaN nor 0 — a condition such as `...,:sum,100,:gt` is 1 while it holds —
// so only those lines become samples. A line's tags become the alert's
// labels, without the metric name.
func atlasRuleQuery(ctx context.Context, ng *stacklang.Engine, expr string, t time.Time) ([]alert.Sample, error) {
	p, err := stacklang.Parse(expr)
	if err != nil {
		return nil, err
	}
	end := t.UnixMilli()
	res, err := ng.Eval(ctx, p, end-end%atlasRuleStep, atlasRuleStep, 1)
	if err != nil {
		return nil, err
	}
	var out []alert.Sample
	for _, s := range res.Series {
		v := s.Values[len(s.Values)-1]
		if math.IsNaN(v) || v == 0 {
			continue
		}
		ls := make(model.Labels, 0, len(s.Tags))
		for k, val := range s.Tags {
			if k != "name" && k != model.MetricName {
				ls = append(ls, model.Label{Name: k, Value: val})
			}
		}
		ls.Sort()
		out = append(out, alert.Sample{Labels: ls, T: end, V: v})
	}
	return out, nil
}

// alerting is the running alert manager, notifier and, when
// Alertmanagers are configured, pusher.
type alerting struct {
	manager  *alert.Manager
	notifier *alert.Notifier
	pusher   *alert.Pusher // nil without alertmanagers
	globs    []string
	logger   *slog.Logger
	cancel   context.CancelFunc
	done     chan struct{}
}

// startAlerting loads rules and the notification config and starts
// evaluating. Invalid rule files fail start-up with file, line and reason.
func startAlerting(cfg *Config, db alert.Appender, ng *query.Engine, reg prometheus.Registerer, logger *slog.Logger) (*alerting, error) {
	text, err := cfg.Alerting.text()
	if err != nil {
		return nil, err
	}
	amCfg, err := alert.LoadNotifierConfig(text)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.DataDir, "alert")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create alert state directory: %w", err)
	}
	externalURL := cfg.ExternalURL
	if externalURL == "" {
		externalURL = "http://" + cfg.ListenAddr
	}
	// Webhooks and pushes go only where egress allows, with TLS verified.
	client, err := egress.Client(cfg.Egress, 10*time.Second)
	if err != nil {
		return nil, err
	}
	n, err := alert.NewNotifier(alert.NotifierOptions{Config: amCfg, DataDir: dir, ExternalURL: externalURL, Logger: logger.With("component", "notifier"), Registerer: reg, Client: client})
	if err != nil {
		return nil, err
	}
	var pusher *alert.Pusher
	if len(cfg.Alerting.Alertmanagers) > 0 {
		opts := cfg.Alerting.pusherOptions()
		opts.Logger, opts.Registerer, opts.Client = logger.With("component", "alertmanager-push"), reg, client
		if pusher, err = alert.NewPusher(opts); err != nil {
			n.Close()
			return nil, fmt.Errorf("alerting: %w", err)
		}
	}
	m, err := alert.NewManager(alert.Options{
		Query: engineQueryFunc(ng), Appender: db, Notifier: n, Pusher: pusher, DataDir: dir,
		Packs: cfg.RulePacks, EvaluationInterval: cfg.EvaluationInterval, ExternalURL: externalURL,
		Logger: logger.With("component", "rules"), Registerer: reg,
	})
	if err != nil {
		n.Close()
		return nil, err
	}
	if err := m.Reload(cfg.RuleFiles); err != nil {
		n.Close()
		return nil, fmt.Errorf("load rules: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &alerting{manager: m, notifier: n, pusher: pusher, globs: cfg.RuleFiles, logger: logger, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		go n.Run(ctx)
		if pusher != nil {
			go pusher.Run(ctx)
		}
		m.Run(ctx)
	}()
	logger.Info("alerting started", "rule_files", cfg.RuleFiles, "rule_packs", cfg.RulePacks, "groups", len(m.Groups()),
		"alertmanagers", len(cfg.Alerting.Alertmanagers))
	return a, nil
}

// reload re-reads the rule files; on error the previous rules keep running.
func (a *alerting) reload() error {
	if err := a.manager.Reload(a.globs); err != nil {
		a.logger.Error("rule reload rejected; previous rules keep running", "err", err)
		return err
	}
	a.logger.Info("rules reloaded", "groups", len(a.manager.Groups()))
	return nil
}

// reloadHandler is POST /-/reload.
func (a *alerting) reloadHandler(w http.ResponseWriter, _ *http.Request) {
	if err := a.reload(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "Rules reloaded.")
}

// reloadOnSIGHUP reloads the rules on every SIGHUP until ctx ends.
func (a *alerting) reloadOnSIGHUP(ctx context.Context) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				a.reload()
			}
		}
	}()
}

// close stops evaluation, then the notifier (whose outbox keeps what is
// still to send) and the pusher (which pushes what is still queued).
func (a *alerting) close() {
	a.manager.Close()
	a.cancel()
	<-a.done
	a.notifier.Close()
	if a.pusher != nil {
		a.pusher.Close()
	}
}
