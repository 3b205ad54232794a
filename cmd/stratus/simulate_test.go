package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/internal/sim"
)

// TestSimulatorPushesAllFormats runs the simulator against the real binary
// and checks that what each format carried is stored: migration metrics
// (Atlas publish), service metrics (remote write) and cut-over gauges (OTLP,
// with the name translated the way Prometheus does).
func TestSimulatorPushesAllFormats(t *testing.T) {
	addr := freeAddr(t)
	startStratus(t, addr, t.TempDir())
	cfg := simulateConfig{Target: "http://" + addr, Interval: 200 * time.Millisecond, Duration: time.Second, Scenario: sim.DefaultConfig()}
	s := newSimulator(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Push directly once so a failure shows as an error, then let it run.
	if err := s.push(ctx, sim.New(cfg.Scenario, time.Now()).Step(time.Now())); err != nil {
		t.Fatalf("push: %v", err)
	}
	if err := s.run(ctx); err != nil {
		t.Fatal(err)
	}
	for _, sel := range []string{
		`migration_replication_lag_seconds{country="pt",table="ledger"}`,
		`http_server_requests_total{service="billing-api",code="200"}`,
		`migration_cutover_progress_ratio{country="pt",job="cutover-controller"}`,
		`resilience4j_circuitbreaker_state{service="auth",state="open"}`,
	} {
		got := export(t, addr, sel)
		if len(got) == 0 {
			t.Errorf("%s: nothing stored", sel)
		}
	}
}
