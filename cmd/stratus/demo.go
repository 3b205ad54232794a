package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"github.com/stratus-metrics/stratus/internal/sim"
)

//go:embed demo/rules.yml
var demoRules []byte

// demoCmd is `stratus demo`: the server with embedded defaults, the
// migration simulator pushing to it over the real ingest endpoints, the
// built-in and demo alert rules, and a webhook sink as the default receiver,
// so the whole alert path is visible end to end. It takes serve's flags.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	simCfg := simulateConfig{Interval: 5 * time.Second, Scenario: sim.DefaultConfig()}
	simCfg.Scenario.FirstIncidentAfter = 10 * time.Second
	cfg, err := parseServeFlags("stratus demo", args, stderr, func(fs *flag.FlagSet) {
		fs.DurationVar(&simCfg.Interval, "sim-interval", simCfg.Interval, "time between two simulator pushes")
		fs.DurationVar(&simCfg.Scenario.IncidentEvery, "incident-every", simCfg.Scenario.IncidentEvery, "time between the starts of two scripted incidents")
		fs.DurationVar(&simCfg.Scenario.IncidentLength, "incident-length", simCfg.Scenario.IncidentLength, "how long each incident lasts")
		fs.DurationVar(&simCfg.Scenario.FirstIncidentAfter, "first-incident-after", simCfg.Scenario.FirstIncidentAfter, "when the first incident starts")
	})
	if err != nil {
		return err
	}
	if err := applyDemoDefaults(&cfg); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	logger := newLogger(&cfg, stderr)
	sink := &webhookSink{}
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	var simDone sync.WaitGroup
	defer simDone.Wait()
	extras := serveExtras{
		routes: sink.register,
		// The simulator's data is minutes old: open the dashboards on the
		// last 15 minutes rather than the built-ins' 6h and 3h.
		dashboardRange: "15m",
		ready: func(addr string) {
			simCfg.Target = "http://" + addr
			fmt.Fprintf(stdout, `
Stratus demo is running. Open http://%[1]s/ in a browser.

  What to look at first:
    - Dashboards -> "Migration overview": replication lag, row parity and
      cut-over progress per country, fed by a simulated billing migration.
    - Dashboards -> "Service health": a dozen simulated microservices.
    - Alerts: a scripted incident starts within seconds; its alert fires
      and its webhook is delivered to the built-in sink (Alerts ->
      notifications, or GET http://%[1]s/api/v1/demo/webhooks).
  Incidents rotate every %[2]v: replication lag spike, 5xx burst, stalled
  cut-over, row-parity drift, circuit breaker open. Ctrl+C stops the demo.

`, addr, simCfg.Scenario.IncidentEvery)
			simDone.Add(1)
			go func() {
				defer simDone.Done()
				newSimulator(simCfg, logger.With("component", "simulator")).run(simCtx)
			}()
		},
	}
	return serve(ctx, cfg, logger, stdout, extras)
}

// applyDemoDefaults turns on what the demo shows, where the configuration
// does not say otherwise: both rule packs plus the demo rules (written into
// the data directory, since rule files are files), a 5 s evaluation
// interval, and the webhook sink as the default receiver.
func applyDemoDefaults(cfg *Config) error {
	if len(cfg.RulePacks) == 0 {
		cfg.RulePacks = []string{"migration", "runtime"}
	}
	dir := filepath.Join(cfg.DataDir, "demo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	rules := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rules, demoRules, 0o644); err != nil {
		return fmt.Errorf("write demo rules: %w", err)
	}
	cfg.RuleFiles = append(cfg.RuleFiles, rules)
	cfg.EvaluationInterval = 5 * time.Second
	if cfg.Alerting.node.Kind == 0 {
		text := fmt.Sprintf(`route:
  receiver: demo-sink
  group_by: [alertname]
  group_wait: 2s
  group_interval: 20s
  repeat_interval: 1h
receivers:
  - name: demo-sink
    webhook_configs:
      - url: http://%s/demo/webhook
        send_resolved: true
`, cfg.ListenAddr)
		if err := yaml.Unmarshal([]byte(text), &cfg.Alerting); err != nil {
			return fmt.Errorf("build demo alerting config: %w", err)
		}
	}
	return nil
}

// webhookSink is the demo's on-call: it receives Alertmanager webhooks and
// keeps the last ones for the UI and for anyone curious.
type webhookSink struct {
	mu       sync.Mutex
	received []receivedWebhook // newest last, at most 100
}

type receivedWebhook struct {
	ReceivedAt time.Time       `json:"receivedAt"`
	Payload    json.RawMessage `json:"payload"`
}

func (s *webhookSink) register(r *mux.Router) {
	r.HandleFunc("/demo/webhook", s.receive).Methods(http.MethodPost)
	r.HandleFunc("/api/v1/demo/webhooks", s.list).Methods(http.MethodGet)
}

func (s *webhookSink) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || !json.Valid(body) {
		http.Error(w, "webhook body must be a JSON Alertmanager payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.received = append(s.received, receivedWebhook{ReceivedAt: time.Now().UTC(), Payload: body})
	if len(s.received) > 100 {
		s.received = s.received[len(s.received)-100:]
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (s *webhookSink) list(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := append([]receivedWebhook(nil), s.received...)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": out})
}
