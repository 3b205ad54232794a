package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/stratus-metrics/stratus/internal/sim"
	"github.com/stratus-metrics/stratus/model"
)

// simulateConfig is what `stratus simulate` runs.
type simulateConfig struct {
	Target   string // base URL of a Stratus, e.g. http://127.0.0.1:7101
	Interval time.Duration
	Duration time.Duration // 0 = until interrupted
	Scenario sim.Config
}

// simulator pushes a sim.Scenario to a Stratus over its real ingest
// endpoints, each part in the format its kind of client speaks.
type simulator struct {
	cfg    simulateConfig
	client *http.Client
	logger *slog.Logger
	buf    []byte
}

func newSimulator(cfg simulateConfig, logger *slog.Logger) *simulator {
	return &simulator{cfg: cfg, client: &http.Client{Timeout: 10 * time.Second}, logger: logger}
}

// run steps the scenario every interval until ctx ends or the duration
// passes. A failed push is logged and the next step goes on: the simulator
// is a client, and clients keep sending.
func (s *simulator) run(ctx context.Context) error {
	start := time.Now()
	sc := sim.New(s.cfg.Scenario, start)
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	var lastIncident string
	for now := start; ; {
		b := sc.Step(now)
		if err := s.push(ctx, b); err != nil && ctx.Err() == nil {
			s.logger.Warn("simulator push failed", "err", err)
		}
		if inc, ok := sc.IncidentAt(now); ok && inc.Kind+inc.Target != lastIncident {
			lastIncident = inc.Kind + inc.Target
			s.logger.Info("simulated incident started", "kind", inc.Kind, "target", inc.Target, "until", inc.End.Format(time.TimeOnly))
		} else if !ok {
			lastIncident = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case now = <-t.C:
		}
		if s.cfg.Duration > 0 && now.Sub(start) >= s.cfg.Duration {
			return nil
		}
	}
}

// push sends one step: migration metrics as Atlas publish, service metrics
// as remote write, cut-over gauges as OTLP JSON.
func (s *simulator) push(ctx context.Context, b sim.Batch) error {
	var errs []error
	if len(b.Atlas) > 0 {
		body, err := atlasPublishBody(b.Atlas)
		if err == nil {
			err = s.post(ctx, "/api/v1/publish", "application/json", "", body)
		}
		errs = append(errs, err)
	}
	if len(b.RemoteWrite) > 0 {
		s.buf = appendWriteRequest(s.buf[:0], b.RemoteWrite)
		errs = append(errs, s.post(ctx, "/api/v1/write", "application/x-protobuf", "snappy", snappy.Encode(nil, s.buf)))
	}
	if len(b.OTLP) > 0 {
		body, err := otlpJSONBody(b.OTLP)
		if err == nil {
			err = s.post(ctx, "/v1/metrics", "application/json", "", body)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *simulator) post(ctx context.Context, path, contentType, encoding string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(s.cfg.Target, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	if path == "/api/v1/write" {
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}

// atlasPublishBody encodes series as an Atlas publish payload: the metric
// name becomes the "name" tag.
func atlasPublishBody(series []model.TimeSeries) ([]byte, error) {
	type metric struct {
		Tags      map[string]string `json:"tags"`
		Timestamp int64             `json:"timestamp"`
		Value     float64           `json:"value"`
	}
	payload := struct {
		Tags    map[string]string `json:"tags"`
		Metrics []metric          `json:"metrics"`
	}{Tags: map[string]string{"nf.region": "eu-west-1"}}
	for _, ts := range series {
		tags := map[string]string{}
		for _, l := range ts.Labels {
			if l.Name == model.MetricName {
				tags["name"] = l.Value
			} else {
				tags[l.Name] = l.Value
			}
		}
		for _, smp := range ts.Samples {
			payload.Metrics = append(payload.Metrics, metric{Tags: tags, Timestamp: smp.T, Value: smp.V})
		}
	}
	return json.Marshal(payload)
}

// appendRWLabels appends the labels of a remote-write 1.0 TimeSeries
// (field 1, one Label message each) to dst.
func appendRWLabels(dst []byte, ls model.Labels) []byte {
	for _, l := range ls {
		size := protowire.SizeTag(1) + protowire.SizeBytes(len(l.Name)) + protowire.SizeTag(2) + protowire.SizeBytes(len(l.Value))
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(size))
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendString(dst, l.Name)
		dst = protowire.AppendTag(dst, 2, protowire.BytesType)
		dst = protowire.AppendString(dst, l.Value)
	}
	return dst
}

// appendWriteRequest appends a remote-write 1.0 WriteRequest (uncompressed
// protobuf) holding series to dst.
func appendWriteRequest(dst []byte, series []model.TimeSeries) []byte {
	var scratch []byte
	for _, ts := range series {
		scratch = appendRWLabels(scratch[:0], ts.Labels)
		for _, smp := range ts.Samples {
			size := protowire.SizeTag(1) + protowire.SizeFixed64() + protowire.SizeTag(2) + protowire.SizeVarint(uint64(smp.T))
			scratch = protowire.AppendTag(scratch, 2, protowire.BytesType)
			scratch = protowire.AppendVarint(scratch, uint64(size))
			scratch = protowire.AppendTag(scratch, 1, protowire.Fixed64Type)
			scratch = protowire.AppendFixed64(scratch, math.Float64bits(smp.V))
			scratch = protowire.AppendTag(scratch, 2, protowire.VarintType)
			scratch = protowire.AppendVarint(scratch, uint64(smp.T))
		}
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendBytes(dst, scratch)
	}
	return dst
}

// otlpJSONBody encodes gauges as an OTLP/HTTP JSON ExportMetricsServiceRequest,
// one resource per service.
func otlpJSONBody(gauges []sim.OTLPGauge) ([]byte, error) {
	type kv struct {
		Key   string            `json:"key"`
		Value map[string]string `json:"value"`
	}
	type point struct {
		Attributes   []kv    `json:"attributes"`
		TimeUnixNano string  `json:"timeUnixNano"`
		AsDouble     float64 `json:"asDouble"`
	}
	type metric struct {
		Name        string `json:"name"`
		Unit        string `json:"unit,omitempty"`
		Description string `json:"description,omitempty"`
		Gauge       struct {
			DataPoints []point `json:"dataPoints"`
		} `json:"gauge"`
	}
	type resourceMetrics struct {
		Resource struct {
			Attributes []kv `json:"attributes"`
		} `json:"resource"`
		ScopeMetrics []struct {
			Metrics []metric `json:"metrics"`
		} `json:"scopeMetrics"`
	}
	byService := map[string]*resourceMetrics{}
	var order []string
	for _, g := range gauges {
		rm := byService[g.Service]
		if rm == nil {
			rm = &resourceMetrics{}
			rm.Resource.Attributes = []kv{{Key: "service.name", Value: map[string]string{"stringValue": g.Service}}}
			rm.ScopeMetrics = make([]struct {
				Metrics []metric `json:"metrics"`
			}, 1)
			byService[g.Service] = rm
			order = append(order, g.Service)
		}
		m := metric{Name: g.Name, Unit: g.Unit, Description: g.Description}
		p := point{TimeUnixNano: strconv.FormatInt(g.TimeUnixMs*1e6, 10), AsDouble: g.Value}
		for k, v := range g.Attributes {
			p.Attributes = append(p.Attributes, kv{Key: k, Value: map[string]string{"stringValue": v}})
		}
		m.Gauge.DataPoints = []point{p}
		rm.ScopeMetrics[0].Metrics = append(rm.ScopeMetrics[0].Metrics, m)
	}
	req := struct {
		ResourceMetrics []*resourceMetrics `json:"resourceMetrics"`
	}{}
	for _, s := range order {
		req.ResourceMetrics = append(req.ResourceMetrics, byService[s])
	}
	return json.Marshal(req)
}

// simulateCmd is `stratus simulate`.
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := simulateConfig{Interval: 5 * time.Second, Scenario: sim.DefaultConfig()}
	fs := flag.NewFlagSet("stratus simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Target, "target", "http://127.0.0.1:7101", "base URL of the Stratus to push to")
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "time between two pushes")
	fs.DurationVar(&cfg.Duration, "duration", 0, "stop after this long (0: until interrupted)")
	fs.DurationVar(&cfg.Scenario.IncidentEvery, "incident-every", cfg.Scenario.IncidentEvery, "time between the starts of two scripted incidents")
	fs.DurationVar(&cfg.Scenario.IncidentLength, "incident-length", cfg.Scenario.IncidentLength, "how long each incident lasts")
	fs.IntVar(&cfg.Scenario.Services, "services", cfg.Scenario.Services, "number of simulated microservices")
	countries := fs.String("countries", strings.Join(cfg.Scenario.Countries, ","), "countries being migrated, comma-separated")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	cfg.Scenario.Countries = strings.Split(*countries, ",")
	if cfg.Interval <= 0 {
		return fmt.Errorf("--interval %v: must be positive", cfg.Interval)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	fmt.Fprintf(stdout, "Simulating %d countries and %d services against %s every %v\n", len(cfg.Scenario.Countries), cfg.Scenario.Services, cfg.Target, cfg.Interval)
	return newSimulator(cfg, logger).run(ctx)
}
