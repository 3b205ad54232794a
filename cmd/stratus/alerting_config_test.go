package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/alert"
)

// parseConfigText runs the config file through `stratus serve`'s parsing
// and validation.
func parseConfigText(t *testing.T, text string) (Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stratus.yml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return parseServeFlags("stratus serve", []string{"--config", p}, io.Discard, nil)
}

func TestAlertingSectionAlertmanagers(t *testing.T) {
	cfg, err := parseConfigText(t, `alerting:
  alertmanagers:
    - url: http://127.0.0.1:9093
    - url: http://127.0.0.1:9094/am
      timeout: 3s
  route:
    receiver: hook
  receivers:
    - name: hook
      webhook_configs:
        - url: http://127.0.0.1:9999/hook
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []alertmanagerConfig{{URL: "http://127.0.0.1:9093"}, {URL: "http://127.0.0.1:9094/am", Timeout: 3 * time.Second}}
	if len(cfg.Alerting.Alertmanagers) != 2 || cfg.Alerting.Alertmanagers[0] != want[0] || cfg.Alerting.Alertmanagers[1] != want[1] {
		t.Errorf("alertmanagers %+v, want %+v", cfg.Alerting.Alertmanagers, want)
	}
	// Alertmanager's parser gets the rest, without our key.
	text, err := cfg.Alerting.text()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "alertmanagers") {
		t.Errorf("Alertmanager's part still has alertmanagers:\n%s", text)
	}
	amCfg, err := alert.LoadNotifierConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	if amCfg.Route.Receiver != "hook" {
		t.Errorf("route receiver %q", amCfg.Route.Receiver)
	}

	// Only alertmanagers: Stratus's own notifier notifies no one.
	cfg, err = parseConfigText(t, "alerting:\n  alertmanagers: [{url: 'http://127.0.0.1:9093'}]\n")
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := cfg.Alerting.text(); text != defaultAlerting {
		t.Errorf("alertmanagers only: notifier config %q, want the default", text)
	}
}

func TestAlertingSectionErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"alerting:\n  alertmanagers:\n    - url: http://127.0.0.1:9093\n      timout: 3s\n",
			"line 4: field timout not found in an alertmanagers entry"},
		{"alerting:\n  alertmanagers:\n    - url: 127.0.0.1:9093\n",
			`alerting: alertmanagers[0]: url "127.0.0.1:9093": must be an absolute http or https URL`},
		{"alerting:\n  alertmanagers:\n    - url: http://127.0.0.1:9093\n      timeout: -1s\n",
			"alerting: alertmanagers[0]: timeout -1s is negative"},
		{"alerting:\n  alertmanagers: {url: http://127.0.0.1:9093}\n",
			"alerting: alertmanagers:"},
	} {
		_, err := parseConfigText(t, tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}
