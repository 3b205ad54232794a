package main

// End-to-end tests: they build the real binary, start it as a user would
// and talk HTTP to it.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

var stratusBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stratus-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stratusBin = filepath.Join(dir, "stratus")
	build := exec.Command("go", "build", "-o", stratusBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build stratus:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running stratus process.
type proc struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startStratus starts `stratus serve` and waits until /-/ready answers 200.
func startStratus(t *testing.T, addr, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--listen-addr", addr, "--data-dir", dataDir, "--log-level", "warn"}, extra...)
	cmd := exec.Command(stratusBin, args...)
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = io.Discard, &syncWriter{w: logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, addr: addr, logs: logs}
	t.Cleanup(func() { p.kill() })
	if !waitReady(http.DefaultClient, "http://"+addr) {
		p.kill()
		t.Fatalf("stratus did not become ready; logs:\n%s", logs)
	}
	return p
}

// waitReady polls base's /-/ready for up to 30 s.
func waitReady(client *http.Client, base string) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// stop shuts down gracefully and checks the exit code.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("stratus exited with %v; logs:\n%s", err, p.logs)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// remoteWrite sends one remote-write request and returns the status code.
func remoteWrite(client *http.Client, addr string, series []prompb.TimeSeries) (int, error) {
	data, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	if err != nil {
		return 0, err
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, data)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

type exported struct {
	Metric     map[string]string `json:"metric"`
	Values     []any             `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

// export reads every series matching selector through /api/v1/export,
// keyed by the "series" label, as timestamp -> value.
func export(t *testing.T, addr, selector string) map[string]map[int64]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/export?match[]=" + url.QueryEscape(selector))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("export: %d %s", resp.StatusCode, b)
	}
	out := map[string]map[int64]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var e exported
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		m := map[int64]float64{}
		for i, ts := range e.Timestamps {
			v, ok := e.Values[i].(float64)
			if !ok {
				t.Fatalf("non-numeric value %v", e.Values[i])
			}
			m[ts] = v
		}
		out[e.Metric["series"]] = m
	}
	return out
}

// TestCrashLosesNoAcknowledgedSample pushes from concurrent remote-write
// clients, kills the server with SIGKILL at random moments, restarts it and
// checks that every acknowledged sample is there with its exact value.
func TestCrashLosesNoAcknowledgedSample(t *testing.T) {
	for _, policy := range []string{"always", "interval"} {
		t.Run(policy, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "stratus.yml")
			os.WriteFile(cfg, []byte("storage:\n  wal:\n    sync: "+policy+"\n"), 0o644)
			dataDir := t.TempDir()
			addr := freeAddr(t)
			rng := rand.New(rand.NewPCG(1, uint64(len(policy))))
			const writers, seriesPerWriter = 4, 25
			var (
				mu    sync.Mutex
				acked = map[string]map[int64]float64{} // series -> ts -> value
			)
			// Each request gets the next millisecond, so every series'
			// timestamps increase across writers, rounds and restarts.
			base := time.Now().Add(-time.Hour).UnixMilli()
			var seq atomic.Int64
			for round := range 3 {
				p := startStratus(t, addr, dataDir, "--config", cfg)
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						client := &http.Client{Timeout: 5 * time.Second}
						for i := 0; i < 100_000 && ctx.Err() == nil; i++ {
							ts := base + seq.Add(1)
							series := make([]prompb.TimeSeries, seriesPerWriter)
							for s := range series {
								name := fmt.Sprintf("w%d_s%d", w, s)
								v := float64(ts%100_000) + float64(s)/8
								series[s] = prompb.TimeSeries{
									Labels:  []prompb.Label{{Name: "__name__", Value: "replication_lag_seconds"}, {Name: "series", Value: name}},
									Samples: []prompb.Sample{{Timestamp: ts, Value: v}},
								}
							}
							code, err := remoteWrite(client, addr, series)
							if err != nil || code != http.StatusNoContent {
								continue // not acknowledged: may or may not be stored
							}
							mu.Lock()
							for _, s := range series {
								name := s.Labels[1].Value
								if acked[name] == nil {
									acked[name] = map[int64]float64{}
								}
								acked[name][s.Samples[0].Timestamp] = s.Samples[0].Value
							}
							mu.Unlock()
						}
					}()
				}
				time.Sleep(time.Duration(300+rng.IntN(700)) * time.Millisecond)
				p.kill() // SIGKILL mid-stream
				cancel()
				wg.Wait()
				t.Logf("round %d: killed after %d acknowledged samples in total", round, countSamples(acked))
			}
			p := startStratus(t, addr, dataDir, "--config", cfg)
			got := export(t, addr, `replication_lag_seconds`)
			if countSamples(acked) == 0 {
				t.Fatal("no request was acknowledged; the test proved nothing")
			}
			for name, want := range acked {
				for ts, v := range want {
					gv, ok := got[name][ts]
					if !ok {
						t.Fatalf("%s: acknowledged sample at %d missing after crash", name, ts)
					}
					if gv != v {
						t.Fatalf("%s: sample at %d is %v, acknowledged %v", name, ts, gv, v)
					}
				}
			}
			p.stop(t)
		})
	}
}

func countSamples(m map[string]map[int64]float64) int {
	n := 0
	for _, s := range m {
		n += len(s)
	}
	return n
}

// TestServeBasics checks the process endpoints, flags and a graceful stop.
func TestServeBasics(t *testing.T) {
	addr := freeAddr(t)
	p := startStratus(t, addr, t.TempDir())
	for path, want := range map[string]string{
		"/-/healthy": "Healthy",
		"/-/ready":   "Ready",
		"/metrics":   "stratus_build_info",
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
	}
	resp, err := http.Get("http://" + addr + "/debug/pprof/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("pprof: %v %v", err, resp)
	}
	resp.Body.Close()
	p.stop(t)

	out, err := exec.Command(stratusBin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "stratus version") {
		t.Fatalf("version: %v %s", err, out)
	}
	out, err = exec.Command(stratusBin, "serve", "--listen-addr", "nonsense").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "listen_addr") {
		t.Fatalf("bad flag must fail naming it: %v %s", err, out)
	}
	cfg := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(cfg, []byte("storage:\n  retension: 1h\n"), 0o644)
	out, err = exec.Command(stratusBin, "serve", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "retension") {
		t.Fatalf("unknown config key must fail naming it: %v %s", err, out)
	}
}
