package alert

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkNotifierFanOut measures how long 1,000 firing alerts take from
// Send to their arrival at a webhook receiver on loopback, through the
// whole notifier: routing, grouping, the outbox on disk (fsynced before
// each attempt and after each outcome) and delivery. Sub-benchmarks:
//
//   - groups=1000: group_by [alertname], one alert per group, so 1,000
//     webhook requests (the worst case for the outbox and the sender);
//   - groups=1: group_by [...] off, one request carrying 1,000 alerts.
//
// Each op starts a fresh Notifier, with its default options (a 1 s tick),
// over a fresh data directory. ms/op is the figure of issue 7 (goal: under
// 1 s); alerts/s its rate.
func BenchmarkNotifierFanOut(b *testing.B) {
	const alerts = 1000
	for _, tc := range []struct {
		name    string
		groupBy string
		posts   int64
	}{
		{"groups=1000", "[alertname]", alerts},
		{"groups=1", "[]", 1},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var posts, received atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				received.Add(int64(strings.Count(string(body), `"fingerprint"`)))
				posts.Add(1)
			}))
			defer srv.Close()
			cfg, err := LoadNotifierConfig(fmt.Sprintf(`route:
  receiver: hook
  group_by: %s
  group_wait: 0s
  group_interval: 1m
receivers:
  - name: hook
    webhook_configs:
      - url: %s/hook
`, tc.groupBy, srv.URL))
			if err != nil {
				b.Fatal(err)
			}
			batch := make([]*Alert, alerts)
			now := time.Now()
			for i := range batch {
				batch[i] = firingAlert(now, "alertname", fmt.Sprintf("FanOut%04d", i), "severity", "page")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				posts.Store(0)
				received.Store(0)
				n, err := NewNotifier(NotifierOptions{Config: cfg, DataDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				b.StartTimer()

				go func() { defer close(done); n.Run(ctx) }()
				n.Send(batch, time.Now().Add(time.Hour))
				deadline := time.Now().Add(time.Minute)
				for posts.Load() < tc.posts || received.Load() < alerts {
					if time.Now().After(deadline) {
						b.Fatalf("after a minute: %d requests, %d alerts received", posts.Load(), received.Load())
					}
					time.Sleep(time.Millisecond)
				}

				b.StopTimer()
				cancel()
				<-done
				n.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(alerts)*float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
