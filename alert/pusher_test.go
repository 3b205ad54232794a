package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stratus-metrics/stratus/model"
)

// fakeAM is an Alertmanager API on 127.0.0.1 that records the alert
// batches posted to it and answers with a settable status code.
type fakeAM struct {
	srv     *httptest.Server
	mu      sync.Mutex
	code    int
	paths   []string
	batches [][]postableAlert
}

func newFakeAM(t *testing.T) *fakeAM {
	f := &fakeAM{code: 200}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var batch []postableAlert
		if err := json.Unmarshal(b, &batch); err != nil {
			t.Errorf("push body is not a JSON array of alerts: %v: %s", err, b)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" || r.Method != http.MethodPost {
			t.Errorf("%s with Content-Type %q", r.Method, ct)
		}
		f.mu.Lock()
		f.paths = append(f.paths, r.URL.Path)
		f.batches = append(f.batches, batch)
		code := f.code
		f.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// take returns the batches received since the last call.
func (f *fakeAM) take() [][]postableAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.batches
	f.batches = nil
	return b
}

func (f *fakeAM) setCode(c int) {
	f.mu.Lock()
	f.code = c
	f.mu.Unlock()
}

func newTestPusher(t *testing.T, clock *fakeClock, mod func(*PusherOptions), ams ...*fakeAM) *Pusher {
	t.Helper()
	opts := PusherOptions{Now: clock.Now}
	for _, am := range ams {
		opts.Alertmanagers = append(opts.Alertmanagers, AlertmanagerTarget{URL: am.srv.URL})
	}
	if mod != nil {
		mod(&opts)
	}
	p, err := NewPusher(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// flush pushes everything queued, as Run would.
func flush(p *Pusher) {
	for p.pushBatch(context.Background()) {
	}
}

// pushedAt sends alerts at ts and flushes.
func pushedAt(p *Pusher, clock *fakeClock, ts time.Time, validUntil time.Time, alerts ...*Alert) {
	clock.Set(ts)
	p.Send(alerts, validUntil)
	flush(p)
}

func TestPusherFiringResendResolve(t *testing.T) {
	am := newFakeAM(t)
	clock := newClock()
	p := newTestPusher(t, clock, nil, am)

	fired := t0.Add(-time.Minute)
	a := &Alert{
		Labels:      model.FromStrings("alertname", "Lag", "country", "de", "severity", "page"),
		Annotations: model.FromStrings("summary", "lag of de is 310s"),
		State:       StateFiring, ActiveAt: t0.Add(-11 * time.Minute), FiredAt: fired,
		GeneratorURL: "http://stratus.example:7101/graph?g0.expr=lag",
	}
	pending := &Alert{Labels: model.FromStrings("alertname", "Lag", "country", "fr"), State: StatePending, ActiveAt: t0}

	// First evaluation: the firing alert goes out, the pending one does not.
	pushedAt(p, clock, t0, t0.Add(4*time.Minute), a, pending)
	got := am.take()
	if len(got) != 1 || len(got[0]) != 1 {
		t.Fatalf("first push: %d batches %v, want one with one alert", len(got), got)
	}
	pa := got[0][0]
	want := postableAlert{
		Labels:      map[string]string{"alertname": "Lag", "country": "de", "severity": "page"},
		Annotations: map[string]string{"summary": "lag of de is 310s"},
		StartsAt:    fired, EndsAt: t0.Add(4 * time.Minute), GeneratorURL: a.GeneratorURL,
	}
	checkPostable(t, pa, want)

	// Evaluations within the resend delay send nothing; the first one
	// after it resends with endsAt moved ahead.
	pushedAt(p, clock, t0.Add(30*time.Second), t0.Add(30*time.Second+4*time.Minute), a)
	if got := am.take(); len(got) != 0 {
		t.Fatalf("resent within the resend delay: %v", got)
	}
	pushedAt(p, clock, t0.Add(time.Minute), t0.Add(5*time.Minute), a)
	got = am.take()
	if len(got) != 1 {
		t.Fatalf("no resend after the resend delay")
	}
	want.EndsAt = t0.Add(5 * time.Minute)
	checkPostable(t, got[0][0], want)

	// It resolves: sent at once, endsAt the resolution time, however
	// recently it was last sent; resent while kept, every resend delay.
	resolvedAt := t0.Add(90 * time.Second)
	r := a.clone()
	r.State, r.ResolvedAt = StateInactive, resolvedAt
	pushedAt(p, clock, resolvedAt, resolvedAt.Add(4*time.Minute), r)
	got = am.take()
	if len(got) != 1 {
		t.Fatalf("resolution not pushed at once: %v", got)
	}
	want.EndsAt = resolvedAt
	checkPostable(t, got[0][0], want)
	pushedAt(p, clock, resolvedAt.Add(30*time.Second), resolvedAt.Add(5*time.Minute), r)
	if got := am.take(); len(got) != 0 {
		t.Fatalf("resolution resent within the resend delay: %v", got)
	}
	pushedAt(p, clock, resolvedAt.Add(time.Minute), resolvedAt.Add(5*time.Minute), r)
	if got := am.take(); len(got) != 1 || !got[0][0].EndsAt.Equal(resolvedAt) {
		t.Fatalf("resolution resend: %v", got)
	}

	// It fires again (a new FiredAt): sent at once as a new alert.
	again := a.clone()
	again.FiredAt = resolvedAt.Add(70 * time.Second)
	pushedAt(p, clock, again.FiredAt, again.FiredAt.Add(4*time.Minute), again)
	got = am.take()
	if len(got) != 1 || !got[0][0].StartsAt.Equal(again.FiredAt) || !got[0][0].EndsAt.Equal(again.FiredAt.Add(4*time.Minute)) {
		t.Fatalf("refiring: %v", got)
	}
}

func checkPostable(t *testing.T, got, want postableAlert) {
	t.Helper()
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if string(gb) != string(wb) {
		t.Errorf("pushed alert\n got %s\nwant %s", gb, wb)
	}
}

// TestPusherEndsAtCoversResendDelay: with a resend delay longer than the
// group's interval, endsAt stays four resend delays ahead, so Alertmanager
// does not resolve an alert between two resends.
func TestPusherEndsAtCoversResendDelay(t *testing.T) {
	am := newFakeAM(t)
	clock := newClock()
	p := newTestPusher(t, clock, func(o *PusherOptions) { o.ResendDelay = 5 * time.Minute }, am)
	a := firingAlert(t0, "alertname", "X")
	pushedAt(p, clock, t0, t0.Add(4*time.Minute), a)
	if got := am.take(); len(got) != 1 || !got[0][0].EndsAt.Equal(t0.Add(20*time.Minute)) {
		t.Fatalf("endsAt: %v, want %v", got, t0.Add(20*time.Minute))
	}
}

func TestPusherFailuresBatchesAndQueueBound(t *testing.T) {
	am := newFakeAM(t)
	clock := newClock()
	reg := prometheus.NewRegistry()
	p := newTestPusher(t, clock, func(o *PusherOptions) {
		o.MaxBatch, o.QueueCapacity, o.Registerer = 2, 4, reg
	}, am)
	var alerts []*Alert
	for _, c := range []string{"a", "b", "c", "d", "e", "f"} {
		alerts = append(alerts, firingAlert(t0, "alertname", "X", "country", c))
	}

	// Six alerts into a queue of four: the two oldest are dropped, the
	// rest go in batches of two.
	clock.Set(t0)
	p.Send(alerts, t0.Add(4*time.Minute))
	if n := p.QueueLength(); n != 4 {
		t.Fatalf("queue length %d, want 4", n)
	}
	flush(p)
	got := am.take()
	if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 2 {
		t.Fatalf("batches %v, want two of two", got)
	}
	if c := got[0][0].Labels["country"]; c != "c" {
		t.Errorf("first alert pushed is country %s, want c (a and b dropped)", c)
	}
	name := redactURL(am.srv.URL)
	if v := testutil.ToFloat64(p.metrics.dropped); v != 2 {
		t.Errorf("dropped %v, want 2", v)
	}
	if v := testutil.ToFloat64(p.metrics.sent.WithLabelValues(name)); v != 4 {
		t.Errorf("sent %v, want 4", v)
	}

	// The Alertmanager fails: counted as errors, not retried until the
	// next resend, which goes out in full.
	am.setCode(http.StatusServiceUnavailable)
	pushedAt(p, clock, t0.Add(time.Minute), t0.Add(5*time.Minute), alerts[4])
	if got := am.take(); len(got) != 1 {
		t.Fatalf("failed push: %d requests, want 1", len(got))
	}
	if v := testutil.ToFloat64(p.metrics.errors.WithLabelValues(name)); v != 1 {
		t.Errorf("errors %v, want 1", v)
	}
	am.setCode(http.StatusOK)
	pushedAt(p, clock, t0.Add(90*time.Second), t0.Add(6*time.Minute), alerts[4])
	if got := am.take(); len(got) != 0 {
		t.Fatalf("retried before the resend delay: %v", got)
	}
	pushedAt(p, clock, t0.Add(2*time.Minute), t0.Add(6*time.Minute), alerts[4])
	if got := am.take(); len(got) != 1 {
		t.Fatalf("no resend after a failure: %v", got)
	}
	if n := testutil.CollectAndCount(reg, "stratus_alertmanager_queue_length", "stratus_alertmanager_latency_seconds"); n != 2 {
		t.Errorf("registered queue length and latency: %d metrics, want 2", n)
	}
}

func TestPusherEveryAlertmanagerAndPathPrefix(t *testing.T) {
	am1, am2 := newFakeAM(t), newFakeAM(t)
	clock := newClock()
	p, err := NewPusher(PusherOptions{Now: clock.Now, Alertmanagers: []AlertmanagerTarget{
		{URL: am1.srv.URL}, {URL: am2.srv.URL + "/alertmanager/"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	am2.setCode(http.StatusInternalServerError) // one failing does not stop the other
	pushedAt(p, clock, t0, t0.Add(4*time.Minute), firingAlert(t0, "alertname", "X"))
	if len(am1.take()) != 1 || len(am2.take()) != 1 {
		t.Error("not every Alertmanager got the alert")
	}
	am1.mu.Lock()
	am2.mu.Lock()
	if am1.paths[0] != "/api/v2/alerts" || am2.paths[0] != "/alertmanager/api/v2/alerts" {
		t.Errorf("paths %q and %q", am1.paths[0], am2.paths[0])
	}
	am2.mu.Unlock()
	am1.mu.Unlock()
}

func TestPusherOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		targets []AlertmanagerTarget
		want    string
	}{
		{nil, "no Alertmanager"},
		{[]AlertmanagerTarget{{URL: "127.0.0.1:9093"}}, "must be an absolute http or https URL"},
		{[]AlertmanagerTarget{{URL: "ftp://am:9093"}}, "must be an absolute http or https URL"},
		{[]AlertmanagerTarget{{URL: "http://am:9093/?x=1"}}, "must not have a query"},
		{[]AlertmanagerTarget{{URL: "http://am:9093"}, {URL: "http://am:9093"}}, "alertmanagers[1]: url http://am:9093 is listed twice"},
		{[]AlertmanagerTarget{{URL: "http://am:9093", Timeout: -time.Second}}, "alertmanagers[0]: timeout -1s is negative"},
	} {
		opts := PusherOptions{Alertmanagers: tc.targets}
		if err := opts.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.targets, err, tc.want)
		}
	}
	opts := PusherOptions{Alertmanagers: []AlertmanagerTarget{{URL: "https://user:secret@am.example/prefix"}}}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	if opts.Alertmanagers[0].Timeout != 10*time.Second || opts.ResendDelay != time.Minute || opts.QueueCapacity != 10000 || opts.MaxBatch != 256 {
		t.Errorf("defaults: %+v", opts)
	}
}

// TestManagerPushesAlerts: rule evaluation hands firing and resolved
// alerts to the Pusher; Run delivers them and Close pushes what is left.
func TestManagerPushesAlerts(t *testing.T) {
	am := newFakeAM(t)
	clock := newClock()
	p := newTestPusher(t, clock, nil, am)
	e := newTestEnv(t, stateRules, func(o *Options) { o.Pusher = p })
	e.clock = clock
	e.q.set("instant > 5", sample(9, "__name__", "instant", "db", "orders"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	e.evalAt(t0)
	waitUntil(t, func() bool { return len(am.batches) > 0 }, &am.mu)
	got := am.take()
	if l := got[0][0].Labels; l["alertname"] != "Instant" || l["db"] != "orders" || !got[0][0].EndsAt.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("pushed %+v", got[0][0])
	}
	cancel()
	<-done

	// Resolved while Run is stopped: Close pushes it.
	e.q.set("instant > 5")
	e.evalAt(t0.Add(time.Minute))
	p.Close()
	got = am.take()
	if len(got) != 1 || !got[0][0].EndsAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("resolution pushed on Close: %v", got)
	}
}

// waitUntil polls cond, under mu, for up to five seconds.
func waitUntil(t *testing.T, cond func() bool, mu *sync.Mutex) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		ok := cond()
		mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
