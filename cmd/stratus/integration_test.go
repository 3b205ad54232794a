package main

// Integration tests with real clients: Prometheus and vmagent (from
// Debian's prometheus and victoria-metrics packages, which .ci/run
// installs) scrape a target whose values the test controls and
// remote-write to a real Stratus; the test then reads the samples back
// through /api/v1/export and checks them for exact equality.
//
// A missing client binary fails these tests rather than skipping them: a
// skipped test on CI would look like a passing one.

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stratus-metrics/stratus/model"
)

// clientBinary finds an external client or fails the test saying how to
// install it.
func clientBinary(t *testing.T, name, debianPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := "/usr/bin/" + name; fileExists(p) {
		return p
	}
	t.Fatalf("%s not found in PATH or /usr/bin: install Debian's %s package (apt-get install -y --no-install-recommends %s; .ci/run does)",
		name, debianPackage, debianPackage)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// startClient starts an external program whose output is kept for failure
// messages; t.Cleanup kills it.
func startClient(t *testing.T, bin string, args ...string) *bytes.Buffer {
	t.Helper()
	cmd := exec.Command(bin, args...)
	logs := &bytes.Buffer{}
	w := &syncWriter{w: logs}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	})
	return logs
}

// scrapeTarget serves Prometheus text exposition whose values change with
// every scrape in a way the test knows: scrape n serves values(n). It
// records the scrapes it served, so a stored value can be traced back to
// its scrape.
type scrapeTarget struct {
	mu     sync.Mutex
	served int // scrapes answered so far
	srv    *httptest.Server
}

// targetSeries are the series the target exposes; their label sets are as
// a scraper stores them, minus the job and instance labels it adds.
var targetSeries = []struct {
	labels string // exposition label part, with escapes
	key    model.Labels
	value  func(n int) float64
	kind   string
}{
	{`{case="plain"}`, model.FromStrings("__name__", "stratus_it_gauge", "case", "plain"),
		func(n int) float64 { return 1.5 * float64(n) }, "gauge"},
	{`{case="precise"}`, model.FromStrings("__name__", "stratus_it_gauge", "case", "precise"),
		func(n int) float64 { return float64(n) + 1.0/3 }, "gauge"},
	// Escapes and UTF-8 in label values, a tiny negative value.
	{`{case="escaped",city="Zürich",path="C:\\dir \"q\"\n"}`,
		model.FromStrings("__name__", "stratus_it_gauge", "case", "escaped", "city", "Zürich", "path", "C:\\dir \"q\"\n"),
		func(n int) float64 { return -2.5e-7 * float64(n) }, "gauge"},
	// A counter beyond 2^32 that still increases by exact integers.
	{`{code="200"}`, model.FromStrings("__name__", "stratus_it_requests_total", "code", "200"),
		func(n int) float64 { return 1e15 + 7*float64(n) }, "counter"},
}

func newScrapeTarget(t *testing.T) *scrapeTarget {
	st := &scrapeTarget{}
	st.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		st.mu.Lock()
		st.served++
		n := st.served
		st.mu.Unlock()
		var b strings.Builder
		done := map[string]bool{}
		for _, s := range targetSeries {
			name := s.key.Get(model.MetricName)
			if !done[name] {
				fmt.Fprintf(&b, "# HELP %s A %s whose values the test controls.\n# TYPE %s %s\n", name, s.kind, name, s.kind)
				done[name] = true
			}
			fmt.Fprintf(&b, "%s%s %s\n", name, s.labels, strconv.FormatFloat(s.value(n), 'g', -1, 64))
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write([]byte(b.String()))
	}))
	t.Cleanup(st.srv.Close)
	return st
}

// hostPort is the target's address as a scraper's instance label shows it.
func (st *scrapeTarget) hostPort() string { return strings.TrimPrefix(st.srv.URL, "http://") }

func (st *scrapeTarget) scrapes() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.served
}

// scrapeOf returns the scrape n whose value of series i is v, or 0.
func scrapeOf(i int, v float64, maxN int) int {
	for n := 1; n <= maxN; n++ {
		if targetSeries[i].value(n) == v {
			return n
		}
	}
	return 0
}

// checkScrapedSamples waits until Stratus holds at least minScrapes
// scrapes of every target series, then checks that each stored sample is
// exactly a value the target served, that all series at one timestamp come
// from the same scrape, and that scrapes are in time order. client names
// the scraper in messages; logs are its output.
func checkScrapedSamples(t *testing.T, client string, logs *bytes.Buffer, stratus *proc, st *scrapeTarget, job string, minScrapes int) {
	t.Helper()
	want := make([]model.Labels, len(targetSeries))
	for i, s := range targetSeries {
		b := model.Builder{}
		b.Reset(s.key)
		b.Set("job", job).Set("instance", st.hostPort())
		want[i] = b.Labels()
	}
	var got map[string][]exportPoint
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = exportSeries(t, stratus.addr, `{__name__=~"stratus_it_.*"}`)
		enough := true
		for _, ls := range want {
			if len(got[ls.String()]) < minScrapes {
				enough = false
			}
		}
		if enough {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: after 60s (%d scrapes served) Stratus has not %d samples of every target series; got %v\n%s logs:\n%s\nstratus logs:\n%s",
				client, st.scrapes(), minScrapes, got, client, logs, stratus.logs)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if len(got) != len(want) {
		t.Errorf("%s: Stratus has %d stratus_it_ series, want %d: %v", client, len(got), len(want), got)
	}
	maxN := st.scrapes()
	scrapeAt := map[int64]int{} // timestamp -> scrape
	for i, ls := range want {
		lastN := 0
		for _, p := range got[ls.String()] {
			if math.IsNaN(p.V) {
				continue // a staleness marker, should the scraper write one
			}
			n := scrapeOf(i, p.V, maxN)
			if n == 0 {
				t.Fatalf("%s: %s stored %v at %d, a value the target never served (scrapes 1..%d)", client, ls, p.V, p.T, maxN)
			}
			if n <= lastN {
				t.Fatalf("%s: %s: scrape %d stored after scrape %d in time order", client, ls, n, lastN)
			}
			lastN = n
			if prev, ok := scrapeAt[p.T]; ok && prev != n {
				t.Fatalf("%s: %s at %d holds scrape %d's value, another series there holds scrape %d's", client, ls, p.T, n, prev)
			}
			scrapeAt[p.T] = n
		}
	}
	// Every series of a scrape is stored: the series of one timestamp
	// must all be there.
	ts := make([]int64, 0, len(scrapeAt))
	for t := range scrapeAt {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(a, b int) bool { return ts[a] < ts[b] })
	for _, tm := range ts[:len(ts)-1] { // the newest scrape may be in flight
		for _, ls := range want {
			found := false
			for _, p := range got[ls.String()] {
				found = found || p.T == tm
			}
			if !found {
				t.Fatalf("%s: %s lacks scrape %d (at %d) that other series have", client, ls, scrapeAt[tm], tm)
			}
		}
	}
	t.Logf("%s: %d scrapes served, %d stored in Stratus, values exact", client, maxN, len(scrapeAt))
}

// TestPrometheusRemoteWrite: a real Prometheus scrapes the target every
// second and remote-writes to Stratus.
func TestPrometheusRemoteWrite(t *testing.T) {
	bin := clientBinary(t, "prometheus", "prometheus")
	stratus := startStratus(t, freeAddr(t), t.TempDir())
	st := newScrapeTarget(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: it-prometheus
    static_configs:
      - targets: [%q]
remote_write:
  - url: http://%s/api/v1/write
    queue_config:
      batch_send_deadline: 200ms
      min_backoff: 100ms
      max_backoff: 1s
`, st.hostPort(), stratus.addr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := startClient(t, bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+freeAddr(t),
		"--log.level=warn",
	)
	checkScrapedSamples(t, "prometheus", logs, stratus, st, "it-prometheus", 3)

	// Prometheus' own series about the scrape arrive as well.
	up := exportSeries(t, stratus.addr, `up{job="it-prometheus"}`)
	if len(up) != 1 {
		t.Fatalf("up{job=\"it-prometheus\"}: %d series, want 1: %v", len(up), up)
	}
	for _, pts := range up {
		for _, p := range pts {
			if p.V != 1 {
				t.Fatalf("up is %v at %d, want 1", p.V, p.T)
			}
		}
	}
}

// TestVMAgentRemoteWrite: vmagent scrapes the target every second and
// remote-writes to Stratus.
func TestVMAgentRemoteWrite(t *testing.T) {
	bin := clientBinary(t, "vmagent", "victoria-metrics")
	stratus := startStratus(t, freeAddr(t), t.TempDir())
	st := newScrapeTarget(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: it-vmagent
    static_configs:
      - targets: [%q]
`, st.hostPort())
	cfgPath := filepath.Join(dir, "scrape.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := startClient(t, bin,
		"-promscrape.config="+cfgPath,
		"-remoteWrite.url=http://"+stratus.addr+"/api/v1/write",
		"-remoteWrite.tmpDataPath="+filepath.Join(dir, "tmp"),
		"-remoteWrite.flushInterval=200ms",
		"-httpListenAddr="+freeAddr(t),
		"-loggerLevel=WARN",
	)
	checkScrapedSamples(t, "vmagent", logs, stratus, st, "it-vmagent", 3)
}
