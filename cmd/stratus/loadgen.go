package main

// stratus loadgen: a remote-write 1.0 load generator, so that the ingest
// path can be measured against Stratus and its peers (VictoriaMetrics,
// Prometheus) with the same client and the same data.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/stratus-metrics/stratus/internal/datagen"
	"github.com/stratus-metrics/stratus/model"
)

// loadgenConfig is what one load run does. Zero Duration or zero Requests
// means that bound is off, but one of them must be set: every run ends on
// its own.
type loadgenConfig struct {
	// Target is the remote-write URL, e.g. http://127.0.0.1:7101/api/v1/write.
	Target string
	// Series is the number of active series, taken from datagen.Series.
	Series int
	// SeriesPerRequest is how many series (one sample each) a request
	// carries; Prometheus' own remote write sends one sample per series
	// per request in the same way.
	SeriesPerRequest int
	// Concurrency is the number of senders; each owns a disjoint share of
	// the series, so that every series' timestamps increase.
	Concurrency int
	// Duration bounds the run in time, Requests in count.
	Duration time.Duration
	Requests int
	// Timeout bounds one request.
	Timeout time.Duration
}

// defaultLoadgenConfig is the documented workload of BENCHMARKS.md: 100k
// node_exporter-like series, 5k per request, 4 senders, 60 seconds.
func defaultLoadgenConfig() loadgenConfig {
	return loadgenConfig{
		Target:           "http://127.0.0.1:7101/api/v1/write",
		Series:           100_000,
		SeriesPerRequest: 5_000,
		Concurrency:      4,
		Duration:         60 * time.Second,
		Timeout:          30 * time.Second,
	}
}

// validate reports every setting that would make the run meaningless or
// unbounded.
func (c loadgenConfig) validate() error {
	var errs []error
	u, err := url.Parse(c.Target)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("--target %q: %w", c.Target, err))
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		errs = append(errs, fmt.Errorf("--target %q: want an http(s) URL such as http://127.0.0.1:7101/api/v1/write", c.Target))
	}
	if c.Series <= 0 {
		errs = append(errs, fmt.Errorf("--series %d: must be positive", c.Series))
	}
	if c.SeriesPerRequest <= 0 {
		errs = append(errs, fmt.Errorf("--series-per-request %d: must be positive", c.SeriesPerRequest))
	}
	if c.Concurrency <= 0 {
		errs = append(errs, fmt.Errorf("--concurrency %d: must be positive", c.Concurrency))
	}
	if c.Duration < 0 || c.Requests < 0 {
		errs = append(errs, fmt.Errorf("--duration %v and --requests %d: must not be negative", c.Duration, c.Requests))
	}
	if c.Duration == 0 && c.Requests == 0 {
		errs = append(errs, errors.New("--duration and --requests are both 0: set at least one so the run ends"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %v: must be positive", c.Timeout))
	}
	return errors.Join(errs...)
}

// loadgenResult is what a run measured. Only requests answered 2xx count
// as accepted: a 400 may have stored part of its samples, but the client
// cannot tell how many.
type loadgenResult struct {
	Requests        int64         // requests sent, answered or not
	Errors          int64         // transport errors and non-2xx answers
	SamplesSent     int64         // samples in all requests sent
	SamplesAccepted int64         // samples in requests answered 2xx
	Elapsed         time.Duration // from the first request to the last answer
	P50, P99, Max   time.Duration // latency of answered requests
	FirstError      string        // the first error, to say what went wrong
}

// SamplesPerSecond is the accepted-sample rate of the run.
func (r loadgenResult) SamplesPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.SamplesAccepted) / r.Elapsed.Seconds()
}

// format writes the result as key=value pairs, one group per line, so that
// scripts can pick a figure with grep and people can still read it.
func (r loadgenResult) format(w io.Writer) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "requests=%d errors=%d samples_sent=%d samples_accepted=%d elapsed_s=%.2f\n",
		r.Requests, r.Errors, r.SamplesSent, r.SamplesAccepted, r.Elapsed.Seconds())
	fmt.Fprintf(w, "accepted_samples_per_sec=%.0f latency_p50_ms=%s latency_p99_ms=%s latency_max_ms=%s\n",
		r.SamplesPerSecond(), ms(r.P50), ms(r.P99), ms(r.Max))
	if r.FirstError != "" {
		fmt.Fprintf(w, "first_error=%q\n", r.FirstError)
	}
}

// valueBlock is how many rounds of values a chunk generates at a time: it
// bounds the generator's memory (Series x valueBlock float64s) while keeping
// datagen's per-series set-up cost off the per-request path.
const valueBlock = 32

// valueInterval is the simulated scrape interval datagen shapes counter
// increments and gauge walks with.
const valueInterval = 15_000

// loadChunk is the series of one request: their encoded labels, generated
// once, and a block of upcoming values per series.
type loadChunk struct {
	first  int      // index of the first series in datagen.Series
	labels [][]byte // protobuf Label fields of each series, ready to copy
	series []model.Labels
	values []float64 // values[i*valueBlock+k]: series i, round k of the block
	block  int       // which block values holds; -1 before the first
	round  int       // rounds of this chunk sent so far
}

// newLoadChunks splits datagen.Series(n) into requests of perRequest series.
func newLoadChunks(n, perRequest int) []*loadChunk {
	all := datagen.Series(n)
	var chunks []*loadChunk
	for first := 0; first < n; first += perRequest {
		c := &loadChunk{first: first, series: all[first:min(first+perRequest, n)], block: -1}
		c.labels = make([][]byte, len(c.series))
		for i, ls := range c.series {
			c.labels[i] = appendRWLabels(nil, ls)
		}
		chunks = append(chunks, c)
	}
	return chunks
}

// loadValue returns the value series first+i sends in the given round. It
// is a pure function of (series, round), so tests can check what a server
// stored. Values come from datagen in blocks of valueBlock rounds; each
// block starts datagen afresh, so counters jump (up or down) at block
// boundaries, like a target restarting every valueBlock scrapes.
func loadValue(ls model.Labels, seriesIdx, round int) float64 {
	block := round / valueBlock
	s := datagen.Samples(ls, seriesIdx, int64(block)*valueBlock*valueInterval, valueInterval, valueBlock)
	return s[round%valueBlock].V
}

// fillValues makes c.values hold the block of c.round, reusing scratch.
func (c *loadChunk) fillValues(scratch []model.Sample) []model.Sample {
	block := c.round / valueBlock
	if block == c.block {
		return scratch
	}
	if c.values == nil {
		c.values = make([]float64, len(c.series)*valueBlock)
	}
	start := int64(block) * valueBlock * valueInterval
	for i, ls := range c.series {
		scratch = datagen.AppendSamples(scratch[:0], ls, c.first+i, start, valueInterval, valueBlock)
		for k, s := range scratch {
			c.values[i*valueBlock+k] = s.V
		}
	}
	c.block = block
	return scratch
}

// appendWriteRequest appends the uncompressed remote-write 1.0
// WriteRequest of the chunk's current round at timestamp ts (ms) to dst.
// A zero value is left out, as Prometheus' generated encoder does.
func (c *loadChunk) appendWriteRequest(dst []byte, ts int64) []byte {
	k := c.round % valueBlock
	for i, lb := range c.labels {
		v := c.values[i*valueBlock+k]
		sampleSize := protowire.SizeTag(2) + protowire.SizeVarint(uint64(ts))
		if v != 0 {
			sampleSize += protowire.SizeTag(1) + protowire.SizeFixed64()
		}
		seriesSize := len(lb) + protowire.SizeTag(2) + protowire.SizeBytes(sampleSize)
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(seriesSize))
		dst = append(dst, lb...)
		dst = protowire.AppendTag(dst, 2, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(sampleSize))
		if v != 0 {
			dst = protowire.AppendTag(dst, 1, protowire.Fixed64Type)
			dst = protowire.AppendFixed64(dst, math.Float64bits(v))
		}
		dst = protowire.AppendTag(dst, 2, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(ts))
	}
	return dst
}

// loadgen runs the load described by cfg until a bound is reached or ctx
// ends, and returns what it measured. progress, if not nil, gets a line
// every few seconds.
func loadgen(ctx context.Context, cfg loadgenConfig, progress io.Writer) (loadgenResult, error) {
	if err := cfg.validate(); err != nil {
		return loadgenResult{}, err
	}
	chunks := newLoadChunks(cfg.Series, cfg.SeriesPerRequest)
	senders := min(cfg.Concurrency, len(chunks))
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: senders,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout}

	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var (
		claimed                  atomic.Int64 // request slots taken, for --requests
		sent, accepted, failures atomic.Int64
		firstErr                 atomic.Pointer[string]
		latencies                = make([][]time.Duration, senders)
		wg                       sync.WaitGroup
	)
	recordErr := func(msg string) {
		failures.Add(1)
		firstErr.CompareAndSwap(nil, &msg)
	}
	start := time.Now()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if progress == nil {
			return
		}
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-tick.C:
				el := time.Since(start).Seconds()
				fmt.Fprintf(progress, "loadgen: %.0fs: %d requests, %d errors, %.0f accepted samples/s\n",
					el, claimed.Load(), failures.Load(), float64(accepted.Load())/el)
			}
		}
	}()
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var own []*loadChunk
			for i := w; i < len(chunks); i += senders {
				own = append(own, chunks[i])
			}
			var (
				raw, body []byte
				scratch   []model.Sample
				lastTS    int64
			)
			for ctx.Err() == nil {
				// One round: every series of this sender gets one sample at
				// the same timestamp, as one scrape would give them. The
				// timestamp follows the wall clock but always increases, so
				// no server sees an out-of-order sample.
				ts := max(time.Now().UnixMilli(), lastTS+1)
				lastTS = ts
				for _, c := range own {
					if ctx.Err() != nil {
						return
					}
					if cfg.Requests > 0 && claimed.Add(1) > int64(cfg.Requests) {
						return
					} else if cfg.Requests == 0 {
						claimed.Add(1)
					}
					scratch = c.fillValues(scratch)
					raw = c.appendWriteRequest(raw[:0], ts)
					body = snappy.Encode(body[:cap(body)], raw)
					c.round++
					n := int64(len(c.series))
					sent.Add(n)
					t0 := time.Now()
					err := postRemoteWrite(ctx, client, cfg.Target, body)
					if err != nil {
						if ctx.Err() != nil {
							// The run's own end cut this request short: it is
							// neither an error of the target nor a sample sent.
							claimed.Add(-1)
							sent.Add(-n)
							return
						}
						recordErr(err.Error())
						// Do not spin against a target that refuses
						// connections; the bounds still end the run.
						select {
						case <-ctx.Done():
						case <-time.After(20 * time.Millisecond):
						}
						continue
					}
					latencies[w] = append(latencies[w], time.Since(t0))
					accepted.Add(n)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopProgress)
	<-progressDone

	res := loadgenResult{
		Errors:          failures.Load(),
		SamplesSent:     sent.Load(),
		SamplesAccepted: accepted.Load(),
		Elapsed:         elapsed,
	}
	// Senders that found the --requests budget spent took a slot too.
	res.Requests = claimed.Load()
	if cfg.Requests > 0 {
		res.Requests = min(res.Requests, int64(cfg.Requests))
	}
	if p := firstErr.Load(); p != nil {
		res.FirstError = *p
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) > 0 {
		res.P50 = all[(len(all)-1)*50/100]
		res.P99 = all[(len(all)-1)*99/100]
		res.Max = all[len(all)-1]
	}
	return res, nil
}

// postRemoteWrite sends one snappy-compressed WriteRequest the way
// Prometheus does. A non-2xx answer is an error naming the status and the
// start of the body, which is where servers say what they rejected.
func postRemoteWrite(ctx context.Context, client *http.Client, target string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request to %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	req.Header.Set("User-Agent", "stratus-loadgen/"+readBuildInfo().Version)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, resp.Body)
	return fmt.Errorf("POST %s: %s: %s", target, resp.Status, bytes.TrimSpace(msg))
}

// loadgenCmd is `stratus loadgen`: flags into a loadgenConfig, one run,
// the result on stdout. A run with errors exits non-zero, so a script
// cannot mistake a broken target for a fast one.
func loadgenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultLoadgenConfig()
	fs := flag.NewFlagSet("stratus loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Target, "target", cfg.Target, "remote-write 1.0 URL to push to")
	fs.IntVar(&cfg.Series, "series", cfg.Series, "active series (node_exporter-like, from internal/datagen)")
	fs.IntVar(&cfg.SeriesPerRequest, "series-per-request", cfg.SeriesPerRequest, "series per request, one sample each")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "concurrent senders")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "stop after this long (0: no time bound)")
	fs.IntVar(&cfg.Requests, "requests", cfg.Requests, "stop after this many requests (0: no count bound)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "timeout of one request")
	quiet := fs.Bool("quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stratus loadgen: unexpected arguments %q\n", fs.Args())
		return errUsage
	}
	progress := stderr
	if *quiet {
		progress = nil
	}
	fmt.Fprintf(stdout, "target=%s series=%d series_per_request=%d concurrency=%d duration=%v requests=%d\n",
		cfg.Target, cfg.Series, cfg.SeriesPerRequest, cfg.Concurrency, cfg.Duration, cfg.Requests)
	res, err := loadgen(ctx, cfg, progress)
	if err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	res.format(stdout)
	if res.Errors > 0 {
		return fmt.Errorf("loadgen: %d of %d requests failed; first: %s", res.Errors, res.Requests, res.FirstError)
	}
	return nil
}
