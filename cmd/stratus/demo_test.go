package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoFirstMinute runs `stratus demo` as a newcomer would (with a
// shortened schedule) and checks the sequence the quick start promises:
// migration data for several countries, the services' metrics, and an
// alert that fires and whose webhook reaches the built-in sink, all within
// a minute.
func TestDemoFirstMinute(t *testing.T) {
	addr := freeAddr(t)
	cmd := exec.Command(stratusBin, "demo", "--listen-addr", addr, "--data-dir", t.TempDir(),
		"--sim-interval", "1s", "--first-incident-after", "2s", "--log-level", "warn")
	var out strings.Builder
	stdout := &syncWriter{w: &out}
	cmd.Stdout, cmd.Stderr = stdout, io.Discard
	printed := func() string {
		stdout.mu.Lock()
		defer stdout.mu.Unlock()
		return out.String()
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()

	instant := func(q string) []map[string]any {
		resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var body struct {
			Data struct {
				Result []map[string]any `json:"result"`
			} `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		return body.Data.Result
	}
	deadline := time.Now().Add(60 * time.Second)
	var countries, services, delivered, sunk bool
	for time.Now().Before(deadline) && !(countries && services && delivered && sunk) {
		time.Sleep(time.Second)
		countries = len(instant(`count by (country) (migration_replication_lag_seconds)`)) >= 3 &&
			len(instant(`migration_cutover_progress_ratio`)) >= 3
		services = len(instant(`sum by (service) (rate(http_server_requests_total[1m]))`)) >= 10
		if resp, err := http.Get("http://" + addr + "/api/v1/notifications"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			delivered = strings.Contains(string(b), `"status":"delivered"`) && strings.Contains(string(b), `"alertStatus":"firing"`)
		}
		if resp, err := http.Get("http://" + addr + "/api/v1/demo/webhooks"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			sunk = strings.Contains(string(b), `"version":"4"`) && strings.Contains(string(b), `"status":"firing"`)
		}
	}
	if !countries || !services || !delivered || !sunk {
		t.Fatalf("after 60 s: countries=%v services=%v delivered=%v sink received=%v\nstdout:\n%s", countries, services, delivered, sunk, printed())
	}
	// The dashboards open on the last 15 minutes, where minutes-old data
	// fills the panels rather than a sliver of 6 hours.
	if resp, err := http.Get("http://" + addr + "/api/v1/dashboards/migration-overview"); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"time":"15m"`) {
			t.Errorf("demo dashboard does not open on 15m: %.300s", b)
		}
	}
	if !strings.Contains(printed(), "Open http://"+addr+"/") {
		t.Fatalf("demo did not print where to look:\n%s", printed())
	}
}
